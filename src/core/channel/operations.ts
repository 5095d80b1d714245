/**
 * The rest of the payment-channel manager API (seed: payment-channel manager API;
 * Lotus `paych` voucher calls): add funds, check, add, list, best and submit vouchers.
 * Rules follow Filecoin paych `UpdateChannelState` and Lotus `paychmgr`.
 */
import type { ChannelManager } from './manager.js'
import type { ChannelReader } from './reader.js'
import { availableOf, short } from './reader.js'
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import type { TxResult } from '../chains/backend.js'
import { ChannelsError, ChannelStateError, UsageError } from '../errors.js'
import { recoverVoucherSigner, type Voucher } from './voucher.js'

/** A voucher refused by `voucher check`/`voucher add`. Exit 2 (bad input). */
export class InvalidVoucherError extends UsageError {
  override name = 'Voucher.InvalidVoucherError'
  override code = 'INVALID_VOUCHER'
}

/**
 * Adds funds to an outbound channel (Lotus `PaychGet` add-funds; contract `deposit`).
 * The amount is recorded as pending while the transaction is in flight.
 * @param amount - base units to add
 * @returns the transaction and the new confirmed deposit (base units)
 * @throws {ChannelStateError} not the payer, or the channel is not open
 */
export async function fundChannel(m: ChannelManager, c: ChannelRecord, amount: bigint, onSent?: (h: string) => void): Promise<{ tx: TxResult; deposit: bigint }> {
  if (c.direction !== 'outbound') throw new ChannelStateError('Only the payer can add funds to a channel.')
  if (c.state !== 'open') throw new ChannelStateError(`Channel ${short(c.id)} is ${c.state}; funds can be added only while it is open.`)
  if (amount <= 0n) throw new UsageError('The amount must be above zero.')
  const signer = await m.signer()
  m.store.channels.update(c.network, c.id, { pendingDeposit: c.pendingDeposit + amount })
  let tx: TxResult
  try {
    tx = await m.backend.deposit(signer, c.id, c.asset, amount, onSent)
  } finally {
    const now = m.store.channels.get(c.network, c.id)!
    m.store.channels.update(c.network, c.id, { pendingDeposit: now.pendingDeposit >= amount ? now.pendingDeposit - amount : 0n })
  }
  const on = await m.backend.getChannel(c.id)
  const deposit = on?.deposit ?? c.deposit + amount
  m.store.channels.update(c.network, c.id, { deposit })
  return { tx, deposit }
}

/** Result of `voucher check`. Amounts in base units. */
export interface VoucherCheck {
  valid: boolean
  /** Why not, when invalid. */
  reason?: string
  /** The voucher was signed by this wallet (we are the payer). */
  own: boolean
  /** What redeeming it would add on chain now (0 when invalid). */
  redeemable: bigint
  /** What it adds over the best voucher already stored on its lane (payee side). */
  delta: bigint
}

/**
 * Checks whether a voucher is valid for submission (Lotus `PaychVoucherCheckValid` +
 * `CheckSpendable`): the payer's signature, the channel on chain and not past
 * `settleAt`, time locks, a nonce above the lane's on-chain nonce, merges, and the new
 * redeemed total within the deposit. On the payee's side a voucher must also be newer
 * than the stored ones; on the payer's side (its own vouchers) it says so instead.
 * @throws {ChannelsError} network errors only; an invalid voucher is `{valid: false}`
 */
export async function checkVoucher(m: ChannelManager, c: ChannelRecord, v: Voucher): Promise<VoucherCheck> {
  const own = c.direction === 'outbound'
  const bad = (reason: string): VoucherCheck => ({ valid: false, reason, own, redeemable: 0n, delta: 0n })
  if (v.channelId !== c.id) return bad(`the voucher is for channel ${short(v.channelId)}, not ${short(c.id)}`)
  let signer: string
  try {
    signer = recoverVoucherSigner(v, m.backend.chainId, c.contract)
  } catch (err) {
    return bad((err as Error).message)
  }
  if (signer !== c.payer) return bad(`signed by ${signer}, not by the payer ${c.payer} (or signed for another chain or contract)`)
  const on = await m.backend.getChannel(c.id)
  if (!on) return bad('the channel is not on chain (closed, or not yet opened)')
  const now = await m.backend.now()
  if (on.settleAt !== 0 && now >= on.settleAt) return bad('the channel is past its settlement time')
  if (v.timeLockMin !== 0n && BigInt(now) < v.timeLockMin) return bad(`time-locked until ${v.timeLockMin}`)
  if (v.timeLockMax !== 0n && BigInt(now) > v.timeLockMax) return bad(`expired at ${v.timeLockMax}`)
  const lane = await m.backend.getLane(c.id, v.lane)
  if (v.nonce <= lane.nonce) return bad(`nonce ${v.nonce} is not above the lane's on-chain nonce ${lane.nonce} (already redeemed or superseded)`)
  let fromOthers = 0n
  for (const mg of v.merges) {
    if (mg.lane === v.lane) return bad('a voucher cannot merge its own lane')
    const other = await m.backend.getLane(c.id, mg.lane)
    if (mg.nonce <= other.nonce) return bad(`merge of lane ${mg.lane} has a stale nonce ${mg.nonce} (on chain ${other.nonce})`)
    fromOthers += other.redeemed
  }
  const newRedeemed = on.redeemed + v.amount - (fromOthers + lane.redeemed)
  if (newRedeemed < 0n) return bad('the voucher would lower the redeemed total below zero')
  if (newRedeemed > on.deposit) return bad(`it needs ${newRedeemed}, above the deposit ${on.deposit}`)
  const stored = m.store.vouchers.latest(c.network, c.id, v.lane)
  const delta = v.amount - (stored?.amount ?? 0n)
  if (!own && stored && v.nonce <= stored.nonce) {
    return { valid: false, reason: `not newer than the stored voucher (lane ${v.lane}, nonce ${stored.nonce})`, own, redeemable: newRedeemed - on.redeemed, delta }
  }
  return { valid: true, own, redeemable: newRedeemed - on.redeemed, delta }
}

/**
 * Stores an inbound voucher after checking it (Lotus `PaychVoucherAdd`).
 * @param minDelta - smallest acceptable increase over the lane's stored amount, base units
 * @returns the increase (delta) the voucher brings, base units
 * @throws {InvalidVoucherError} invalid, or delta below `minDelta`
 */
export async function addVoucher(m: ChannelManager, c: ChannelRecord, v: Voucher, minDelta = 0n): Promise<bigint> {
  if (c.direction !== 'inbound') throw new InvalidVoucherError('Vouchers are added on the payee\'s side; this wallet pays on that channel.')
  const check = await checkVoucher(m, c, v)
  if (!check.valid) throw new InvalidVoucherError(`Voucher refused: ${check.reason}.`)
  if (check.delta < minDelta) throw new InvalidVoucherError(`The voucher adds ${check.delta}, less than --min-delta ${minDelta}.`)
  m.store.immediate(() => {
    const latest = m.store.vouchers.latest(c.network, c.id, v.lane)
    if (latest && v.nonce <= latest.nonce) throw new InvalidVoucherError(`Voucher refused: a voucher with nonce ${latest.nonce} was stored meanwhile.`)
    m.store.vouchers.insert(c.network, v)
  })
  return check.delta
}

/** The best (highest-nonce) voucher of every lane (Lotus `PaychVoucherList` + best). */
export function bestVouchers(m: ChannelReader, c: ChannelRecord): VoucherRecord[] {
  return m.store.vouchers.latestPerLane(c.network, c.id)
}

/**
 * Redeems vouchers on chain (Lotus `PaychVoucherSubmit`): the given one, or the best of
 * every lane not yet submitted. Idempotent: a voucher is marked submitted with a
 * conditional update, and one already submitted is skipped.
 * @returns the transactions sent and the channel's redeemed total after them
 * @throws {ChannelStateError} not the payee, nothing to submit, or refused by the contract
 */
export async function submitVouchers(m: ChannelManager, c: ChannelRecord, v?: Voucher): Promise<{ txs: string[]; redeemed: bigint }> {
  if (c.direction !== 'inbound') throw new ChannelStateError('Only the payee submits vouchers.')
  const candidates = v ? [v] : bestVouchers(m, c).filter((x) => !x.submittedTx)
  if (candidates.length === 0) throw new ChannelStateError(`No unsubmitted voucher on channel ${short(c.id)}.`)
  if (v) {
    const check = await checkVoucher(m, c, v)
    if (!check.valid) throw new InvalidVoucherError(`Voucher refused: ${check.reason}.`)
    if (!m.store.vouchers.list(c.network, c.id).some((x) => x.lane === v.lane && x.nonce === v.nonce)) m.store.vouchers.insert(c.network, v)
  }
  const signer = await m.signer()
  const txs: string[] = []
  for (const x of candidates) {
    const lane = await m.backend.getLane(c.id, x.lane)
    if (x.nonce <= lane.nonce) continue // already redeemed on chain
    const tx = await m.backend.update(signer, x)
    m.store.vouchers.markSubmitted(c.network, c.id, x.lane, x.nonce, tx.hash)
    txs.push(tx.hash)
  }
  const on = await m.backend.getChannel(c.id)
  if (!on) throw new ChannelsError(`Channel ${short(c.id)} vanished from the chain.`)
  m.store.channels.update(c.network, c.id, { redeemed: on.redeemed })
  return { txs, redeemed: on.redeemed }
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
  /** Latest voucher per lane summed: what the payee can redeem. */
  spent: bigint
  /** Redeemed on chain. */
  redeemed: bigint
  /** `confirmed − spent`. */
  available: bigint
}

/** Computes {@link FullStatus} from the database (no chain access; `sync` refreshes it). */
export function fullStatus(m: ChannelReader, c: ChannelRecord): FullStatus {
  const all = m.store.vouchers.list(c.network, c.id)
  const best = new Map<bigint, bigint>()
  const acked = new Map<bigint, bigint>()
  for (const v of all) {
    best.set(v.lane, v.amount) // list is ordered by lane, nonce: the last one wins
    if (v.delivered) acked.set(v.lane, v.amount)
  }
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
    available: availableOf(c, spent, confirmed),
  }
}
