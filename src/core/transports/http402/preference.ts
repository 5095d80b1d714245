/**
 * How `buy` pays when a 402 offers several schemes (issue 13 §2, DESIGN §14): an open channel first
 * (nothing goes on chain), then x402 `exact` for a one-off, and a new channel when `--yes` allows it
 * and the requests expected (`--expect N`, config `buy.expect`) make it cheaper in gas than N exact
 * payments. A pure function of what `buy` found out, so its table is tested on its own.
 */

/** What `buy` does: pay on an open channel, sign an `exact` authorization, open a channel, or nothing (refuse). */
export type PaymentChoice = 'channel' | 'exact' | 'open' | 'none'

/** What the choice depends on. Gas in gas units. */
export interface PaymentFacts {
  /** An open channel (to the merchant, or to a hub it lists) can pay the `channel` entry's price. */
  channelPayable: boolean
  /** The 402 has a `channel` entry this wallet can pay (on its network, within `--max-price`): a channel could be opened. */
  channelOffered: boolean
  /** The 402 has an `exact` entry this wallet can pay (on its network, in `--max-price`'s asset, within it). */
  exactOffered: boolean
  /** `--yes` (or config `buy.autoOpen`): a channel may be opened without asking. */
  autoOpen: boolean
  /** Requests expected at this merchant (`--expect`, config `buy.expect`; default 1). */
  expect: bigint
  /**
   * Gas of one exact payment and of a channel's lifetime (open + close); needed only when
   * {@link needsGas} says so. Undefined there: exact (no estimate, no channel).
   */
  gas?: { exact: bigint; channel: bigint }
}

/**
 * The payment `buy` makes:
 * 1. an open channel can pay → `channel`;
 * 2. `exact` offered → `exact`, unless `--yes`, a `channel` entry, and the channel's gas (open + close)
 *    is strictly below `expect` × one exact payment's gas → `open`;
 * 3. else `--yes` and a `channel` entry → `open`; else `none` (buy refuses: no channel can pay).
 * Gas is compared at one fee per gas, so the node's fee cancels out; a tie goes to `exact` (no deposit locked).
 * @example choosePayment({ channelPayable: false, channelOffered: true, exactOffered: true, autoOpen: true, expect: 10n, gas: { exact: 60_000n, channel: 330_000n } }) // 'open'
 * @example choosePayment({ channelPayable: false, channelOffered: true, exactOffered: true, autoOpen: true, expect: 5n, gas: { exact: 60_000n, channel: 330_000n } }) // 'exact'
 */
export function choosePayment(f: PaymentFacts): PaymentChoice {
  if (f.channelPayable) return 'channel'
  const mayOpen = f.channelOffered && f.autoOpen
  if (f.exactOffered) return mayOpen && f.gas !== undefined && f.gas.channel < f.expect * f.gas.exact ? 'open' : 'exact'
  return mayOpen ? 'open' : 'none'
}

/** Whether {@link choosePayment} weighs gas for these facts (so `buy` asks the node only then). */
export function needsGas(f: Omit<PaymentFacts, 'gas'>): boolean {
  return !f.channelPayable && f.exactOffered && f.channelOffered && f.autoOpen && f.expect > 1n
}
