import { Args } from '@oclif/core'
import { UsageError } from '../../core/errors.js'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, readVoucher, resolveChannel } from '../../cli/voucher.js'
import { submitVouchers } from '../../families/evm/operations.js'

export default class VoucherSubmit extends BaseCommand<typeof VoucherSubmit> {
  static override summary = 'Redeem vouchers on chain (payee): the given one, or the best of each lane.'
  static override description =
    'Idempotent: a voucher already redeemed (on chain, or by the close of its channel) is reported as such and exits 0; ' +
    'nothing is sent twice. The channel stays open; `close` redeems and collects at once.'
  static override examples = ['<%= config.bin %> voucher submit 0x3f2a', '<%= config.bin %> voucher submit 0x3f2a eyJj… --json']
  static override args = { channel: channelArg, voucher: Args.string({ description: 'Encoded voucher (default: the best stored per lane).' }) }

  async run() {
    const { args } = await this.parse(VoucherSubmit)
    if (this.isBitcoin) {
      if (args.voucher) throw new UsageError('On a Bitcoin channel the payee broadcasts its best stored payment: run `channels voucher submit <channel>` without a voucher (or `channels close`).')
      const b = await this.bitcoin()
      const c = b.channel(args.channel)
      if (c.state === 'closed' && c.closeTx && c.direction === 'inbound') {
        this.log(`Already redeemed: channel ${c.id.slice(0, 18)} was closed in ${c.closeTx}; the payee received ${this.amount(c.redeemed, 'sat')}.`)
        return { transactions: [], redeemed: c.redeemed.toString(), alreadyRedeemed: [{ lane: '0', transaction: c.closeTx }] }
      }
      const r = await b.closeAsPayee(c)
      this.log(`Submitted in ${r.tx.hash}; the payee receives ${this.amount(r.redeemed, 'sat')}.`)
      return { transactions: [r.tx.hash], redeemed: r.redeemed.toString() }
    }
    const m = await this.manager()
    const v = args.voucher ? readVoucher(args.voucher) : undefined
    const c = v ? await resolveChannel(m, args.channel, v) : m.channel(args.channel)
    const r = await submitVouchers(m, c, v)
    for (const a of r.alreadyRedeemed) this.log(`Already redeemed: lane ${a.lane} nonce ${a.nonce}${a.tx ? ` (in ${a.tx})` : ''}.`)
    if (r.txs.length) this.log(`Submitted in ${r.txs.join(', ')}.`)
    this.log(`Redeemed on chain: ${this.amount(r.redeemed, c.asset)}.`)
    return {
      transactions: r.txs, redeemed: r.redeemed.toString(),
      alreadyRedeemed: r.alreadyRedeemed.map((a) => ({ lane: a.lane.toString(), nonce: a.nonce.toString(), transaction: a.tx ?? null })),
    }
  }
}
