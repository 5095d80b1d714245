import { BaseCommand, channelArg } from '../cli/base.js'
import { UsageError } from '../core/errors.js'

export default class Settle extends BaseCommand<typeof Settle> {
  static override summary = 'Start the settlement period of a channel (payer or payee).'
  static override description =
    'After the channel\'s settle delay, `channels collect` pays the payee what it redeemed and refunds the rest to the payer. ' +
    'The payee can still redeem vouchers until then. Not applicable to Bitcoin channels (exit 2 says what to do instead).'
  static override examples = ['<%= config.bin %> settle 0x3f2a', '<%= config.bin %> settle 0x3f2a --json']
  static override args = { channel: channelArg }

  async run() {
    const { args } = await this.parse(Settle)
    const s = await this.scheme()
    if (!s.settle) throw new UsageError(s.unsupported('settle'))
    const r = await s.settle(args.channel)
    this.log(`Settling ${r.channelId} (tx ${r.transaction}); collect after ${new Date(r.settleAt * 1000).toISOString()}.`)
    return r
  }
}
