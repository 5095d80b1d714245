/**
 * The contract's redeem rules as one pure function, so that everything a payee accepts
 * (the paywall, `voucher add`, `voucher check`) is judged by exactly what
 * `PaymentChannels._update` will do with it (Filecoin paych `UpdateChannelState`).
 *
 * A payee does not judge a voucher against the chain as it is now but against the chain
 * as it will be once every voucher it has already accepted is redeemed (the *projected*
 * state): a voucher is worth taking only if it is redeemable after all of those, and
 * what it adds is what it adds on top of them. Judging a new lane against nothing (the
 * "free service" bug of issue 9: nonce 0 on a lane never seen) or against the chain
 * alone (two lanes each within the deposit, together above it) is how a payee ends up
 * holding vouchers that can never be redeemed.
 */
import { sha256 } from '@noble/hashes/sha256'
import { ZERO_HASH, type EvmVoucher } from '../../core/channel/voucher.js'

/** A lane as the contract stores it (`getLane`), or as it will be once the payee redeems its best voucher on it. */
export interface LaneState {
  /** Highest nonce redeemed on the lane (0 for a lane never used). */
  nonce: bigint
  /** Cumulative amount redeemed on the lane, base units (wei, token units). */
  redeemed: bigint
}

/** The channel's fields `_update` reads. Amounts in base units, times in unix seconds. */
export interface ChannelView {
  deposit: bigint
  /** The channel's redeemed total (Filecoin `ToSend`). */
  redeemed: bigint
  /** Settlement time, 0 while not settling. */
  settleAt: number
  /** The time the voucher would be redeemed at (the chain's latest block time). */
  now: number
}

/** Largest lane amount the contract stores (`SafeCast.toUint192`). */
export const MAX_LANE_AMOUNT = (1n << 192n) - 1n

/** The outcome of {@link redeemRefusal}: why `update` would revert, or the channel's new redeemed total. */
export type RedeemOutcome =
  | { ok: true; newRedeemed: bigint }
  | { ok: false; reason: RedeemRefusal; message: string }

/** The contract's custom errors that a voucher can trigger, as refusal reasons. */
export type RedeemRefusal =
  | 'settle_at_passed' | 'time_lock_not_reached' | 'time_lock_expired' | 'wrong_secret' | 'nonce_too_low'
  | 'merge_same_lane' | 'merge_nonce_too_low' | 'amount_below_redeemed' | 'above_deposit' | 'amount_too_large'

/**
 * What `update(v, signature, secret)` does against `channel`, `lane` and the lanes `v`
 * merges — every check of `PaymentChannels._update` after the signer's, in its order.
 * The signature and the caller (the payee) are checked by the callers.
 * @param merged - the state of each lane in `v.merges`, in the same order
 * @param secret - the preimage offered for `v.secretHash` (hex), when there is a hash lock
 * @returns the channel's redeemed total after the update, or the refusal the contract would raise
 * @example
 * redeemRefusal(v, { deposit: 10_000n, redeemed: 0n, settleAt: 0, now }, { nonce: 0n, redeemed: 0n })
 * // → { ok: false, reason: 'nonce_too_low', … } for v.nonce === 0n
 */
export function redeemRefusal(v: EvmVoucher, channel: ChannelView, lane: LaneState, merged: readonly LaneState[] = [], secret?: string): RedeemOutcome {
  const no = (reason: RedeemRefusal, message: string): RedeemOutcome => ({ ok: false, reason, message })
  if (channel.settleAt !== 0 && channel.now >= channel.settleAt) return no('settle_at_passed', `the channel's settlement time ${channel.settleAt} has passed`)
  if (v.timeLockMin !== 0n && BigInt(channel.now) < v.timeLockMin) return no('time_lock_not_reached', `time-locked until ${v.timeLockMin}`)
  if (v.timeLockMax !== 0n && BigInt(channel.now) > v.timeLockMax) return no('time_lock_expired', `expired at ${v.timeLockMax}`)
  if (v.secretHash !== ZERO_HASH && !secretMatches(v.secretHash, secret)) return no('wrong_secret', 'the hash lock needs its secret')
  if (v.nonce <= lane.nonce) {
    return no('nonce_too_low', `nonce ${v.nonce} on lane ${v.lane} is not above ${lane.nonce}, the lane's nonce once what is already held is redeemed`)
  }
  let credited = lane.redeemed
  for (const [i, m] of v.merges.entries()) {
    if (m.lane === v.lane) return no('merge_same_lane', 'a voucher cannot merge its own lane')
    const other = merged[i]
    if (!other || m.nonce <= other.nonce) return no('merge_nonce_too_low', `the merge of lane ${m.lane} has nonce ${m.nonce}, not above ${other?.nonce ?? '?'}`)
    credited += other.redeemed
  }
  const gross = channel.redeemed + v.amount
  if (gross < credited) return no('amount_below_redeemed', `it would lower the redeemed total below what is already redeemed`)
  const newRedeemed = gross - credited
  if (newRedeemed > channel.deposit) return no('above_deposit', `it brings the channel's total to ${newRedeemed}, above the deposit ${channel.deposit}`)
  if (v.amount > MAX_LANE_AMOUNT) return no('amount_too_large', 'its amount does not fit the contract\'s lane (uint192)')
  return { ok: true, newRedeemed }
}

function secretMatches(secretHash: string, secret?: string): boolean {
  if (!secret || !/^0x(?:[0-9a-fA-F]{2})*$/.test(secret)) return false
  return '0x' + Buffer.from(sha256(Buffer.from(secret.slice(2), 'hex'))).toString('hex') === secretHash.toLowerCase()
}
