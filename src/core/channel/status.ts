/**
 * What `status` and `voucher best` show of a channel, from the database alone (no chain,
 * no family library): the Lotus `PaychAvailableFunds` breakdown and the best voucher per lane.
 */
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import { availableOf, type ChannelReader } from './reader.js'
import { ZERO_HASH, supersededBy } from './voucher.js'

/**
 * The best (highest-nonce) voucher of every lane (Lotus `PaychVoucherList` + best), without
 * the lanes a merge voucher superseded ({@link effectiveLanes}): the set a payee redeems.
 */
export function bestVouchers(m: ChannelReader, c: ChannelRecord): VoucherRecord[] {
  return m.store.vouchers.effectivePerLane(c.network, c.id)
}

/**
 * Full status of a channel (Lotus `PaychStatus` with the FundManager's view, DESIGN §13). Amounts
 * in base units; see core/channel/funds.ts for how they relate.
 */
export interface FullStatus {
  /** Deposit confirmed on chain. */
  confirmed: bigint
  /** Deposits sent and not yet mined (including the opening deposit while `opening`). */
  pending: bigint
  /** Top-up asked for by `reserve` while a deposit was pending: sent as one deposit once that one is mined. */
  queued: bigint
  /** Payer: set aside by `reserve` for payments not yet made (the Lotus FundManager meaning). */
  reserved: bigint
  /** Payer: vouchers signed but not acknowledged by the merchant (may or may not have arrived). */
  unacknowledged: bigint
  /** Latest voucher per lane summed, lanes superseded by a merge left out: what the payee can redeem. */
  spent: bigint
  /**
   * Of `spent`, what sits on hash-locked lanes not yet redeemed (in flight through a hub, DESIGN §11):
   * the payee can redeem it only with the secret, before its `timeLockMax`. Only what each lock adds
   * to its lane counts: a reused lane's unconditional total below it is not in flight.
   */
  conditional: bigint
  /** Redeemed on chain. */
  redeemed: bigint
  /** `confirmed − spent − reserved` (minus the family's close reserve), at least 0: what a payment without a reservation may use. */
  available: bigint
  /** The pending top-up deposit transaction (hash), if any. */
  pendingTx?: string
}

/** Computes {@link FullStatus} from the database (no chain access; `sync` and `reserve` advance a pending deposit). */
export function fullStatus(m: ChannelReader, c: ChannelRecord): FullStatus {
  const all = m.store.vouchers.list(c.network, c.id)
  const mergers = all.filter((v) => v.family === 'evm' && v.merges.length > 0)
  const latest = new Map<bigint, (typeof all)[number]>()
  const acked = new Map<bigint, bigint>()
  /** Per lane, the amount of the voucher before the latest: a lane's conditional voucher adds its lock's value on top of it (lanes are reused). */
  const under = new Map<bigint, bigint>()
  for (const v of all) {
    if (v.expired) continue // a hash lock that passed unredeemed: the lane is worth its previous voucher
    const before = latest.get(v.lane)
    if (before) under.set(v.lane, before.amount)
    latest.set(v.lane, v) // list is ordered by lane, nonce: the last one wins
    if (v.delivered) acked.set(v.lane, v.amount)
  }
  const best = new Map<bigint, bigint>()
  let conditional = 0n
  // A lane a merge superseded is counted in the merge voucher's amount (effectiveLanes).
  for (const [lane, v] of latest) {
    if (supersededBy(v, mergers)) continue
    best.set(lane, v.amount)
    if (v.family === 'evm' && v.secretHash !== ZERO_HASH && !v.submittedTx) conditional += v.amount - (under.get(lane) ?? 0n)
  }
  let spent = 0n
  let unacknowledged = 0n
  for (const [lane, amount] of best) {
    spent += amount
    if (c.direction === 'outbound') unacknowledged += amount - (acked.get(lane) ?? 0n)
  }
  const confirmed = c.state === 'opening' ? 0n : c.deposit
  return {
    confirmed,
    pending: c.pendingDeposit + (c.state === 'opening' ? c.deposit : 0n),
    queued: c.queued,
    reserved: c.reserved,
    unacknowledged,
    spent,
    conditional,
    redeemed: c.redeemed,
    available: availableOf(confirmed, spent + c.reserved, m.closeReserve(c)),
    pendingTx: c.pendingTx,
  }
}
