import { Args } from '@oclif/core'
import { UsageError } from '../core/errors.js'
import { BaseCommand, channelArg } from '../cli/base.js'

export default class Fund extends BaseCommand<typeof Fund> {
  static override summary = 'Add funds to an outbound channel.'
  static override description = 'Sends a deposit transaction; the amount shows as pending in `channels status` until it is mined.'
  static override examples = ['<%= config.bin %> fund 0x3f2a 0.05eth', '<%= config.bin %> fund 0x3f2a 1000000 --json']
  static override args = {
    channel: channelArg,
    amount: Args.string({ required: true, description: 'Amount to add (e.g. 0.05eth or base units).' }),
  }

  async run() {
    const { args } = await this.parse(Fund)
    // In the channel's asset (0.5usdc on a USDC channel; a unit of another asset is refused).
    const amount = this.channelAmount(args.channel, args.amount, 'amount')
    const s = await this.scheme()
    if (!s.fund) throw new UsageError(s.unsupported('fund'))
    const r = await s.fund(args.channel, amount, (line) => this.progress(line))
    this.log(`Added ${this.amount(r.added, r.asset)} to ${r.channelId} (tx ${r.transaction}); deposit now ${this.amount(r.deposit, r.asset)}.`)
    return { channelId: r.channelId, added: r.added.toString(), deposit: r.deposit.toString(), transaction: r.transaction }
  }
}
