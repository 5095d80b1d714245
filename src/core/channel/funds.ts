/**
 * A payer's funds on a channel that never block on the chain (issue 11 §2, DESIGN §13): the
 * Lotus FundManager bookkeeping (`reserved`, `queued`) behind the manager seed's ReserveFunds,
 * ReleaseFunds, Lookup and AllocateLane. Family-independent: pure arithmetic plus store
 * transactions; a family signs and broadcasts the deposit a {@link claimQueued} hands it
 * (families/evm/deposits.ts).
 *
 * The quantities of a channel, all base units (wei, token units, satoshis):
 * - `confirmed`: the deposit mined on chain (`ChannelRecord.deposit`);
 * - `pending`: deposits in flight (`pendingDeposit`); the top-up in flight has its signed
 *   transaction stored (`pendingTx`, `pendingRaw`) before it is broadcast;
 * - `queued`: top-up asked for while a deposit was pending; all of it goes in ONE next deposit;
 * - `reserved`: set aside for payments not yet made; a voucher made with the reservation consumes it;
 * - `spent`: the latest voucher of every lane summed (what the payee can redeem).
 *
 * The rule that keeps every reservation covered: `spent + reserved + closeReserve ≤ confirmed +
 * pending + queued`; `available = confirmed − spent − reserved − closeReserve` (at least 0) is
 * what a voucher made without a reservation may use, so it never eats another caller's.
 * Every change runs under `BEGIN IMMEDIATE` and re-reads the row: several processes race.
 */
import type { Store, ChannelRecord } from '../store/index.js'
import { canPay } from './state.js'
import { spentAcrossLanes } from './voucher.js'
import { availableOf, short } from './reader.js'
import { ChannelStateError, InsufficientFundsError, NotFoundError, UsageError } from '../errors.js'

/** A channel's funds, base units (see the file comment). */
export interface Funds {
  confirmed: bigint
  pending: bigint
  queued: bigint
  reserved: bigint
  spent: bigint
  /** What the family holds back from every deposit (Bitcoin: the close fee; EVM: 0). */
  closeReserve: bigint
}

/**
 * What the channel lacks to cover every voucher and reservation once the deposits in flight and
 * queued land: `spent + reserved + closeReserve − (confirmed + pending + queued)`; ≤ 0 means covered.
 * @example fundsNeed({ confirmed: 1000n, pending: 0n, queued: 0n, reserved: 1500n, spent: 200n, closeReserve: 0n }) // 700n
 */
export function fundsNeed(f: Funds): bigint {
  return f.spent + f.reserved + f.closeReserve - (f.confirmed + f.pending + f.queued)
}

/**
 * What a voucher made without a reservation may still add: `confirmed − spent − reserved −
 * closeReserve`, at least 0 (the status' `available`).
 * @example availableFunds({ confirmed: 1000n, pending: 500n, queued: 0n, reserved: 300n, spent: 200n, closeReserve: 0n }) // 500n
 */
export function availableFunds(f: Funds): bigint {
  return availableOf(f.confirmed, f.spent + f.reserved, f.closeReserve)
}

/**
 * The funds of a stored channel (its row and the latest voucher of every lane).
 * @param closeReserve - the family's `closeReserve(c)`, base units
 */
export function fundsOf(store: Store, c: ChannelRecord, closeReserve = 0n): Funds {
  const opening = c.state === 'opening'
  return {
    confirmed: opening ? 0n : c.deposit,
    pending: c.pendingDeposit + (opening ? c.deposit : 0n),
    queued: c.queued,
    reserved: c.reserved,
    spent: spentAcrossLanes(store.vouchers.effectivePerLane(c.network, c.id)),
    closeReserve,
  }
}

/**
 * How a new voucher's value is paid for (the rule of `createVoucher`, Lotus `PaychVoucherCreate`
 * with FundManager reservations). The voucher adds `totalAfter − spentBefore`; with
 * `useReserved` that much (at most what is reserved) comes out of `reserved`. It fits when
 * `totalAfter + reservedAfter + closeReserve ≤ deposit`: without a reservation a voucher may use
 * only `available`, never funds another caller set aside.
 * @param deposit - the confirmed deposit, base units
 * @param totalAfter - the sum over lanes of the latest voucher amounts once this voucher is stored, base units
 * @returns the reservation left, and the shortfall (0 when it fits), base units
 * @example voucherFunds({ deposit: 1000n, reserved: 400n, closeReserve: 0n }, 600n, 800n, true) // { reservedAfter: 200n, shortfall: 0n }
 */
export function voucherFunds(f: { deposit: bigint; reserved: bigint; closeReserve: bigint }, spentBefore: bigint, totalAfter: bigint, useReserved: boolean): { reservedAfter: bigint; shortfall: bigint } {
  const delta = totalAfter > spentBefore ? totalAfter - spentBefore : 0n
  const take = useReserved ? (delta < f.reserved ? delta : f.reserved) : 0n
  const reservedAfter = f.reserved - take
  const over = totalAfter + reservedAfter + f.closeReserve - f.deposit
  return { reservedAfter, shortfall: over > 0n ? over : 0n }
}

/** Outcome of {@link reserveFunds}: the channel as stored afterwards and what was queued now. */
export interface ReserveOutcome {
  channel: ChannelRecord
  /** Base units this reservation added to `queued` (0 when the channel covered it). */
  queuedNow: bigint
}

/** How a family tops a channel up, for {@link reserveFunds}. */
export interface TopUpPolicy {
  /** Whether a missing amount may be queued as a deposit; false: an InsufficientFundsError. */
  topUp: boolean
  /** The family's `closeReserve(c)`, base units. */
  closeReserve: bigint
  /** Why the channel cannot be topped up, when `topUp` is false (a sentence the error's message ends with). */
  noTopUp?: string
}

/**
 * Sets `amount` aside on an outbound channel (Lotus FundManager `Reserve`, the seed's
 * ReserveFunds) without waiting for the chain: `reserved += amount`; what the channel then lacks
 * ({@link fundsNeed} > 0) is added to `queued`, to go in ONE next deposit (the family sends it by
 * {@link claimQueued} when no deposit is pending, else once the pending one is mined).
 * One `BEGIN IMMEDIATE` transaction on a fresh read of the row.
 * @param amount - base units, above 0
 * @throws {UsageError} amount not above 0 · {@link ChannelStateError} not the payer, or the channel cannot pay (not open)
 * @throws {InsufficientFundsError} the family cannot top up (`policy.topUp` false) and the deposit does not cover it; nothing is written
 * @example reserveFunds(store, c, 5000n, { topUp: true, closeReserve: 0n }).queuedNow // 0n when the deposit covers it
 */
export function reserveFunds(store: Store, c: ChannelRecord, amount: bigint, policy: TopUpPolicy): ReserveOutcome {
  if (amount <= 0n) throw new UsageError('The amount to reserve must be above zero.')
  return store.immediate(() => {
    const ch = payerChannel(store, c)
    if (!canPay(ch.state)) throw new ChannelStateError(`Channel ${short(ch.id)} is ${ch.state}; funds can be reserved only while it is open.`)
    const f = { ...fundsOf(store, ch, policy.closeReserve), reserved: ch.reserved + amount }
    const need = fundsNeed(f)
    if (need > 0n && !policy.topUp) {
      const why = policy.noTopUp ? ` ${policy.noTopUp}` : ''
      throw new InsufficientFundsError(`Channel ${short(ch.id)} cannot set aside ${amount}: it lacks ${need} (deposit ${f.confirmed}, spent ${f.spent}, reserved ${ch.reserved}); shortfall ${need}.${why}`, need, {
        metaMessages: ['`channels release` gives back funds reserved before; `channels open` makes another channel.'],
      })
    }
    const queuedNow = need > 0n ? need : 0n
    store.channels.update(ch.network, ch.id, { reserved: f.reserved, queued: ch.queued + queuedNow })
    return { channel: store.channels.get(ch.network, ch.id)!, queuedNow }
  })
}

/**
 * Gives back funds set aside by {@link reserveFunds} (Lotus FundManager `Release`, the seed's
 * ReleaseFunds): `reserved −= amount`. A queued or pending top-up is not cancelled.
 * @param amount - base units, above 0
 * @returns the channel as stored afterwards
 * @throws {UsageError} amount not above 0, or above what is reserved · {@link ChannelStateError} not the payer
 */
export function releaseFunds(store: Store, c: ChannelRecord, amount: bigint): ChannelRecord {
  if (amount <= 0n) throw new UsageError('The amount to release must be above zero.')
  return store.immediate(() => {
    const ch = payerChannel(store, c)
    if (amount > ch.reserved) throw new UsageError(`Channel ${short(ch.id)} has ${ch.reserved} reserved; cannot release ${amount}.`, { data: { reserved: ch.reserved.toString() } })
    store.channels.update(ch.network, ch.id, { reserved: ch.reserved - amount })
    return store.channels.get(ch.network, ch.id)!
  })
}

/** A top-up deposit signed by the family, not yet broadcast. */
export interface SignedDeposit {
  /** Transaction hash, 0x hex. */
  hash: string
  /** The signed raw transaction, 0x hex. */
  raw: string
}

/** A top-up claimed by {@link claimQueued}: stored as pending, to be broadcast by the family. */
export interface ClaimedDeposit extends SignedDeposit {
  /** Base units the deposit adds. */
  amount: bigint
}

/**
 * Turns the queued top-up into the pending deposit when no deposit is pending (Lotus
 * FundManager: one message in flight per channel). On a fresh read under `BEGIN IMMEDIATE`: the
 * amount is what is queued, cut to what the channel still lacks (a release may have made some of
 * it unneeded); `sign` signs the deposit of that amount synchronously, and its hash and raw
 * transaction are stored with `pending = amount, queued = 0` before anything is broadcast, so a
 * crash after this point rebroadcasts the same transaction (same nonce), never a second deposit.
 * @param sign - signs a deposit of the given base units (no I/O: it runs inside the write lock)
 * @returns the claimed deposit, or undefined (a deposit is pending, nothing is queued, the channel cannot pay, or nothing is lacking any more)
 */
export function claimQueued(store: Store, c: ChannelRecord, closeReserve: bigint, sign: (amount: bigint) => SignedDeposit): ClaimedDeposit | undefined {
  return store.immediate(() => {
    const ch = store.channels.get(c.network, c.id)
    if (!ch || ch.direction !== 'outbound' || ch.state !== 'open') return undefined
    if (ch.queued <= 0n || ch.pendingDeposit > 0n || ch.pendingTx) return undefined
    const need = fundsNeed({ ...fundsOf(store, ch, closeReserve), queued: 0n })
    const amount = need < ch.queued ? need : ch.queued
    if (amount <= 0n) {
      store.channels.update(ch.network, ch.id, { queued: 0n })
      return undefined
    }
    const signed = sign(amount)
    store.channels.update(ch.network, ch.id, { pendingDeposit: amount, queued: 0n, pendingTx: signed.hash, pendingRaw: signed.raw })
    return { ...signed, amount }
  })
}

/** What became of the pending top-up `hash` of `amount` base units (the family's receipt lookup). */
export type DepositOutcome =
  | { outcome: 'mined'; hash: string; amount: bigint; /** The channel's deposit on chain afterwards, base units. */ deposit: bigint }
  | { outcome: 'dropped'; hash: string; amount: bigint }

/**
 * Records the end of the pending top-up: mined → `confirmed` = the deposit on chain, `pending −=
 * amount`; reverted or dropped → its amount moves back to `queued` (to go in the next deposit).
 * Either way the stored transaction is cleared. Nothing happens when the row's pending
 * transaction is no longer `hash` (another process recorded it first).
 * @returns whether this call recorded it
 */
export function settleDeposit(store: Store, c: ChannelRecord, o: DepositOutcome): boolean {
  return store.immediate(() => {
    const ch = store.channels.get(c.network, c.id)
    if (!ch || ch.pendingTx !== o.hash) return false
    const pendingDeposit = ch.pendingDeposit > o.amount ? ch.pendingDeposit - o.amount : 0n
    const cleared = { pendingDeposit, pendingTx: undefined, pendingRaw: undefined }
    if (o.outcome === 'mined') store.channels.update(ch.network, ch.id, { ...cleared, deposit: o.deposit })
    else store.channels.update(ch.network, ch.id, { ...cleared, queued: ch.queued + o.amount })
    return true
  })
}

/** An outbound channel with what it can still pay (see {@link lookupChannel}). */
export interface PayableChannel {
  channel: ChannelRecord
  /** {@link availableFunds}, base units. */
  available: bigint
}

/**
 * The open outbound channels to `payee` on `network` (those `accept` takes) that can pay at
 * least `minAvailable` without touching reservations, most available first; none is an empty
 * list. The pay path's choice of a channel (`buy`) and {@link lookupChannel}.
 * @param minAvailable - base units
 */
export function payableChannels(
  store: Store, network: string, payee: string, minAvailable: bigint, closeReserve: (c: ChannelRecord) => bigint, accept: (c: ChannelRecord) => boolean = () => true,
): PayableChannel[] {
  return store.channels
    .list({ network, direction: 'outbound', state: 'open', payee })
    .filter(accept)
    .map((channel) => ({ channel, available: availableFunds(fundsOf(store, channel, closeReserve(channel))) }))
    .filter((p) => p.available >= minAvailable)
    .sort((a, b) => (a.available > b.available ? -1 : a.available < b.available ? 1 : 0))
}

/**
 * The open outbound channels of this wallet to `payee` on `network` that can pay at least
 * `minAvailable` without touching reservations, most available first (the seed's Lookup, Lotus
 * `PaychGet` without creating one).
 * @param payee - the payee as the family stores it (EVM: EIP-55 address; Bitcoin: pubkey hex)
 * @param minAvailable - base units (default 1: any free funds)
 * @param accept - a family's extra filter (e.g. the configured contract)
 * @throws {NotFoundError} no such channel (exit 2)
 * @example lookupChannel(store, 'eip155:31337', '0xAb…', 1000n, () => 0n)[0].channel.id // '0x3f2a…'
 */
export function lookupChannel(
  store: Store, network: string, payee: string, minAvailable: bigint, closeReserve: (c: ChannelRecord) => bigint, accept: (c: ChannelRecord) => boolean = () => true,
): PayableChannel[] {
  const found = payableChannels(store, network, payee, minAvailable > 0n ? minAvailable : 1n, closeReserve, accept)
  if (!found.length) {
    throw new NotFoundError(`No open channel to ${payee} has ${minAvailable > 1n ? `${minAvailable} ` : ''}free funds.`, {
      metaMessages: ['`channels open <payee> <amount>` opens one; `channels fund` or `channels reserve` adds to one.'],
    })
  }
  return found
}

/**
 * Hands out a lane of an outbound channel that no stored voucher uses and no earlier call handed
 * out (the seed's AllocateLane, Lotus `PaychAllocateLane`), recorded in `next_lane` in one
 * `BEGIN IMMEDIATE` transaction so two processes never get the same lane. Lane 0 is the default
 * lane of `pay` and `buy`, so allocated lanes start at 1.
 * @returns the lane
 * @throws {ChannelStateError} not the payer, or the channel cannot pay
 * @example allocateLane(store, c) // 1n, then 2n
 */
export function allocateLane(store: Store, c: ChannelRecord): bigint {
  return store.immediate(() => {
    const ch = payerChannel(store, c)
    if (!canPay(ch.state)) throw new ChannelStateError(`Channel ${short(ch.id)} is ${ch.state}; no lane can be allocated on it.`)
    let lane = ch.nextLane > 1n ? ch.nextLane : 1n
    for (const v of store.vouchers.latestPerLane(ch.network, ch.id)) if (v.lane >= lane) lane = v.lane + 1n
    store.channels.update(ch.network, ch.id, { nextLane: lane + 1n })
    return lane
  })
}

/** The row of `c` read afresh, which must be this wallet's outbound channel. */
function payerChannel(store: Store, c: ChannelRecord): ChannelRecord {
  const ch = store.channels.get(c.network, c.id)
  if (!ch) throw new NotFoundError(`No channel ${c.id} on ${c.network}.`)
  if (ch.direction !== 'outbound') throw new ChannelStateError(`Channel ${short(ch.id)} is inbound; only its payer manages its funds and lanes.`)
  return ch
}
