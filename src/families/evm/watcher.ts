/**
 * The EVM payee's settlement watcher (Lotus `paychmgr` settler): while `channels serve`
 * runs, it polls the chain for inbound channels that started settling and redeems the
 * best unsubmitted voucher of each lane before `settleAt`, so a payer who settles
 * early still pays in full. It also marks channels that left the chain as closed.
 * `serve` now runs the redemption service instead (families/evm/redeemer.ts), which does
 * this and more; this update-only watcher stays for library callers.
 */
import type { ChannelManager } from './manager.js'
import { short } from '../../core/channel/reader.js'
import { schedule, type Settler, type SettlerEvent } from '../../core/channel/settler.js'
import { submitVouchers } from './operations.js'

/**
 * Starts the watcher. State changes go through the state machine (DESIGN §3); one the
 * table forbids, or on a row another process moved meanwhile, leaves the row as it is
 * and is reported as an `error` event like any failed round of a channel.
 * @param intervalSeconds - seconds between rounds
 * @param onEvent - called for every action or error
 */
export function startSettler(m: ChannelManager, intervalSeconds: number, onEvent: (e: SettlerEvent) => void = () => {}): Settler {
  const round = async (): Promise<SettlerEvent[]> => {
    const events: SettlerEvent[] = []
    const channels = m.store.channels.list({ network: m.network.caip2, direction: 'inbound' }).filter((c) => c.state === 'open' || c.state === 'settling')
    for (const c of channels) {
      try {
        const on = await m.backend.getChannel(c.id)
        if (!on) {
          // The contract deletes a channel only in close (the payee's voucher, possible while
          // open) and collect (after settleAt): name the one the state it was read in allows.
          m.store.channels.transition(c.network, c.id, c.state === 'open' ? 'close' : 'collect', {}, c.state)
          events.push({ channelId: c.id, kind: 'closed', detail: 'no longer on chain' })
          continue
        }
        if (on.settleAt === 0) continue
        if (c.state === 'open') m.store.channels.transition(c.network, c.id, 'settle', { settleAt: on.settleAt }, 'open')
        const now = await m.backend.now()
        if (now >= on.settleAt) continue // too late: update is refused after settleAt
        const pending = m.store.vouchers.effectivePerLane(c.network, c.id).filter((v) => !v.submittedTx)
        if (pending.length === 0) continue
        const r = await submitVouchers(m, m.store.channels.get(c.network, c.id)!)
        if (r.txs.length) events.push({ channelId: c.id, kind: 'redeemed', detail: `redeemed ${r.redeemed} before settleAt ${on.settleAt} (tx ${r.txs.join(', ')})` })
      } catch (err) {
        events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: ${(err as Error).message.split('\n')[0]}` })
      }
    }
    return events
  }
  return schedule(round, intervalSeconds, onEvent)
}

