/**
 * Merges on EVM channels (issue 11 §3, `PaymentChannels._merge`), the parts both the
 * manager and families/evm/lanes.ts use: which merges a new voucher carries forward, and the
 * payee's projection of redeeming the vouchers it holds (in which order, with what result).
 * No manager here (manager.ts imports this module).
 */
import type { ChannelRecord, Store } from '../../core/store/index.js'
import type { ChainBackend } from './chain.js'
import { redeemRefusal, type ChannelView, type LaneState, type RedeemRefusal } from './redeemable.js'
import { mergerOf, type EvmVoucher, type Merge } from '../../core/channel/voucher.js'

/** `${lane}:${nonce}` of a merge. */
const mergeKey = (g: Merge): string => `${g.lane}:${g.nonce}`

/**
 * The merges of `lane`'s latest voucher that the chain has applied already (the lane merged
 * is at or above the merge's nonce: the merge voucher was redeemed). Read before the write
 * transaction of a new voucher; no I/O when the latest voucher merges nothing.
 * @returns `lane:nonce` keys of the applied merges
 * @throws {NetworkError} the node is unreachable
 */
export async function chainMergedLanes(m: { store: Store; backend: Pick<ChainBackend, 'getLane'> }, c: ChannelRecord, lane: bigint): Promise<Set<string>> {
  const applied = new Set<string>()
  const last = m.store.vouchers.latest(c.network, c.id, lane)
  if (!last || last.family !== 'evm' || last.merges.length === 0) return applied
  for (const g of last.merges) if ((await m.backend.getLane(c.id, g.lane)).nonce >= g.nonce) applied.add(mergeKey(g))
  return applied
}

/** The merges a new voucher after `last` on its lane carries forward: `last`'s, less those the chain applied. */
export function carriedMerges(last: EvmVoucher, applied: ReadonlySet<string>): Merge[] {
  return last.merges.filter((g) => !applied.has(mergeKey(g))).map((g) => ({ lane: g.lane, nonce: g.nonce }))
}

// ── the payee's projection ────────────────────────────────────────────────────────

/** The outcome of {@link simulateRedeem}. */
export type Simulation =
  | { ok: true; redeemed: bigint; lanes: Map<bigint, LaneState> }
  | { ok: false; voucher: EvmVoucher; reason: RedeemRefusal; message: string }

/**
 * The order a payee redeems `vouchers` in: vouchers that merge nothing first, then the
 * merge vouchers (a lane merged by a voucher is never redeemed after it).
 */
export function redeemOrder<V extends EvmVoucher>(vouchers: readonly V[]): V[] {
  return [...vouchers.filter((v) => v.merges.length === 0), ...vouchers.filter((v) => v.merges.length > 0)]
}

/**
 * What redeeming `vouchers` (in {@link redeemOrder}) does to the channel: each is judged by
 * {@link redeemRefusal} against the state the previous ones left, as `updateMany` would.
 * @param lanes - each lane's state before (the chain's); a lane absent is unused (0, 0)
 * @param secrets - hex preimages, by `lane:nonce`
 * @returns the channel's redeemed total and lanes after, or the first voucher the contract would refuse
 */
export function simulateRedeem(view: ChannelView, lanes: ReadonlyMap<bigint, LaneState>, vouchers: readonly EvmVoucher[], secrets?: ReadonlyMap<string, string>): Simulation {
  const state = new Map(lanes)
  const get = (lane: bigint): LaneState => state.get(lane) ?? { nonce: 0n, redeemed: 0n }
  let redeemed = view.redeemed
  for (const v of redeemOrder(vouchers)) {
    const r = redeemRefusal(v, { ...view, redeemed }, get(v.lane), v.merges.map((g) => get(g.lane)), secrets?.get(`${v.lane}:${v.nonce}`))
    if (!r.ok) return { ok: false, voucher: v, reason: r.reason, message: r.message }
    for (const g of v.merges) state.set(g.lane, { nonce: g.nonce, redeemed: get(g.lane).redeemed })
    state.set(v.lane, { nonce: v.nonce, redeemed: v.amount })
    redeemed = r.newRedeemed
  }
  return { ok: true, redeemed, lanes: state }
}

/** The vouchers a payee redeems after taking `v`: those it holds, less the ones `v` supersedes (its lane's, its merged lanes'), plus `v`. */
export function replaceHeld<V extends EvmVoucher>(held: readonly V[], v: V): V[] {
  return [...held.filter((h) => h.lane !== v.lane && !v.merges.some((g) => g.lane === h.lane)), v]
}

/**
 * Why `v` cannot join the vouchers a payee holds on its channel, before any chain state is
 * consulted, or undefined: a voucher on a lane a stored voucher merges (its old vouchers
 * are superseded, and a new one would exclude the merger on chain), or a merge at a nonce
 * not above the held voucher of the lane it merges.
 * @param held - the payee's effective vouchers of the channel ({@link effectiveLanes})
 * @param mergers - every stored voucher of the channel that merges lanes
 */
export function mergeConflict(v: EvmVoucher, held: readonly EvmVoucher[], mergers: readonly EvmVoucher[]): string | undefined {
  const merger = mergerOf(v.lane, mergers)
  if (merger) return `lane ${v.lane} is merged into lane ${merger.lane} by a voucher already stored; its vouchers can no longer be redeemed`
  for (const g of v.merges) {
    const h = held.find((x) => x.lane === g.lane)
    if (h && g.nonce <= h.nonce) return `it merges lane ${g.lane} at nonce ${g.nonce}, not above the stored voucher's nonce ${h.nonce} on that lane`
    const by = mergerOf(g.lane, mergers)
    if (by && by.lane !== v.lane && !v.merges.some((x) => x.lane === by.lane)) return `it merges lane ${g.lane}, which the stored voucher on lane ${by.lane} merges already`
  }
  return undefined
}

