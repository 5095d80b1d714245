import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'

export default class Collect extends BaseCommand<typeof Collect> {
  static override summary = 'Finish a settled channel: pay the payee what it redeemed, refund the rest to the payer.'
  static override description = 'Refuses (exit 8) before the settlement period ends, saying when it will be possible.'
  static override examples = ['<%= config.bin %> collect 0x3f2a', '<%= config.bin %> collect 0x3f2a --json']
  static override args = { channel: Args.string({ required: true, description: 'Channel id or unique prefix.' }) }

  async run() {
    const { args } = await this.parse(Collect)
    const m = await this.manager()
    const c = m.channel(args.channel)
    const r = await m.collect(c)
    const after = m.channel(c.id)
    this.log(`Collected ${c.id} (tx ${r.tx.hash}); payee received ${after.redeemed}, payer refunded ${after.deposit - after.redeemed} base units.`)
    return { channelId: c.id, transaction: r.tx.hash, paidToPayee: after.redeemed.toString(), refundedToPayer: (after.deposit - after.redeemed).toString() }
  }
}
