import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { UsageError } from '../core/errors.js'

export default class Settle extends BaseCommand<typeof Settle> {
  static override summary = 'Start the settlement period of a channel (payer or payee).'
  static override description =
    'After the channel\'s settle delay, `channels collect` pays the payee what it redeemed and refunds the rest to the payer. ' +
    'The payee can still redeem vouchers until then. Not applicable to Bitcoin channels (exit 2 says what to do instead).'
  static override examples = ['<%= config.bin %> settle 0x3f2a', '<%= config.bin %> settle 0x3f2a --json']
  static override args = { channel: Args.string({ required: true, description: 'Channel id or unique prefix.' }) }

  async run() {
    const { args } = await this.parse(Settle)
    if (this.isBitcoin) {
      throw new UsageError('Bitcoin channels have no settlement period: the payee closes with `channels close` before the expiry; the payer takes the refund with `channels collect` after it.')
    }
    const m = await this.manager()
    const c = m.channel(args.channel)
    const r = await m.settle(c)
    this.log(`Settling ${c.id} (tx ${r.tx.hash}); collect after ${new Date(r.settleAt * 1000).toISOString()}.`)
    return { channelId: c.id, transaction: r.tx.hash, settleAt: r.settleAt }
  }
}
