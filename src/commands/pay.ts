import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { parseAmount, shortHex } from '../core/units.js'
import { encodeVoucher, anyVoucherToWire } from '../core/channel/voucher.js'
import { UsageError } from '../core/errors.js'
import { toJson, type ChannelScheme } from '../core/scheme/index.js'

export default class Pay extends BaseCommand<typeof Pay> {
  static override summary = 'Pay <amount> more on a channel: sign the next voucher, deliver or print it.'
  static override description =
    'Creates the next voucher on the channel (cumulative amount = previous + <amount>), commits it to the database, ' +
    'then delivers it to the merchant endpoint bound to the channel, or prints it (--no-deliver, or no endpoint). ' +
    'Concurrent `channels pay` processes on one channel never reuse a nonce nor exceed the deposit. ' +
    '<channel|url> is a channel id (prefix) or the URL of a merchant whose endpoint a channel is bound to.'
  static override examples = [
    '<%= config.bin %> pay 0x3f2a 1000',
    '<%= config.bin %> pay --via http://127.0.0.1:4030 0x9a1C…e2 1000   # through a hub to an address; prints the secret (proof of payment)',
    '<%= config.bin %> pay http://127.0.0.1:4021 0.001eth --json',
    '<%= config.bin %> pay 0x3f2a 50 --no-deliver   # prints the encoded voucher',
  ]
  static override args = {
    target: Args.string({ required: true, description: 'Channel id or unique prefix, or a merchant URL (the newest open channel bound to its origin).' }),
    amount: Args.string({ required: true, description: 'Amount to add (e.g. 1000 or 0.001eth).' }),
  }
  static override flags = {
    lane: Flags.integer({ summary: 'Lane to pay on.', default: 0, min: 0 }),
    deliver: Flags.boolean({ summary: 'Deliver to the bound endpoint (default when one is bound).', default: true, allowNo: true }),
    via: Flags.string({ summary: 'Pay <target> (a payee address) through the hub at this URL, over this wallet\'s channel to the hub.' }),
    'payee-pubkey': Flags.string({ summary: 'With --via: the payee\'s public key (0x hex); default: asked of the hub, checked against the address.', dependsOn: ['via'] }),
    'max-fee': Flags.string({ summary: 'With --via: refuse a hub fee above this.', dependsOn: ['via'] }),
    'lock-for': Flags.integer({ summary: 'With --via: seconds until the payment\'s lock ends (default: the hub\'s minimum + margin + 120).', min: 1, dependsOn: ['via'] }),
  }

  async run() {
    const { args, flags } = await this.parse(Pay)
    const delta = flags.via ? parseAmount(args.amount, 'amount', this.assetOf()) : this.channelAmount(args.target, args.amount, 'amount')
    if (delta === 0n) throw new UsageError('The amount must be above zero.')
    const s = await this.scheme()
    if (flags.via) return this.payVia(s, flags.via, args.target, delta, flags)
    const { channel: c, voucher: v, paid, delivered, charged } = await s.pay(args.target, delta, { lane: BigInt(flags.lane), deliver: flags.deliver })
    const token = encodeVoucher(v)
    if (delivered) this.log(`Paid ${this.amount(paid, c.asset)} on ${shortHex(c.id)} (lane ${v.lane}, nonce ${v.nonce}, total ${this.amount(v.amount, c.asset)}); delivered.`)
    else this.log(token)
    return { channelId: c.id, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString(), paid: paid.toString(), delivered, charged: charged?.toString(), voucher: anyVoucherToWire(v), encoded: token }
  }

  /** `--via`: one hash-time-locked payment through a hub (DESIGN §11). */
  private async payVia(s: ChannelScheme, via: string, payee: string, amount: bigint, flags: { 'payee-pubkey'?: string; 'max-fee'?: string; 'lock-for'?: number }) {
    if (!s.locks) throw new UsageError(s.unsupported('hub'))
    const maxFee = flags['max-fee'] ? parseAmount(flags['max-fee'], '--max-fee', this.assetOf()) : undefined
    const r = await s.locks.payVia(via, payee, amount, { payeePubkey: flags['payee-pubkey'], maxFee, lockSeconds: flags['lock-for'] })
    this.log(`Paid ${this.amount(r.amount, r.asset)} to ${r.payee} through ${r.hub} (fee ${this.amount(r.fee, r.asset)}, channel ${shortHex(r.channelId)} lane ${r.lane})${r.unlocked ? '' : '; the hub has not taken the unconditional voucher yet (`channels sync` retries)'}.`)
    this.log(`Proof of payment (secret): ${r.secret}`)
    return { ...toJson(r), lane: r.lane.toString() }
  }
}
