import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { parseAmount, shortHex } from '../core/units.js'
import { encodeVoucher, anyVoucherToWire } from '../core/channel/voucher.js'
import { UsageError } from '../core/errors.js'

export default class Pay extends BaseCommand<typeof Pay> {
  static override summary = 'Pay <amount> more on a channel: sign the next voucher, deliver or print it.'
  static override description =
    'Creates the next voucher on the channel (cumulative amount = previous + <amount>), commits it to the database, ' +
    'then delivers it to the merchant endpoint bound to the channel, or prints it (--no-deliver, or no endpoint). ' +
    'Concurrent `channels pay` processes on one channel never reuse a nonce nor exceed the deposit. ' +
    '<channel|url> is a channel id (prefix) or the URL of a merchant whose endpoint a channel is bound to.'
  static override examples = [
    '<%= config.bin %> pay 0x3f2a 1000',
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
  }

  async run() {
    const { args, flags } = await this.parse(Pay)
    const delta = parseAmount(args.amount, 'amount', this.assetOf())
    if (delta === 0n) throw new UsageError('The amount must be above zero.')
    const s = await this.scheme()
    const { channel: c, voucher: v, paid, delivered, charged } = await s.pay(args.target, delta, { lane: BigInt(flags.lane), deliver: flags.deliver })
    const token = encodeVoucher(v)
    if (delivered) this.log(`Paid ${this.amount(paid, c.asset)} on ${shortHex(c.id)} (lane ${v.lane}, nonce ${v.nonce}, total ${this.amount(v.amount, c.asset)}); delivered.`)
    else this.log(token)
    return { channelId: c.id, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString(), paid: paid.toString(), delivered, charged: charged?.toString(), voucher: anyVoucherToWire(v), encoded: token }
  }
}
