import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { statusJson, amount, table } from '../cli/render.js'
import { CHANNEL_STATES, type ChannelState } from '../core/channel/state.js'

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List channels on the network.'
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --inbound --state open --json']
  static override flags = {
    inbound: Flags.boolean({ summary: 'Only channels paying this wallet.', exclusive: ['outbound'] }),
    outbound: Flags.boolean({ summary: 'Only channels this wallet pays on.', exclusive: ['inbound'] }),
    state: Flags.string({ summary: 'Only channels in this state.', options: [...CHANNEL_STATES] }),
  }

  async run() {
    const { flags } = await this.parse(List)
    const direction = flags.inbound ? 'inbound' : flags.outbound ? 'outbound' : undefined
    const all = this.reader.list({ direction, state: flags.state as ChannelState | undefined })
    if (all.length === 0) this.log('No channels match.')
    else {
      this.log(table(['channel', 'dir', 'state', 'peer', 'deposit', 'spent', 'available'], all.map((s) => {
        const c = s.channel
        return [c.id.slice(0, 18), c.direction, c.state, c.direction === 'outbound' ? c.payee : c.payer, amount(c.deposit, c.asset), amount(s.spent, c.asset), amount(s.available, c.asset)]
      })))
    }
    return { channels: all.map(statusJson) }
  }
}
