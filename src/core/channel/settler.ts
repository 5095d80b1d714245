/**
 * The payee's settlement watcher (Lotus `paychmgr` settler): while `channels serve`
 * runs, it polls the chain for inbound channels that started settling and redeems the
 * best unsubmitted voucher of each lane before `settleAt`, so a payer who settles
 * early still pays in full. It also marks channels that left the chain as closed.
 */
import type { ChannelManager } from './manager.js'
import { short } from './reader.js'
import { submitVouchers } from './operations.js'

export interface SettlerEvent {
  channelId: string
  /** `redeemed`: vouchers submitted; `closed`: gone from chain; `error`: a round failed. */
  kind: 'redeemed' | 'closed' | 'error'
  detail: string
}

export interface Settler {
  /** Runs one round now (also what the timer runs). */
  tick(): Promise<SettlerEvent[]>
  stop(): void
}

/**
 * Starts the watcher.
 * @param intervalSeconds - seconds between rounds
 * @param onEvent - called for every action or error
 */
export function startSettler(m: ChannelManager, intervalSeconds: number, onEvent: (e: SettlerEvent) => void = () => {}): Settler {
  let running: Promise<SettlerEvent[]> | undefined
  const round = async (): Promise<SettlerEvent[]> => {
    const events: SettlerEvent[] = []
    const channels = m.store.channels.list({ network: m.network.caip2, direction: 'inbound' }).filter((c) => c.state === 'open' || c.state === 'settling')
    for (const c of channels) {
      try {
        const on = await m.backend.getChannel(c.id)
        if (!on) {
          m.store.channels.update(c.network, c.id, { state: 'closed' })
          events.push({ channelId: c.id, kind: 'closed', detail: 'no longer on chain' })
          continue
        }
        if (on.settleAt === 0) continue
        if (c.state === 'open') m.store.channels.update(c.network, c.id, { state: 'settling', settleAt: on.settleAt })
        const now = await m.backend.now()
        if (now >= on.settleAt) continue // too late: update is refused after settleAt
        const pending = m.store.vouchers.latestPerLane(c.network, c.id).filter((v) => !v.submittedTx)
        if (pending.length === 0) continue
        const r = await submitVouchers(m, m.store.channels.get(c.network, c.id)!)
        if (r.txs.length) events.push({ channelId: c.id, kind: 'redeemed', detail: `redeemed ${r.redeemed} before settleAt ${on.settleAt} (tx ${r.txs.join(', ')})` })
      } catch (err) {
        events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: ${(err as Error).message.split('\n')[0]}` })
      }
    }
    events.forEach(onEvent)
    return events
  }
  const tick = () => (running ??= round().finally(() => (running = undefined)))
  const timer = setInterval(() => void tick(), intervalSeconds * 1000)
  timer.unref()
  return { tick, stop: () => clearInterval(timer) }
}
