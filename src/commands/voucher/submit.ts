import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { UsageError } from '../../core/errors.js'
import { channelArg, readVoucher, secretFlag } from '../../cli/voucher.js'

export default class VoucherSubmit extends BaseCommand<typeof VoucherSubmit> {
  static override summary = 'Redeem vouchers on chain (payee): the given one, or the best of each lane.'
  static override description =
    'Idempotent: a voucher already redeemed (on chain, or by the close of its channel) is reported as such and exits 0; ' +
    'nothing is sent twice. The channel stays open; `close` redeems and collects at once. A hash-locked voucher needs ' +
    '--secret <hex> (its preimage); without it, or with a wrong one, it is refused (exit 2) before any gas is spent.'
  static override examples = ['<%= config.bin %> voucher submit 0x3f2a', '<%= config.bin %> voucher submit 0x3f2a eyJj… --json', '<%= config.bin %> voucher submit 0x3f2a eyJj… --secret 0x6869']
  static override flags = { secret: secretFlag }
  static override args = { channel: channelArg, voucher: Args.string({ description: 'Encoded voucher (default: the best stored per lane).' }) }

  async run() {
    const { args, flags } = await this.parse(VoucherSubmit)
    if (flags.secret !== undefined && !args.voucher) throw new UsageError('--secret goes with the hash-locked voucher it opens: `channels voucher submit <channel> <voucher> --secret <hex>`.')
    const v = args.voucher ? readVoucher(args.voucher, this.channelFamily.kind) : undefined
    const r = await (await this.scheme()).redeem(args.channel, v, flags.secret)
    for (const a of r.alreadyRedeemed) {
      if (a.nonce === undefined) this.log(`Already redeemed: channel ${r.channelId.slice(0, 18)} was closed in ${a.transaction}; the payee received ${this.amount(r.redeemed, r.asset)}.`)
      else this.log(`Already redeemed: lane ${a.lane} nonce ${a.nonce}${a.transaction ? ` (in ${a.transaction})` : ''}.`)
    }
    if (r.transactions.length) this.log(`Submitted in ${r.transactions.join(', ')}.`)
    // A channel closed as a whole (Bitcoin) was named with its amount above.
    if (r.transactions.length || r.alreadyRedeemed.every((a) => a.nonce !== undefined)) this.log(`Redeemed on chain: ${this.amount(r.redeemed, r.asset)}.`)
    return {
      transactions: r.transactions, redeemed: r.redeemed.toString(),
      alreadyRedeemed: r.alreadyRedeemed.map((a) => ({ lane: a.lane.toString(), ...(a.nonce === undefined ? {} : { nonce: a.nonce.toString() }), transaction: a.transaction ?? null })),
    }
  }
}
