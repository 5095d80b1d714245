import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { UsageError } from '../../core/errors.js'
import { summaryToJson } from '../../core/transports/hub/render.js'
import { shortHex } from '../../core/units.js'

export default class HubStatus extends BaseCommand<typeof HubStatus> {
  static override summary = 'Show a hub\'s payments in flight, fees earned and liquidity per channel (from this home\'s database).'
  static override description =
    'Run in the hub\'s home (CHANNELS_HOME), while `channels hub` runs or not. Payments are pending (vouchers signed, secret not yet ' +
    'revealed), fulfilled (fee earned), refused or expired; in flight is what pending payments lock on the payers\' channels (amount + fee) ' +
    'and on the hub\'s (amount). Per open channel: deposit, spent, available and conditional (hash-locked, not yet simplified).'
  static override examples = ['<%= config.bin %> hub status', '<%= config.bin %> hub status --json']
  static override flags = {
    recent: Flags.integer({ summary: 'How many recent payments to list.', default: 10, min: 0 }),
  }

  async run() {
    const { flags } = await this.parse(HubStatus)
    const s = await this.scheme()
    if (!s.locks) throw new UsageError(s.unsupported('hub'))
    const summary = s.locks.hub({ base: 0n, ppm: 0n, minLock: 0, margin: 0, minSettleDelay: 0 }).summary(flags.recent)
    const p = summary.payments
    this.log(`Hub ${summary.address} on ${summary.network}`)
    this.log(`Payments: ${p.pending} in flight, ${p.fulfilled} fulfilled, ${p.refused} refused, ${p.expired} expired; fees earned ${this.amount(summary.feesEarned)}`)
    this.log(`In flight: ${this.amount(summary.inFlight.inbound)} locked by payers, ${this.amount(summary.inFlight.outbound)} by the hub`)
    for (const c of summary.channels) {
      this.log(`  ${c.direction === 'inbound' ? 'from' : 'to  '} ${c.peer} ${shortHex(c.channelId)}: deposit ${this.amount(c.deposit)}, spent ${this.amount(c.spent)}, ` +
        `available ${this.amount(c.available)}${c.conditional ? `, conditional ${this.amount(c.conditional)}` : ''}`)
    }
    for (const r of summary.recent) this.log(`  ${r.state.padEnd(9)} ${shortHex(r.hash)} → ${r.payee} ${this.amount(r.amount)} (fee ${this.amount(r.fee)})`)
    return summaryToJson(summary)
  }
}
