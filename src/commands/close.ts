import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { closeChannel } from '../families/evm/cooperative.js'

export default class Close extends BaseCommand<typeof Close> {
  static override summary = 'Close a channel: the payee redeems its best voucher and the rest is refunded, in one transaction.'
  static override description =
    'Run by the payee: redeems the best voucher and collects at once. Run by the payer: asks the merchant endpoint bound ' +
    'to the channel to do that (a signed request), checks the result on chain, and if the merchant cannot, starts the ' +
    'settlement period instead (then `channels collect` after it ends).\n\n' +
    'On a Bitcoin channel the payee countersigns the best payment and broadcasts it. The payer asks the merchant to do ' +
    'that (a request signed with its channel key), checks the transaction on its node and prints what each side got; ' +
    'if the merchant refuses or cannot be reached, exit 8 says why and when the refund can be collected.'
  static override examples = ['<%= config.bin %> close 0x3f2a', '<%= config.bin %> close http://127.0.0.1:4021', '<%= config.bin %> close 0x3f2a --json']
  static override args = { channel: Args.string({ required: true, description: 'Channel id or unique prefix, or a merchant URL (the newest open channel bound to its origin).' }) }

  async run() {
    const { args } = await this.parse(Close)
    if (this.isBitcoin) {
      const b = await this.bitcoin()
      const c = b.resolve(args.channel)
      if (c.direction === 'outbound') {
        const { requestBitcoinClose } = await import('../families/bitcoin/cooperative.js')
        const r = await requestBitcoinClose(b, c, (s) => this.progress(s))
        this.log(`Closed ${c.id} (tx ${r.transaction}) at your request: ${this.amount(r.paidToPayee, c.asset)} to the payee, ${this.amount(r.refundedToPayer, c.asset)} back to you, fee ${this.amount(r.fee, c.asset)}.`)
        return {
          channelId: c.id, result: r.result, transaction: r.transaction,
          paidToPayee: r.paidToPayee.toString(), refundedToPayer: r.refundedToPayer.toString(), fee: r.fee.toString(),
        }
      }
      const r = await b.closeAsPayee(c)
      this.log(`Closed ${c.id} (tx ${r.tx.hash}): ${this.amount(r.redeemed, c.asset)} to the payee, ${this.amount(c.deposit - r.redeemed - r.tx.fee, c.asset)} back to the payer, fee ${this.amount(r.tx.fee, c.asset)}.`)
      return { channelId: c.id, result: 'closed', transaction: r.tx.hash, paidToPayee: r.redeemed.toString(), refundedToPayer: (c.deposit - r.redeemed - r.tx.fee).toString(), fee: r.tx.fee.toString() }
    }
    const m = await this.manager()
    const c = m.resolve(args.channel)
    const r = await closeChannel(m, c, (s) => this.progress(s))
    if (r.result === 'closed') {
      this.log(`Closed ${c.id} (tx ${r.transaction}).`)
      this.log(`  paid to payee ${this.amount(r.paidToPayee ?? 0n, c.asset)}, refunded to payer ${this.amount(r.refundedToPayer ?? 0n, c.asset)}`)
    } else {
      const left = Math.max(0, (r.settleAt ?? 0) - Math.floor(Date.now() / 1000))
      this.log(`The merchant did not close the channel: ${r.fallbackReason}.`)
      this.log(`Fell back to a settle (tx ${r.transaction}): the merchant can still redeem its vouchers until the settle time;`)
      this.log(`  collect what is left after ${new Date((r.settleAt ?? 0) * 1000).toISOString()} (in about ${duration(left)}) with \`channels collect ${c.id.slice(0, 10)}\`.`)
    }
    return {
      channelId: r.channelId, result: r.result, transaction: r.transaction,
      paidToPayee: r.paidToPayee?.toString(), refundedToPayer: r.refundedToPayer?.toString(), settleAt: r.settleAt, fallbackReason: r.fallbackReason,
    }
  }
}

/** Seconds as a rough human duration ("2 h 5 min", "45 s"). */
function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  const minutes = Math.round(seconds / 60)
  const h = Math.floor(minutes / 60)
  return h ? `${h} h${minutes % 60 ? ` ${minutes % 60} min` : ''}` : `${minutes} min`
}
