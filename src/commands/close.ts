import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { toJson, type CloseResult } from '../core/scheme/index.js'

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
    const s = await this.scheme()
    const r = await s.close(args.channel, (line) => this.progress(line))
    const amount = (v: bigint | undefined) => this.amount(v ?? 0n, r.asset)
    if (r.result !== 'closed') {
      const left = Math.max(0, (r.settleAt ?? 0) - Math.floor(Date.now() / 1000))
      this.log(`The merchant did not close the channel: ${r.fallbackReason}.`)
      this.log(`Fell back to a settle (tx ${r.transaction}): the merchant can still redeem its vouchers until the settle time;`)
      this.log(`  collect what is left after ${new Date((r.settleAt ?? 0) * 1000).toISOString()} (in about ${duration(left)}) with \`channels collect ${r.channelId.slice(0, 10)}\`.`)
    } else if (r.fee === undefined) {
      this.log(`Closed ${r.channelId} (tx ${r.transaction}).`)
      this.log(`  paid to payee ${amount(r.paidToPayee)}, refunded to payer ${amount(r.refundedToPayer)}`)
    } else if (r.by === 'requested') {
      this.log(`Closed ${r.channelId} (tx ${r.transaction}) at your request: ${amount(r.paidToPayee)} to the payee, ${amount(r.refundedToPayer)} back to you, fee ${amount(r.fee)}.`)
    } else {
      this.log(`Closed ${r.channelId} (tx ${r.transaction}): ${amount(r.paidToPayee)} to the payee, ${amount(r.refundedToPayer)} back to the payer, fee ${amount(r.fee)}.`)
    }
    return closeJson(r)
  }
}

/** Seconds as a rough human duration ("2 h 5 min", "45 s"). */
function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  const minutes = Math.round(seconds / 60)
  const h = Math.floor(minutes / 60)
  return h ? `${h} h${minutes % 60 ? ` ${minutes % 60} min` : ''}` : `${minutes} min`
}

/** `close --json`: the result with amounts as decimal strings (no `asset`, no `by`). */
function closeJson(r: CloseResult) {
  const { asset: _asset, by: _by, ...rest } = r
  return toJson(rest)
}
