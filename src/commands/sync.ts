import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { shortHex } from '../core/units.js'

export default class Sync extends BaseCommand<typeof Sync> {
  static override summary = 'Reconcile local channel state with the chain and the merchant.'
  static override description =
    'Reads each channel on chain (deposit, redeemed, settling, closed) and asks the merchant endpoint bound to an ' +
    'outbound channel for its view. A newer voucher the merchant holds is adopted only if this wallet signed it; a ' +
    'voucher the merchant never received is delivered. Without <channel>, syncs every channel that is not closed.'
  static override examples = ['<%= config.bin %> sync', '<%= config.bin %> sync 0x3f2a --json', '<%= config.bin %> sync http://127.0.0.1:4021']
  static override args = { channel: Args.string({ description: 'Channel id or unique prefix, or a merchant URL (the newest open channel bound to its origin); default: all.' }) }

  async run() {
    const { args } = await this.parse(Sync)
    const reports = await (await this.scheme()).sync(args.channel)
    for (const r of reports) {
      this.log(`${shortHex(r.channelId)} ${r.stateBefore === r.state ? r.state : `${r.stateBefore} → ${r.state}`}${r.changes.length ? '' : ' (up to date)'}`)
      for (const c of r.changes) this.log(`  ${c}`)
      for (const w of r.warnings) this.log(`  warning: ${w}`)
    }
    if (reports.length === 0) this.log('No open channels to sync.')
    return args.channel ? reports[0] : { channels: reports }
  }
}
