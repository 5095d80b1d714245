/**
 * The rest of the payment-channel manager API (seed: payment-channel manager API;
 * Lotus `paych` voucher calls): add funds, check, add, list, best and submit vouchers.
 * Rules follow Filecoin paych `UpdateChannelState` and Lotus `paychmgr`.
 */
import { ZeroAddress } from 'ethers'
import type { ChannelManager } from './manager.js'
import { short, type ChannelReader } from '../../core/channel/reader.js'
import { bestVouchers } from '../../core/channel/status.js'
import type { ChannelRecord } from '../../core/store/index.js'
import { evmChannel } from './channel.js'
import type { TxResult } from './chain.js'
import { ChannelsError, ChannelStateError, InvalidVoucherError, UsageError } from '../../core/errors.js'
import { ZERO_HASH, sameVoucher, unstorable, voucherOfFamily, type EvmVoucher } from '../../core/channel/voucher.js'
import { recoverVoucherSigner } from './voucher.js'
import type { LaneState } from './redeemable.js'
import { heldVouchers } from './lanes.js'
import { mergeConflict, redeemOrder, replaceHeld, simulateRedeem } from './merges.js'
import { storeLearned, type VoucherCheck } from '../../core/channel/accept.js'


/**
 * Adds funds to an outbound channel (Lotus `PaychGet` add-funds; contract `deposit`).
 * The amount is recorded as pending while the transaction is in flight.
 * @param amount - base units to add
 * @returns the transaction and the new confirmed deposit (base units)
 * @throws {ChannelStateError} not the payer, or the channel is not open · {InsufficientFundsError} a token the key holds too little of
 */
export async function fundChannel(m: ChannelManager, c: ChannelRecord, amount: bigint, onSent?: (h: string) => void): Promise<{ tx: TxResult; deposit: bigint }> {
  if (c.direction !== 'outbound') throw new ChannelStateError('Only the payer can add funds to a channel.')
  if (c.state !== 'open') throw new ChannelStateError(`Channel ${short(c.id)} is ${c.state}; funds can be added only while it is open.`)
  if (amount <= 0n) throw new UsageError('The amount must be above zero.')
  const signer = await m.signer()
  // A token top-up the key lacks would cost the approve's gas and then revert (ether: the node refuses it for free).
  if (c.asset !== ZeroAddress) await m.requireHeld(c.asset, amount, String(amount), 'Fund the key with the token, or add less.')
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


/**
 * Checks whether a voucher is valid for submission (Lotus `PaychVoucherCheckValid` +
 * `CheckSpendable`): the payer's signature, the channel on chain, then every rule of the
 * contract's `update` ({@link redeemRefusal}: not past `settleAt`, time locks, hash lock
 * with `secret`, a nonce above the lane's, merges, the new total within the deposit).
 * On the payee's side the voucher is judged against the chain as it will be once the
 * vouchers already stored are redeemed — so it must be newer than the stored one of its
 * lane, and fit the deposit together with the other lanes' — and on the payer's side (its
 * own vouchers) against the chain as it is. A merge voucher is judged with the held vouchers
 * it supersedes (its lane's, its merged lanes') left out (issue 11 §3): `redeemable` and
 * `delta` are what the payee can redeem after it minus before it (negative when it drops,
 * which `addVoucher` refuses); a voucher on a lane a stored voucher merged is refused.
 * A hash-locked voucher checked without `secret` is judged by every other rule (Lotus
 * `PaychVoucherCheckValid` ignores the lock) and reported `{valid: true, spendable: false}`,
 * "spendable only with the secret"; with `secret`, a wrong one makes it invalid
 * (`PaychVoucherCheckSpendable`: `sha256(secret) == secretHash`, the contract's rule).
 * @param secret - hex preimage (`0x…`) for a hash-locked voucher
 * @returns the check, and on the payee's side `total`: the channel's redeemed total once every held voucher and `v` are redeemed
 * @throws {NetworkError} the node is unreachable; an invalid voucher is `{valid: false}`
 */
export async function checkVoucher(m: ChannelManager, c: ChannelRecord, v: EvmVoucher, secret?: string): Promise<VoucherCheck & { total?: bigint }> {
  const own = c.direction === 'outbound'
  const bad = (reason: string, delta = 0n): VoucherCheck => ({ valid: false, reason, own, redeemable: 0n, delta })
  if (v.channelId !== c.id) return bad(`the voucher is for channel ${short(v.channelId)}, not ${short(c.id)}`)
  let signer: string
  try {
    signer = recoverVoucherSigner(v, m.backend.chainId, evmChannel(c).data.contract)
  } catch (err) {
    return bad((err as Error).message)
  }
  if (signer !== c.payer) return bad(`signed by ${signer}, not by the payer ${c.payer} (or signed for another chain or contract)`)
  const on = await m.backend.getChannel(c.id)
  if (!on) return bad('the channel is not on chain (closed, or not yet opened)')
  const stored = m.store.vouchers.latest(c.network, c.id, v.lane)
  const delta = v.amount - (stored?.amount ?? 0n)
  const view = { deposit: on.deposit, redeemed: on.redeemed, settleAt: on.settleAt, now: await m.backend.now() }
  // The lanes involved, as the chain holds them now.
  const { held: allHeld, mergers } = own ? { held: [], mergers: [] } : heldVouchers(m, c)
  const chainLanes = new Map<bigint, LaneState>()
  for (const x of [v, ...allHeld]) {
    for (const lane of [x.lane, ...x.merges.map((g) => g.lane)]) if (!chainLanes.has(lane)) chainLanes.set(lane, await m.backend.getLane(c.id, lane))
  }
  // The preimages the contract will get: those stored with held hash-locked vouchers, and `secret` for `v`.
  const secrets = new Map<string, string>()
  for (const x of allHeld) if (x.secret !== undefined) secrets.set(`${x.lane}:${x.nonce}`, x.secret)
  if (secret !== undefined) secrets.set(`${v.lane}:${v.nonce}`, secret)
  const locked = v.secretHash !== ZERO_HASH
  // Without a secret the lock is reported apart, after every other rule (CheckValid vs CheckSpendable).
  const judged = locked && secret === undefined ? { ...v, secretHash: ZERO_HASH } : v
  const spendable = !locked || secret !== undefined
  const valid = (redeemable: bigint, d: bigint): VoucherCheck => ({ valid: true, own, redeemable, delta: d, spendable, ...(spendable ? {} : { reason: SPENDABLE_WITH_SECRET }) })
  if (own) {
    const r = simulateRedeem(view, chainLanes, [judged], secrets)
    if (!r.ok) return bad(refusalText(r, v, chainLanes), delta)
    return valid(r.redeemed - view.redeemed, delta)
  }
  // The payee's projection (issue 11 §3): the vouchers it holds that the chain has not
  // redeemed yet will be redeemed; `v` replaces the one of its lane and those of the lanes
  // it merges, and is worth what that changes.
  const conflict = mergeConflict(v, allHeld, mergers)
  if (conflict) return bad(conflict, delta)
  const held = allHeld.filter((x) => x.nonce > chainLanes.get(x.lane)!.nonce)
  if (stored && stored.nonce > (chainLanes.get(v.lane)?.nonce ?? 0n) && v.nonce <= stored.nonce) return bad(`not newer than the stored voucher (lane ${v.lane}, nonce ${stored.nonce})`, delta)
  const before = simulateRedeem(view, chainLanes, held, secrets)
  const after = simulateRedeem(view, chainLanes, replaceHeld(held, judged), secrets)
  if (!after.ok) {
    if (after.voucher !== judged) return bad(`with it, the stored voucher on lane ${after.voucher.lane} could no longer be redeemed: ${after.message}`, delta)
    return bad(refusalText(after, v, chainLanes), delta)
  }
  const gain = after.redeemed - (before.ok ? before.redeemed : view.redeemed)
  return { ...valid(gain, gain), total: after.redeemed }
}

/** The reason of a refused voucher for `voucher check`/`add`, in the words of the stored state. */
function refusalText(r: { reason: string; message: string }, v: EvmVoucher, chainLanes: ReadonlyMap<bigint, LaneState>): string {
  if (r.reason === 'nonce_too_low') return `nonce ${v.nonce} is not above the lane's on-chain nonce ${chainLanes.get(v.lane)?.nonce ?? 0n} (already redeemed or superseded)`
  if (r.reason === 'settle_at_passed') return 'the channel is past its settlement time'
  return r.message
}

/** How a valid hash-locked voucher checked without its secret is reported. */
export const SPENDABLE_WITH_SECRET = 'spendable only with the secret'

/**
 * Stores an inbound voucher after checking it (Lotus `PaychVoucherAdd`). A channel the
 * payee has not stored yet (learned from the chain by {@link learnChannel}) is stored with
 * the voucher, or not at all.
 * A hash-locked voucher is stored only with its `secret` (checked: `sha256(secret) ==
 * secretHash`), which submit, close and the redemption service then send with it.
 * @param minDelta - smallest acceptable increase of what the payee can redeem, base units
 * @param secret - the preimage of a hash-locked voucher (0x hex)
 * @returns the increase (delta) the voucher brings, base units
 * @throws {InvalidVoucherError} invalid, delta below `minDelta`, locked without its secret (or a wrong one), or a secret for an unlocked voucher
 */
export async function addVoucher(m: ChannelManager, c: ChannelRecord & { stored?: boolean }, v: EvmVoucher, minDelta = 0n, secret?: string): Promise<bigint> {
  if (c.direction !== 'inbound') throw new InvalidVoucherError('Vouchers are added on the payee\'s side; this wallet pays on that channel.')
  const heldBefore = heldKey(m, c)
  const locked = v.secretHash !== ZERO_HASH
  if (locked && secret === undefined) {
    // Stored without it, it would count as redeemable and be sent without its secret (the contract reverts).
    throw new InvalidVoucherError('Voucher refused: it is hash-locked, spendable only with the secret; store it with `--secret <hex>`, or redeem it with `channels voucher submit <channel> <voucher> --secret <hex>`.')
  }
  if (!locked && secret !== undefined) throw new InvalidVoucherError('Voucher refused: --secret was given, but the voucher has no hash lock.')
  const unfit = unstorable(v)
  if (unfit) throw new InvalidVoucherError(`Voucher refused: ${unfit}; ask the payer for one without it.`)
  const check = await checkVoucher(m, c, v, secret)
  if (!check.valid) throw new InvalidVoucherError(`Voucher refused: ${check.reason}.`)
  if (check.delta < minDelta) throw new InvalidVoucherError(`The voucher adds ${check.delta}, less than --min-delta ${minDelta}.`)
  m.store.immediate(() => {
    // The check judged the voucher against the vouchers held then; another may have been stored since.
    if (heldKey(m, c) !== heldBefore) throw new InvalidVoucherError('Voucher refused: another voucher was stored on this channel meanwhile; run the command again.')
    storeLearned(m.store, c)
    m.store.vouchers.insert(c.network, v, { secret })
  })
  return check.delta
}

/** Stores a voucher handed to `submit` (and the channel it taught us), unless it is stored already. */
function storeGiven(m: ChannelManager, c: ChannelRecord & { stored?: boolean }, v: EvmVoucher): void {
  m.store.immediate(() => {
    storeLearned(m.store, c)
    if (!m.store.vouchers.list(c.network, c.id).some((x) => x.lane === v.lane && x.nonce === v.nonce)) m.store.vouchers.insert(c.network, v)
  })
}

/** The (lane, nonce) of the best stored voucher of every lane, as one string. */
const heldKey = (m: ChannelReader, c: ChannelRecord): string =>
  m.store.vouchers.latestPerLane(c.network, c.id).map((x) => `${x.lane}:${x.nonce}`).join(',')

/** Outcome of {@link submitVouchers}. */
export interface SubmitResult {
  /** Transactions sent now (empty when everything was redeemed already). */
  txs: string[]
  /** The channel's redeemed total on chain after them, base units (the last known one when it is closed). */
  redeemed: bigint
  /** Vouchers found redeemed already (on chain, or the channel closed with them): `lane:nonce` and the transaction when known. */
  alreadyRedeemed: { lane: bigint; nonce: bigint; tx?: string }[]
}

/**
 * Redeems vouchers on chain (Lotus `PaychVoucherSubmit`): the given one, or the best of
 * every lane not yet redeemed — lanes a merge superseded left out (`bestVouchers`), all in
 * ONE transaction (`update` for one voucher, `updateMany` for several, merge vouchers last
 * so that a merged lane is never sent after its merger). Idempotent: a voucher already redeemed (its lane's nonce on
 * chain is at or above it, or the channel was closed with it) is reported in
 * `alreadyRedeemed`, not sent again, and is not an error.
 * A hash-locked voucher goes with its `secret` (Lotus `PaychVoucherSubmit(ch, sv, secret)`);
 * without one, or with a wrong one, it is refused before any gas is spent. The best stored
 * vouchers never include a hash-locked one (`voucher add` refuses them).
 * @param secret - hex preimage (`0x…`) of the given voucher's hash lock
 * @returns the transactions sent, the channel's redeemed total and what was redeemed already
 * @throws {InvalidVoucherError} the given voucher is invalid for another reason, or locked and the secret missing or wrong
 * @throws {ChannelStateError} not the payee, nothing was ever stored to submit, or refused by the contract
 */
export async function submitVouchers(m: ChannelManager, c: ChannelRecord & { stored?: boolean }, v?: EvmVoucher, secret?: string): Promise<SubmitResult> {
  if (c.direction !== 'inbound') throw new ChannelStateError('Only the payee submits vouchers.')
  // A held hash-locked voucher is stored with its secret (`add --secret`) or by its own redemption.
  const all: (EvmVoucher & { secret?: string })[] = v ? [v] : bestVouchers(m, c).map((x) => voucherOfFamily(x, 'evm')).filter((x) => x.secretHash === ZERO_HASH || x.submittedTx || x.secret)
  if (all.length === 0) throw new ChannelStateError(`No voucher to submit on channel ${short(c.id)}.`, { metaMessages: ['`channels voucher add` stores one first.'] })
  const alreadyRedeemed: SubmitResult['alreadyRedeemed'] = []
  const on = await m.backend.getChannel(c.id)
  if (!on) {
    // Closed on chain: what it was closed with is redeemed; anything else can never be.
    const stored = m.store.vouchers.list(c.network, c.id)
    for (const x of all) {
      // Redeemed itself, or superseded on its lane by a voucher that was.
      const rec = stored.find((y) => y.lane === x.lane && y.nonce >= x.nonce && y.submittedTx)
      if (!rec) throw new ChannelStateError(`Channel ${short(c.id)} is closed on chain; voucher lane ${x.lane} nonce ${x.nonce} can no longer be redeemed.`)
      alreadyRedeemed.push({ lane: x.lane, nonce: x.nonce, tx: rec.submittedTx })
    }
    return { txs: [], redeemed: c.redeemed, alreadyRedeemed }
  }
  const todo: EvmVoucher[] = []
  for (const x of all) {
    const lane = await m.backend.getLane(c.id, x.lane)
    if (x.nonce <= lane.nonce) {
      const rec = m.store.vouchers.list(c.network, c.id).find((y) => y.lane === x.lane && y.nonce === x.nonce)
      alreadyRedeemed.push({ lane: x.lane, nonce: x.nonce, tx: rec?.submittedTx })
    } else todo.push(x)
  }
  // A voucher given that is stored already (`voucher add`, then `submit` of the same token) was
  // checked when stored: judged again it would be "not newer than the stored voucher". The contract decides.
  const held = v && m.store.vouchers.list(c.network, c.id).some((y) => y.lane === v.lane && y.nonce === v.nonce && sameVoucher(y, v))
  if (v && todo.length && !held) {
    // Refused before any gas is spent: it is stored with its redemption (a hash-locked one after the transaction).
    const unfit = unstorable(v)
    if (unfit) throw new InvalidVoucherError(`Voucher refused: ${unfit}; ask the payer for one without it.`)
    const check = await checkVoucher(m, c, v, secret)
    if (!check.valid) throw new InvalidVoucherError(`Voucher refused: ${check.reason}.`)
    if (check.spendable === false) throw new InvalidVoucherError(`Voucher refused: it is hash-locked, ${SPENDABLE_WITH_SECRET}; pass it with --secret <hex>.`)
    // A hash-locked voucher is stored only once redeemed (below): held unredeemed, it would be sent without its secret.
    if (v.secretHash === ZERO_HASH) storeGiven(m, c, v)
  }
  const txs: string[] = []
  if (todo.length) {
    // One transaction for every lane (`updateMany`), merge vouchers after the plain ones; a
    // given voucher goes alone, with its secret.
    const signer = await m.signer()
    const ordered = redeemOrder(todo)
    const secretOf = (x: EvmVoucher & { secret?: string }) => (x === v ? secret : x.secret)
    const tx = ordered.length === 1 ? await m.backend.update(signer, ordered[0], secretOf(ordered[0])) : await m.backend.updateMany(signer, ordered, ordered.map(secretOf))
    for (const x of ordered) if (x.secretHash !== ZERO_HASH) storeGiven(m, c, x)
    m.store.immediate(() => {
      for (const x of ordered) m.store.vouchers.markSubmitted(c.network, c.id, x.lane, x.nonce, tx.hash)
    })
    txs.push(tx.hash)
  }
  const after = txs.length ? await m.backend.getChannel(c.id) : on
  if (!after) throw new ChannelsError(`Channel ${short(c.id)} vanished from the chain.`)
  if (m.store.channels.get(c.network, c.id)) m.store.channels.update(c.network, c.id, { redeemed: after.redeemed })
  return { txs, redeemed: after.redeemed, alreadyRedeemed }
}


