/**
 * The payee's watcher while `channels serve` runs: each family's (families/evm/redeemer.ts,
 * the redemption service after the Lotus `paychmgr` settler; families/bitcoin/watcher.ts, the two1 merchant's close
 * before expiry) reports {@link SettlerEvent}s and runs on {@link schedule}.
 */

export interface SettlerEvent {
  channelId: string
  /**
   * `redeemed`: vouchers submitted (by the EVM redemption service: redeemed and collected);
   * `closed`: gone from chain; `deferred`: worth less than the redemption's least profit, left
   * for later (the detail says until when); `error`: a round failed for this channel.
   */
  kind: 'redeemed' | 'closed' | 'deferred' | 'error'
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
