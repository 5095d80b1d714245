import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { closeChannel } from '../core/http402/cooperative.js'
import { amount } from '../cli/render.js'

export default class Close extends BaseCommand<typeof Close> {
  static override summary = 'Close a channel: the payee redeems its best voucher and the rest is refunded, in one transaction.'
  static override description =
    'Run by the payee: redeems the best voucher and collects at once. Run by the payer: asks the merchant endpoint bound ' +
    'to the channel to do that (a signed request), checks the result on chain, and if the merchant cannot, starts the ' +
    'settlement period instead (then `channels collect` after it ends).\n\n' +
    'On a Bitcoin channel the payee countersigns the best payment and broadcasts it. The payer asks the merchant to do ' +
    'that (a request signed with its channel key), checks the transaction on its node and prints what each side got; ' +
    'if the merchant refuses or cannot be reached, exit 8 says why and when the refund can be collected.'
  static override examples = ['<%= config.bin %> close 0x3f2a', '<%= config.bin %> close 0x3f2a --json']
  static override args = { channel: Args.string({ required: true, description: 'Channel id or unique prefix.' }) }

  async run() {
    const { args } = await this.parse(Close)
    if (this.isBitcoin) {
      const b = await this.bitcoin()
      const c = b.channel(args.channel)
      if (c.direction === 'outbound') {
        const { requestBitcoinClose } = await import('../core/http402/bitcoin-close.js')
        const r = await requestBitcoinClose(b, c, (s) => this.progress(s))
        this.log(`Closed ${c.id} (tx ${r.transaction}) at your request: ${r.paidToPayee} sat to the payee, ${r.refundedToPayer} sat back to you, fee ${r.fee} sat.`)
        return {
          channelId: c.id, result: r.result, transaction: r.transaction,
          paidToPayee: r.paidToPayee.toString(), refundedToPayer: r.refundedToPayer.toString(), fee: r.fee.toString(),
        }
      }
      const r = await b.closeAsPayee(c)
      this.log(`Closed ${c.id} (tx ${r.tx.hash}): ${r.redeemed} sat to the payee, ${c.deposit - r.redeemed - r.tx.fee} sat back to the payer, fee ${r.tx.fee} sat.`)
      return { channelId: c.id, result: 'closed', transaction: r.tx.hash, paidToPayee: r.redeemed.toString(), refundedToPayer: (c.deposit - r.redeemed - r.tx.fee).toString(), fee: r.tx.fee.toString() }
    }
    const m = await this.manager()
    const c = m.channel(args.channel)
    const r = await closeChannel(m, c, (s) => this.progress(s))
    if (r.result === 'closed') {
      this.log(`Closed ${c.id} (tx ${r.transaction}).`)
      this.log(`  paid to payee ${amount(r.paidToPayee ?? 0n, c.asset)}, refunded to payer ${amount(r.refundedToPayer ?? 0n, c.asset)}`)
    } else {
      this.log(`Could not close cooperatively (${r.fallbackReason}); settling instead (tx ${r.transaction}).`)
      this.log(`  Collect after ${new Date((r.settleAt ?? 0) * 1000).toISOString()} with \`channels collect ${c.id.slice(0, 10)}\`.`)
    }
    return {
      channelId: r.channelId, result: r.result, transaction: r.transaction,
      paidToPayee: r.paidToPayee?.toString(), refundedToPayer: r.refundedToPayer?.toString(), settleAt: r.settleAt, fallbackReason: r.fallbackReason,
    }
  }
}
