import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'

export default class Collect extends BaseCommand<typeof Collect> {
  static override summary = 'Finish a settled channel: pay the payee what it redeemed, refund the rest to the payer.'
  static override description =
    'Refuses (exit 8) before the settlement period ends, saying when it will be possible.\n\n' +
    'On a Bitcoin channel the payer broadcasts the refund stored at open; the node accepts it once the chain\'s ' +
    'median time past reaches the expiry (before that: exit 8 and when).'
  static override examples = ['<%= config.bin %> collect 0x3f2a', '<%= config.bin %> collect 0x3f2a --json', '<%= config.bin %> collect 9c41e0 --network regtest']
  static override args = { channel: Args.string({ required: true, description: 'Channel id or unique prefix.' }) }

  async run() {
    const { args } = await this.parse(Collect)
    if (this.isBitcoin) {
      const b = await this.bitcoin()
      const c = b.channel(args.channel)
      const r = await b.collect(c)
      this.log(`Refund ${r.tx.hash} broadcast for ${c.id}: ${this.amount(r.refunded, c.asset)} back to the payer (fee ${this.amount(r.tx.fee, c.asset)}).`)
      return { channelId: c.id, transaction: r.tx.hash, paidToPayee: '0', refundedToPayer: r.refunded.toString(), fee: r.tx.fee.toString() }
    }
    const m = await this.manager()
    const c = m.channel(args.channel)
    const r = await m.collect(c)
    const after = m.channel(c.id)
    this.log(`Collected ${c.id} (tx ${r.tx.hash}); payee received ${this.amount(after.redeemed, c.asset)}, payer refunded ${this.amount(after.deposit - after.redeemed, c.asset)}.`)
    return { channelId: c.id, transaction: r.tx.hash, paidToPayee: after.redeemed.toString(), refundedToPayer: (after.deposit - after.redeemed).toString() }
  }
}
