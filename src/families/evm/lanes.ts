/**
 * Lanes and merges on EVM channels (issue 11 §3; Filecoin paych lanes and merges,
 * `PaymentChannels._update`/`_merge`): the payer's merge voucher and both sides of
 * reconciliation (Filecoin "Payment Reconciliation"). The payee's projection of what it can
 * redeem and the redemption order are in merges.ts (the manager imports them).
 *
 * The rules, shared by both sides:
 * - a merge voucher on lane `into` merges lanes L at `nonce(L) + 1` and is worth the sum of
 *   `into`'s value and the merged lanes' latest amounts (less a reconciliation discount);
 * - a lane merged by a stored voucher takes no new voucher (its nonce on chain is raised by
 *   the merge, its old vouchers are superseded: `effectiveLanes`);
 * - later vouchers on `into` carry the merges forward, so that each of them alone still
 *   closes the merged lanes (else the payee could redeem a merged lane's old voucher, then
 *   a voucher on `into` whose amount already counts that lane);
 * - the payee redeems only the effective vouchers (`bestVouchers`), never a superseded one,
 *   and never a merged lane's voucher after its merger.
 */
import type { ChannelManager } from './manager.js'
import type { ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import { evmChannel } from './channel.js'
import { signVoucher } from './voucher.js'
import { carriedMerges, chainMergedLanes } from './merges.js'
import { canPay } from '../../core/channel/state.js'
import { short } from '../../core/channel/reader.js'
import { ChannelStateError, InvalidVoucherError, UsageError } from '../../core/errors.js'
import { ZeroAddress } from 'ethers'
import { reconcileRefusal, type ReconcileRequest, type ReconcileResponse } from '../../core/channel/reconcile.js'
import {
  ZERO_HASH, effectiveLanes, mergerOf, sameVoucher, spentAcrossLanes, voucherOfFamily, type EvmVoucher,
} from '../../core/channel/voucher.js'

/** What {@link createMergeVoucher} is asked for. */
export interface MergeRequest {
  /** The lane the merge voucher is on (default 0). */
  into: bigint
  /** The lanes it merges (each must hold a voucher of this wallet; not `into`). */
  lanes: readonly bigint[]
  /** Its amount, base units: at most the sum (a reconciliation's `reqVal`); default the sum. */
  amount?: bigint
}

/**
 * Payer: signs and commits ONE voucher on lane `into` that merges `lanes` (contract
 * `merges`), under the database write lock like every voucher. Its nonce is `into`'s last
 * + 1, each merge is `{lane, nonce: that lane's last nonce + 1}`, and its amount is the
 * value of `into` plus the merged lanes' latest amounts (`sum`), so that redeeming it alone
 * pays exactly what the lanes' best vouchers together pay — or `amount` when given
 * (≤ `sum`). Merges that `into`'s or a merged lane's latest voucher carried are carried too.
 * @returns the stored voucher and `sum`, base units
 * @throws {UsageError} no lanes, `into` among them, a lane without a voucher or merged already, `amount` above the sum
 * @throws {ChannelStateError} not the payer, or the channel cannot pay
 * @throws {NetworkError} the node is unreachable (reading which carried merges the chain applied)
 */
export async function createMergeVoucher(m: ChannelManager, c: ChannelRecord, req: MergeRequest): Promise<{ voucher: VoucherRecord<EvmVoucher>; sum: bigint }> {
  if (c.direction !== 'outbound') throw new ChannelStateError('Only the payer of a channel can sign a merge voucher.')
  const lanes = [...new Set(req.lanes)]
  if (lanes.length === 0) throw new UsageError('Name at least one lane to merge (--lanes 1,2).')
  if (lanes.length !== req.lanes.length) throw new UsageError('A lane is named twice in --lanes.')
  if (lanes.includes(req.into)) throw new UsageError(`Lane ${req.into} cannot merge itself; choose another --into.`)
  if (lanes.length > 15) throw new UsageError('At most 15 lanes merge into one voucher (a voucher carries at most 16 merges).')
  const signer = await m.signer()
  const applied = new Set<string>()
  for (const lane of [req.into, ...lanes]) for (const k of await chainMergedLanes(m, c, lane)) applied.add(k)
  return m.store.immediate(() => {
    const ch = m.store.channels.get(c.network, c.id)!
    if (!canPay(ch.state)) throw new ChannelStateError(`Channel ${short(ch.id)} is ${ch.state}; it cannot pay.`)
    const mergers = m.store.vouchers.mergers(ch.network, ch.id)
    const latest = m.store.vouchers.latestPerLane(ch.network, ch.id).map((v) => voucherOfFamily(v, 'evm'))
    const at = (lane: bigint) => latest.find((v) => v.lane === lane)
    for (const lane of [req.into, ...lanes]) {
      const merger = mergerOf(lane, mergers)
      if (merger) throw new UsageError(`Lane ${lane} of channel ${short(ch.id)} is merged into lane ${merger.lane} already.`)
    }
    const into = at(req.into)
    const merges = new Map<bigint, bigint>()
    const carry = (v: EvmVoucher | undefined) => {
      for (const g of v ? carriedMerges(v, applied) : []) if ((merges.get(g.lane) ?? 0n) < g.nonce) merges.set(g.lane, g.nonce)
    }
    carry(into)
    let sum = into?.amount ?? 0n
    for (const lane of lanes) {
      const v = at(lane)
      if (!v) throw new UsageError(`Lane ${lane} of channel ${short(ch.id)} holds no voucher; there is nothing to merge.`)
      carry(v)
      merges.set(lane, v.nonce + 1n)
      sum += v.amount
    }
    if (merges.size > 16) throw new UsageError(`The merge would carry ${merges.size} merges; a voucher carries at most 16.`)
    const amount = req.amount ?? sum
    if (amount > sum) throw new UsageError(`The amount ${amount} is above the lanes' sum ${sum}.`)
    if (amount < (into?.amount ?? 0n)) throw new UsageError(`The amount ${amount} is below lane ${req.into}'s own ${into!.amount}.`)
    const unsigned = {
      channelId: ch.id, lane: req.into, nonce: (into?.nonce ?? 0n) + 1n, amount, secretHash: ZERO_HASH,
      timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n,
      merges: [...merges].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([lane, nonce]) => ({ lane, nonce })),
    }
    const voucher = signVoucher(unsigned, signer, m.backend.chainId, evmChannel(ch).data.contract)
    m.store.vouchers.insert(ch.network, voucher)
    return { voucher: { ...voucher, network: ch.network, delivered: false, createdAt: Math.floor(Date.now() / 1000) }, sum }
  })
}

/** The effective vouchers of `c` the payee holds and the stored merge vouchers, as EVM vouchers. */
export function heldVouchers(m: ChannelManager, c: ChannelRecord): { held: VoucherRecord<EvmVoucher>[]; mergers: VoucherRecord<EvmVoucher>[] } {
  const mergers = m.store.vouchers.mergers(c.network, c.id).map((v) => voucherOfFamily(v, 'evm'))
  const held = effectiveLanes(m.store.vouchers.latestPerLane(c.network, c.id), mergers).map((v) => voucherOfFamily(v, 'evm'))
  return { held, mergers }
}

// ── reconciliation (Filecoin "Payment Reconciliation", DESIGN §13) ─────────────────

/**
 * Payer: answers a payee's {@link ReconcileRequest} on one of this wallet's outbound
 * channels. Every voucher in it must be one this wallet signed and holds, the latest of
 * its lane and on a lane not merged yet (same lane, nonce and signature as stored: a
 * voucher it did not sign is never adopted); then `reqVal ≤ sum` and
 * `sum − reqVal ≥ minDiscount` ({@link reconcileRefusal}). Granted, it signs and commits
 * ONE merge voucher worth `reqVal` on the lowest of the lanes that merges the others
 * ({@link createMergeVoucher}); refused, it stores nothing.
 * @param minDiscount - config `reconcile.minDiscount`, base units
 * @returns `Success` with the merged voucher, or `Failure` with the reason
 * @throws {KeystoreError} the key cannot be unlocked @throws {NetworkError} the node is unreachable
 */
export async function answerReconcile(m: ChannelManager, req: ReconcileRequest, minDiscount: bigint): Promise<ReconcileResponse> {
  const fail = (message: string): ReconcileResponse => ({ status: 'Failure', message })
  const c = m.store.channels.get(m.network.caip2, req.channelId)
  if (!c || c.direction !== 'outbound') return fail(`channel ${short(req.channelId)} is not one this wallet pays on (network ${m.network.caip2})`)
  const stored = m.store.vouchers.list(c.network, c.id)
  const mergers = m.store.vouchers.mergers(c.network, c.id)
  const latest = m.store.vouchers.latestPerLane(c.network, c.id)
  for (const v of req.vouchers) {
    const mine = stored.find((x) => x.lane === v.lane && x.nonce === v.nonce)
    if (!mine || !sameVoucher(mine, v)) return fail(`the voucher on lane ${v.lane} nonce ${v.nonce} is not one this wallet signed and holds`)
    const top = latest.find((x) => x.lane === v.lane)!
    if (top.nonce !== v.nonce) return fail(`the voucher on lane ${v.lane} nonce ${v.nonce} is not the lane's latest (nonce ${top.nonce}); ask with the latest`)
    const merger = mergerOf(v.lane, mergers)
    if (merger) return fail(`lane ${v.lane} is merged into lane ${merger.lane} already`)
  }
  const sum = spentAcrossLanes(req.vouchers)
  const refusal = reconcileRefusal(sum, req.reqVal, minDiscount)
  if (refusal) return fail(refusal)
  const lanes = req.vouchers.map((v) => v.lane).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  try {
    const { voucher } = await createMergeVoucher(m, c, { into: lanes[0], lanes: lanes.slice(1), amount: req.reqVal })
    return { combined: voucher, status: 'Success', message: `lanes ${lanes.slice(1).join(', ')} merged into lane ${lanes[0]}: ${req.reqVal} of ${sum} (discount ${sum - req.reqVal})` }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ChannelStateError) return fail(err.shortMessage)
    throw err
  }
}

/**
 * Payee: the reconciliation request for channel `c`: its best voucher of every lane that
 * is not redeemed on chain yet, and `reqVal` — given, or the sum less the gas the merge
 * saves ({@link MERGE_GAS_SAVED_PER_LANE} per lane beyond the first at the node's fee, on a
 * native-currency channel; the sum on a token channel).
 * @param reqVal - base units; default as above
 * @throws {ChannelStateError} not the payee, or fewer than two unredeemed lanes
 * @throws {UsageError} `reqVal` above the sum
 * @throws {NetworkError} the node is unreachable
 */
export async function reconcileRequestOf(m: ChannelManager, c: ChannelRecord, reqVal?: bigint): Promise<ReconcileRequest & { sum: bigint }> {
  if (c.direction !== 'inbound') throw new ChannelStateError('Only the payee asks for a reconciliation; this wallet pays on that channel.')
  const { held } = heldVouchers(m, c)
  const open: EvmVoucher[] = []
  for (const v of held) if (v.nonce > (await m.backend.getLane(c.id, v.lane)).nonce) open.push(v)
  if (open.length < 2) throw new ChannelStateError(`Channel ${short(c.id)} has ${open.length} unredeemed lane${open.length === 1 ? '' : 's'}; a reconciliation merges at least two.`)
  if (open.length > 16) throw new ChannelStateError(`Channel ${short(c.id)} has ${open.length} unredeemed lanes; a reconciliation merges at most 16.`)
  const sum = spentAcrossLanes(open)
  let ask = reqVal
  if (ask === undefined) {
    const saving = c.asset === ZeroAddress ? BigInt(open.length - 1) * MERGE_GAS_SAVED_PER_LANE * (await m.backend.feePerGas()) : 0n
    ask = saving < sum ? sum - saving : 0n
  }
  if (ask > sum) throw new UsageError(`The requested value ${ask} is above the vouchers' sum ${sum}.`)
  return { channelId: c.id, vouchers: open.map(({ family, channelId, lane, nonce, amount, secretHash, timeLockMin, timeLockMax, minSettleAt, merges, signature }) =>
    ({ family, channelId, lane, nonce, amount, secretHash, timeLockMin, timeLockMax, minSettleAt, merges, signature })), reqVal: ask, sum }
}

/**
 * Gas a merge voucher saves per merged lane over redeeming the lanes in one `updateMany`
 * (the payee's `voucher submit`): 740 measured on anvil for three lanes (164,264 for
 * `updateMany` against 162,783 for the merge voucher, test/contract/gas.test.ts), rounded down.
 * Over separate `update`s it saves ≈ 30,500 per lane (223,872 for three). (2,000 before the
 * contract hashed vouchers from calldata, which made each voucher of an `updateMany` cheaper.)
 */
export const MERGE_GAS_SAVED_PER_LANE = 700n

/**
 * Payee: stores the merged voucher of a payer's {@link ReconcileResponse} to `request`
 * (like `voucher add`), accepting the drop it asked for: what it can redeem may fall by
 * `sum − reqVal`, no more; the voucher must be worth at least `reqVal` and merge exactly
 * the request's lanes (into one of them).
 * @returns the change of what the payee can redeem (≤ 0 by the discount), base units
 * @throws {InvalidVoucherError} a Failure, or a combined voucher that does not answer the request
 */
export async function acceptReconcile(
  m: ChannelManager, c: ChannelRecord, request: ReconcileRequest, response: ReconcileResponse,
  add: (v: EvmVoucher, minDelta: bigint) => Promise<bigint>,
): Promise<bigint> {
  if (response.status !== 'Success' || !response.combined) throw new InvalidVoucherError(`The payer refused the reconciliation: ${response.message}`)
  const v = voucherOfFamily(response.combined, 'evm')
  if (v.channelId !== request.channelId || v.channelId !== c.id) throw new InvalidVoucherError('The combined voucher is for another channel than the request.')
  const lanes = new Set(request.vouchers.map((x) => x.lane))
  const merged = new Set(v.merges.map((g) => g.lane))
  if (!lanes.has(v.lane) || [...lanes].some((l) => l !== v.lane && !merged.has(l))) {
    throw new InvalidVoucherError(`The combined voucher (lane ${v.lane}) does not merge the request's lanes ${[...lanes].join(', ')}.`)
  }
  if (v.amount < request.reqVal) throw new InvalidVoucherError(`The combined voucher is worth ${v.amount}, less than the ${request.reqVal} asked for.`)
  const sum = spentAcrossLanes(request.vouchers)
  return add(v, request.reqVal - sum)
}
