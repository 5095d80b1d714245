/**
 * The payee's watcher while `channels serve` runs: each family's (families/evm/watcher.ts,
 * the Lotus `paychmgr` settler; families/bitcoin/watcher.ts, the two1 merchant's close
 * before expiry) reports {@link SettlerEvent}s and runs on {@link schedule}.
 */

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
 * Runs `round` now and then every `intervalSeconds` (never two at once), reporting its
 * events. The first round runs at start: a paywall that was down while a payer settled
 * learns it before the first interval has passed.
 */
export function schedule(round: () => Promise<SettlerEvent[]>, intervalSeconds: number, onEvent: (e: SettlerEvent) => void): Settler {
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
