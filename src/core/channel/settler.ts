/**
 * The payee's settlement watcher (Lotus `paychmgr` settler): while `channels serve`
 * runs, it polls the chain for inbound channels that started settling and redeems the
 * best unsubmitted voucher of each lane before `settleAt`, so a payer who settles
 * early still pays in full. It also marks channels that left the chain as closed.
 */
import type { ChannelManager } from '../../families/evm/manager.js'
import type { BitcoinChannelManager } from '../../families/bitcoin/manager.js'
import { short } from './reader.js'
import { submitVouchers } from '../../families/evm/operations.js'

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
        const pending = m.store.vouchers.latestPerLane(c.network, c.id).filter((v) => !v.submittedTx)
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

/**
 * The Bitcoin payee's watcher (two1 merchant: close before the refund becomes valid):
 * for each open inbound Bitcoin channel whose expiry is within `closeMargin` seconds —
 * by the later of the wall clock and the chain tip's time — it countersigns and
 * broadcasts the best payment. It also marks channels whose deposit was spent
 * otherwise (the payer's refund) as closed. State changes and their refusals as in
 * {@link startSettler}.
 * @param closeMargin - seconds before the expiry at which to close
 */
export function startBitcoinWatcher(m: BitcoinChannelManager, intervalSeconds: number, closeMargin: number, onEvent: (e: SettlerEvent) => void = () => {}): Settler {
  const round = async (): Promise<SettlerEvent[]> => {
    const events: SettlerEvent[] = []
    const channels = m.store.channels.list({ network: m.network.caip2, direction: 'inbound', state: 'open' })
    if (channels.length === 0) return events
    let now: number
    try {
      now = Math.max(Math.floor(Date.now() / 1000), (await m.backend.tip()).time)
    } catch (err) {
      return [{ channelId: channels[0]!.id, kind: 'error', detail: `node: ${(err as Error).message.split('\n')[0]}` }]
    }
    for (const c of channels) {
      if ((c.expiry ?? 0) - closeMargin > now) continue
      try {
        if (!m.store.vouchers.latest(c.network, c.id, 0n)) continue
        const deposit = await m.backend.outputStatus(c.id.slice(2), c.bitcoin!.depositVout)
        if (!deposit.unspent) {
          // Spent by other than our close: the payer's refund, which the chain accepts only
          // after the expiry, so the channel expired and was collected (as the payer records it).
          m.store.channels.transition(c.network, c.id, ['expire', 'collect'], {}, 'open')
          events.push({ channelId: c.id, kind: 'closed', detail: 'the deposit was spent by another transaction (the payer\'s refund)' })
          continue
        }
        const r = await m.closeAsPayee(c)
        events.push({ channelId: c.id, kind: 'redeemed', detail: `closed with ${r.redeemed} sat before the expiry ${c.expiry} (tx ${r.tx.hash})` })
      } catch (err) {
        events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: ${(err as Error).message.split('\n')[0]}` })
      }
    }
    return events
  }
  return schedule(round, intervalSeconds, onEvent)
}

/**
 * Runs `round` now and then every `intervalSeconds` (never two at once), reporting its
 * events. The first round runs at start: a paywall that was down while a payer settled
 * learns it before the first interval has passed.
 */
function schedule(round: () => Promise<SettlerEvent[]>, intervalSeconds: number, onEvent: (e: SettlerEvent) => void): Settler {
  let running: Promise<SettlerEvent[]> | undefined
  const tick = () =>
    (running ??= round()
      .then((events) => {
        events.forEach(onEvent)
        return events
      })
      .finally(() => (running = undefined)))
  const timer = setInterval(() => void tick(), intervalSeconds * 1000)
  timer.unref()
  void tick()
  return { tick, stop: () => clearInterval(timer) }
}
