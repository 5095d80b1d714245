/**
 * What `status` and `voucher best` show of a channel, from the database alone (no chain,
 * no family library): the Lotus `PaychAvailableFunds` breakdown and the best voucher per lane.
 */
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import { availableOf, type ChannelReader } from './reader.js'
import { supersededBy } from './voucher.js'

/**
 * The best (highest-nonce) voucher of every lane (Lotus `PaychVoucherList` + best), without
 * the lanes a merge voucher superseded ({@link effectiveLanes}): the set a payee redeems.
 */
export function bestVouchers(m: ChannelReader, c: ChannelRecord): VoucherRecord[] {
  return m.store.vouchers.effectivePerLane(c.network, c.id)
}

/** Full status of a channel (Lotus `PaychStatus`). Amounts in base units. */
export interface FullStatus {
  /** Deposit confirmed on chain. */
  confirmed: bigint
  /** Deposits sent and not yet mined (including the opening deposit while `opening`). */
  pending: bigint
  /** Deposit requests waiting behind another one; `channels` sends each at once, so 0. */
  queued: bigint
  /** Payer: vouchers signed but not acknowledged by the merchant (may or may not have arrived). */
  reserved: bigint
  /** Latest voucher per lane summed, lanes superseded by a merge left out: what the payee can redeem. */
  spent: bigint
  /** Redeemed on chain. */
  redeemed: bigint
  /** `confirmed − spent`. */
  available: bigint
}

/** Computes {@link FullStatus} from the database (no chain access; `sync` refreshes it). */
export function fullStatus(m: ChannelReader, c: ChannelRecord): FullStatus {
  const all = m.store.vouchers.list(c.network, c.id)
  const mergers = all.filter((v) => v.family === 'evm' && v.merges.length > 0)
  const latest = new Map<bigint, (typeof all)[number]>()
  const acked = new Map<bigint, bigint>()
  for (const v of all) {
    latest.set(v.lane, v) // list is ordered by lane, nonce: the last one wins
    if (v.delivered) acked.set(v.lane, v.amount)
  }
  const best = new Map<bigint, bigint>()
  // A lane a merge superseded is counted in the merge voucher's amount (effectiveLanes).
  for (const [lane, v] of latest) if (!supersededBy(v, mergers)) best.set(lane, v.amount)
  let spent = 0n
  let reserved = 0n
  for (const [lane, amount] of best) {
    spent += amount
    if (c.direction === 'outbound') reserved += amount - (acked.get(lane) ?? 0n)
  }
  const confirmed = c.state === 'opening' ? 0n : c.deposit
  return {
    confirmed,
    pending: c.pendingDeposit + (c.state === 'opening' ? c.deposit : 0n),
    queued: 0n,
    reserved,
    spent,
    redeemed: c.redeemed,
    available: availableOf(confirmed, spent, m.closeReserve(c)),
  }
}
