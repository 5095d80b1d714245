/**
 * The wire and `--json` form of a hub's summary (`GET /status`, `channels hub status --json`):
 * amounts as decimal strings of base units.
 */
import type { HubSummary } from '../../scheme/hub.js'

export function summaryToJson(s: HubSummary) {
  return {
    address: s.address,
    network: s.network,
    payments: s.payments,
    feesEarned: s.feesEarned.toString(),
    inFlight: { inbound: s.inFlight.inbound.toString(), outbound: s.inFlight.outbound.toString() },
    channels: s.channels.map((c) => ({
      channelId: c.channelId, direction: c.direction, peer: c.peer, deposit: c.deposit.toString(), spent: c.spent.toString(),
      available: c.available.toString(), conditional: c.conditional.toString(), ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    })),
    recent: s.recent.map((p) => ({ ...p, amount: p.amount.toString(), fee: p.fee.toString() })),
  }
}
