import { Flags } from '@oclif/core'
import { BaseCommand, wideFlag } from '../cli/base.js'
import { statusJson, channelTable } from '../cli/render.js'
import { CHANNEL_STATES, type ChannelState } from '../core/channel/state.js'
import { isTerminal } from '../core/channel/state.js'
import type { RefreshResult } from '../core/channel/sync.js'

/** How long `list` waits for the node before printing the stored state, milliseconds. */
const REFRESH_TIMEOUT_MS = 5_000

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List channels on the network.'
  static override description =
    'First refreshes from the chain every channel that is not closed (deposit, redeemed, settling, settled, closed: the ' +
    'chain half of `channels sync`, never contacting a merchant), so a payee sees a channel its payer settled and ' +
    'collected. When the node is unreachable or slower than 5 s, prints the stored state with a warning on stderr and ' +
    'still exits 0; --offline skips the refresh.\n\n' +
    'The table fits 80 columns: ids and addresses shortened, amounts cut to 6 significant digits (marked …) in the ' +
    'chain\'s unit (0.1 ETH, 1,000 wei, 100,000 sat); --wide prints them whole, with the deposit and endpoint. ' +
    '"available" is "-" for a channel that is settled, closed, expired or failed. --json gives base units.'
  static override examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --inbound --state open --json',
    '<%= config.bin %> list --wide --offline',
  ]
  static override flags = {
    inbound: Flags.boolean({ summary: 'Only channels paying this wallet.', exclusive: ['outbound'] }),
    outbound: Flags.boolean({ summary: 'Only channels this wallet pays on.', exclusive: ['inbound'] }),
    state: Flags.string({ summary: 'Only channels in this state.', options: [...CHANNEL_STATES] }),
    offline: Flags.boolean({ summary: 'Print the stored state without asking the chain first.' }),
    wide: wideFlag,
  }

  async run() {
    const { flags } = await this.parse(List)
    const direction = flags.inbound ? 'inbound' : flags.outbound ? 'outbound' : undefined
    let refreshed = !flags.offline
    if (!flags.offline && this.reader.store.channels.list({ network: this.walletNetwork.caip2, direction }).some((c) => !isTerminal(c.state))) {
      const r = await this.refresh(direction)
      if (r.error) {
        refreshed = false
        process.stderr.write(`warning: channels not refreshed from the chain (${r.error.shortMessage}); showing the stored state. \`channels list --offline\` skips the refresh.\n`)
      }
    }
    const all = this.reader.list({ direction, state: flags.state as ChannelState | undefined })
    if (!this.jsonEnabled()) this.log(all.length ? channelTable(all, (c) => this.assetOf(c.asset), flags.wide) : 'No channels match.')
    return { channels: all.map((s) => statusJson(s, this.assetOf(s.channel.asset).id)), refreshed }
  }

  /** The chain half of `sync` on every channel not final, under a deadline. */
  private async refresh(direction?: 'outbound' | 'inbound'): Promise<RefreshResult> {
    return (await this.scheme()).refresh({ timeoutMs: REFRESH_TIMEOUT_MS, direction })
  }
}
