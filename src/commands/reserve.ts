import { Args } from '@oclif/core'
import { UsageError } from '../core/errors.js'
import { BaseCommand, channelArg } from '../cli/base.js'
import { toJson } from '../core/scheme/index.js'

export default class Reserve extends BaseCommand<typeof Reserve> {
  static override summary = 'Set funds aside on an outbound channel for payments to come; top it up without waiting.'
  static override description =
    'The manager seed\'s ReserveFunds (Lotus FundManager). The amount is added to the channel\'s `reserved`: payments made ' +
    'without the reservation may use only `available = confirmed − spent − reserved`, and `voucher create --reserved` pays ' +
    'out of it. When the channel lacks funds, a top-up deposit is sent at once and its hash printed — the command never ' +
    'waits for a block; while a deposit is pending, every further top-up is queued and all of it goes in ONE next deposit ' +
    '(sent by the next `reserve`, `sync` or `fund` after the pending one is mined). Automatic top-ups are in the native ' +
    'coin; a token channel, or a Bitcoin channel (fixed deposit), exits 5 with the shortfall when it lacks the amount.'
  static override examples = [
    '<%= config.bin %> reserve 0x3f2a 0.01eth',
    '<%= config.bin %> reserve 0x3f2a 5000 --json',
  ]
  static override args = {
    channel: channelArg,
    amount: Args.string({ required: true, description: 'Amount to set aside (e.g. 0.01eth, 1000sat, or base units).' }),
  }

  async run() {
    const { args } = await this.parse(Reserve)
    const amount = this.channelAmount(args.channel, args.amount, 'amount')
    const s = await this.scheme()
    if (!s.reserve) throw new UsageError(s.unsupported('funds'))
    const r = await s.reserve(args.channel, amount)
    const amt = (v: bigint) => this.amount(v, r.asset)
    this.log(`Reserved ${amt(amount)} on ${r.channelId}: ${amt(r.reserved)} reserved, ${amt(r.available)} available.`)
    if (r.sent) this.log(`Top-up of ${amt(r.pending)} sent: ${r.sent} (not waiting for it to be mined).`)
    else if (r.pendingTx) this.log(`Top-up pending: ${r.pendingTx} (${amt(r.pending)}).`)
    if (r.queued > 0n) this.log(`Queued for the next deposit: ${amt(r.queued)}.`)
    return { ...toJson(r), pendingTx: r.pendingTx ?? null, sent: r.sent ?? null }
  }
}
