import { toJson } from '../core/scheme/index.js'
import { BaseCommand, channelArg } from '../cli/base.js'

export default class Collect extends BaseCommand<typeof Collect> {
  static override summary = 'Finish a settled channel: pay the payee what it redeemed, refund the rest to the payer.'
  static override description =
    'Refuses (exit 8) before the settlement period ends, saying when it will be possible.\n\n' +
    'On a Bitcoin channel the payer broadcasts the refund stored at open; the node accepts it once the chain\'s ' +
    'median time past reaches the expiry (before that: exit 8 and when).'
  static override examples = ['<%= config.bin %> collect 0x3f2a', '<%= config.bin %> collect 0x3f2a --json', '<%= config.bin %> collect 9c41e0 --network regtest']
  static override args = { channel: channelArg }

  async run() {
    const { args } = await this.parse(Collect)
    const r = await (await this.scheme()).collect(args.channel)
    if (r.fee !== undefined) this.log(`Refund ${r.transaction} broadcast for ${r.channelId}: ${this.amount(r.refundedToPayer, r.asset)} back to the payer (fee ${this.amount(r.fee, r.asset)}).`)
    else this.log(`Collected ${r.channelId} (tx ${r.transaction}); payee received ${this.amount(r.paidToPayee, r.asset)}, payer refunded ${this.amount(r.refundedToPayer, r.asset)}.`)
    const { asset: _asset, ...out } = r
    return toJson(out)
  }
}
