import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { parseAmount } from '../core/units.js'
import { fundChannel } from '../families/evm/operations.js'

export default class Fund extends BaseCommand<typeof Fund> {
  static override summary = 'Add funds to an outbound channel.'
  static override description = 'Sends a deposit transaction; the amount shows as pending in `channels status` until it is mined.'
  static override examples = ['<%= config.bin %> fund 0x3f2a 0.05eth', '<%= config.bin %> fund 0x3f2a 1000000 --json']
  static override args = {
    channel: Args.string({ required: true, description: 'Channel id or unique prefix.' }),
    amount: Args.string({ required: true, description: 'Amount to add (e.g. 0.05eth or base units).' }),
  }

  async run() {
    const { args } = await this.parse(Fund)
    const amount = parseAmount(args.amount, 'amount', this.family)
    const m = await this.manager()
    const c = m.channel(args.channel)
    const r = await fundChannel(m, c, amount, (h) => this.progress(`Sent ${h}; waiting for it to be mined…`))
    this.log(`Added ${this.amount(amount, c.asset)} to ${c.id} (tx ${r.tx.hash}); deposit now ${this.amount(r.deposit, c.asset)}.`)
    return { channelId: c.id, added: amount.toString(), deposit: r.deposit.toString(), transaction: r.tx.hash }
  }
}
