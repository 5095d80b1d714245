/**
 * The channel state machine (DESIGN §3): an explicit union of states and a pure
 * `transition(state, event)`. State is never inferred from nullable fields (Lotus
 * did that in paychmgr and it bit them).
 *
 * ```
 * opening ─confirmed→ open ─settle→ settling ─elapse→ settled ─collect→ closed
 *    └─fail→ failed     ├─close→ closed  ├─close/collect→ closed
 *                       └─expire→ expired ─collect/close→ closed
 * ```
 */
import { ChannelStateError } from '../errors.js'

export const CHANNEL_STATES = ['opening', 'open', 'settling', 'settled', 'closed', 'expired', 'failed'] as const
export type ChannelState = (typeof CHANNEL_STATES)[number]

export const CHANNEL_EVENTS = ['confirm', 'fail', 'settle', 'elapse', 'collect', 'close', 'expire'] as const
export type ChannelEvent = (typeof CHANNEL_EVENTS)[number]

const TABLE: Record<ChannelState, Partial<Record<ChannelEvent, ChannelState>>> = {
  opening: { confirm: 'open', fail: 'failed' },
  open: { settle: 'settling', close: 'closed', expire: 'expired' },
  settling: { elapse: 'settled', collect: 'closed', close: 'closed' },
  settled: { collect: 'closed' },
  expired: { collect: 'closed', close: 'closed' },
  closed: {},
  failed: {},
}

/** Raised for an event the current state does not allow. Exit 8. */
export class IllegalTransitionError extends ChannelStateError {
  override name = 'Channel.IllegalTransitionError'
  constructor(
    readonly from: ChannelState,
    readonly event: ChannelEvent,
  ) {
    super(`A channel that is ${from} cannot ${event}.`, { data: { state: from, event } })
  }
}

/**
 * The state after `event`.
 * @throws {IllegalTransitionError} when `state` does not allow `event`
 * @example transition('open', 'settle') // 'settling'
 */
export function transition(state: ChannelState, event: ChannelEvent): ChannelState {
  const next = TABLE[state][event]
  if (!next) throw new IllegalTransitionError(state, event)
  return next
}

/** Whether a voucher may still be created on a channel in this state (payer side). */
export function canPay(state: ChannelState): boolean {
  return state === 'open'
}

/** Whether a state is final. */
export function isTerminal(state: ChannelState): boolean {
  return state === 'closed' || state === 'failed'
}
