import { Args } from '@oclif/core'
import { UsageError } from '../core/errors.js'
import { BaseCommand, channelArg } from '../cli/base.js'
import { toJson } from '../core/scheme/index.js'

export default class Release extends BaseCommand<typeof Release> {
  static override summary = 'Give back funds set aside by `channels reserve`.'
  static override description =
    'The manager seed\'s ReleaseFunds (Lotus FundManager): subtracts the amount from the channel\'s `reserved`, so ' +
    'payments without a reservation may use it again. A top-up already pending or queued is not cancelled. Releasing ' +
    'more than is reserved exits 2.'
  static override examples = ['<%= config.bin %> release 0x3f2a 0.01eth', '<%= config.bin %> release 0x3f2a 5000 --json']
  static override args = {
    channel: channelArg,
    amount: Args.string({ required: true, description: 'Amount to give back (e.g. 0.01eth, 1000sat, or base units).' }),
  }

  async run() {
    const { args } = await this.parse(Release)
    const amount = this.channelAmount(args.channel, args.amount, 'amount')
    const s = await this.scheme()
    if (!s.release) throw new UsageError(s.unsupported('funds'))
    const r = await s.release(args.channel, amount)
    const amt = (v: bigint) => this.amount(v, r.asset)
    this.log(`Released ${amt(amount)} on ${r.channelId}: ${amt(r.reserved)} reserved, ${amt(r.available)} available.`)
    return { ...toJson(r), pendingTx: r.pendingTx ?? null }
  }
}
