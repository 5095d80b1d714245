import { Args } from '@oclif/core'
import { UsageError } from '../../core/errors.js'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, readVoucher, resolveChannel } from '../../cli/voucher.js'
import { submitVouchers } from '../../core/channel/operations.js'

export default class VoucherSubmit extends BaseCommand<typeof VoucherSubmit> {
  static override summary = 'Redeem vouchers on chain (payee): the given one, or the best of each lane.'
  static override description = 'Idempotent: a voucher already redeemed is skipped. The channel stays open; `close` redeems and collects at once.'
  static override examples = ['<%= config.bin %> voucher submit 0x3f2a', '<%= config.bin %> voucher submit 0x3f2a eyJj… --json']
  static override args = { channel: channelArg, voucher: Args.string({ description: 'Encoded voucher (default: the best stored per lane).' }) }

  async run() {
    const { args } = await this.parse(VoucherSubmit)
    if (this.isBitcoin) {
      if (args.voucher) throw new UsageError('On a Bitcoin channel the payee broadcasts its best stored payment: run `channels voucher submit <channel>` without a voucher (or `channels close`).')
      const b = await this.bitcoin()
      const r = await b.closeAsPayee(b.channel(args.channel))
      this.log(`Submitted in ${r.tx.hash}; the payee receives ${this.amount(r.redeemed, 'sat')}.`)
      return { transactions: [r.tx.hash], redeemed: r.redeemed.toString() }
    }
    const m = await this.manager()
    const v = args.voucher ? readVoucher(args.voucher) : undefined
    const c = v ? await resolveChannel(m, args.channel, v) : m.channel(args.channel)
    const r = await submitVouchers(m, c, v)
    this.log(r.txs.length ? `Submitted in ${r.txs.join(', ')}; redeemed on chain: ${this.amount(r.redeemed, c.asset)}.` : `Nothing new to submit; redeemed on chain: ${this.amount(r.redeemed, c.asset)}.`)
    return { transactions: r.txs, redeemed: r.redeemed.toString() }
  }
}
