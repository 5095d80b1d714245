import type { BitcoinChannelManager } from './manager.js'
import { short } from '../../core/channel/reader.js'
import { schedule, type Settler, type SettlerEvent } from '../../core/channel/settler.js'
import { bitcoinChannel } from './channel.js'

/**
 * The Bitcoin payee's watcher (two1 merchant: close before the refund becomes valid):
 * for each open inbound Bitcoin channel whose expiry is within `closeMargin` seconds —
 * by the later of the wall clock and the chain tip's time — it countersigns and
 * broadcasts the best payment. It also marks channels whose deposit was spent
 * otherwise (the payer's refund) as closed. State changes and their refusals as in
 * `startSettler` (families/evm/watcher.ts).
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
      const { expiry, depositVout } = bitcoinChannel(c).data
      if (expiry - closeMargin > now) continue
      try {
        if (!m.store.vouchers.latest(c.network, c.id, 0n)) continue
        const deposit = await m.backend.outputStatus(c.id.slice(2), depositVout)
        if (!deposit.unspent) {
          // Spent by other than our close: the payer's refund, which the chain accepts only
          // after the expiry, so the channel expired and was collected (as the payer records it).
          m.store.channels.transition(c.network, c.id, ['expire', 'collect'], {}, 'open')
          events.push({ channelId: c.id, kind: 'closed', detail: 'the deposit was spent by another transaction (the payer\'s refund)' })
          continue
        }
        const r = await m.closeAsPayee(c)
        events.push({ channelId: c.id, kind: 'redeemed', detail: `closed with ${r.redeemed} sat before the expiry ${expiry} (tx ${r.tx.hash})` })
      } catch (err) {
        events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: ${(err as Error).message.split('\n')[0]}` })
      }
    }
    return events
  }
  return schedule(round, intervalSeconds, onEvent)
}

