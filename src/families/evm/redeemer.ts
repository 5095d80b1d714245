/**
 * The EVM payee's redemption service (DESIGN §12, issue 11 §4): while `channels serve`
 * runs, every round it weighs what each inbound channel holds unredeemed against the gas of
 * redeeming it, and redeems the channels worth it — or whose deadline is near — together:
 * one `updateMany` and one `closeMany` transaction per `redeem.batchSize` channels. It
 * replaces the settlement watcher (families/evm/watcher.ts) in `serve` and keeps what that did: channels gone from
 * the chain are marked closed, a settling channel is redeemed before its `settleAt`.
 *
 * Decisions (documented in the report of issue 11 §4):
 * - **Open channels are closed, settling ones updated.** For an open channel `closeMany`
 *   redeems and collects at once (what `close` does today): the payee is paid now. The
 *   contract would close a settling channel too (`_update` refuses only once `settleAt` has
 *   passed; `_collect` does not ask for a settled channel), but the payer who settles has
 *   chosen the unilateral path and collects after `settleAt`, as `channels collect` tells
 *   it; so settling channels are redeemed with `updateMany`, as the settlement watcher did,
 *   and `channels collect` still works for their payers.
 * - **Several lanes.** `closeMany` takes one voucher per channel; the other lanes' best
 *   vouchers go first, in the round's one `updateMany` (with the settling channels'
 *   vouchers), as `closeAsPayee` sends `update`s before its `close`.
 * - **Profit.** A channel's value is what its held vouchers add to the channel's redeemed
 *   total on chain (the contract's rules, {@link redeemRefusal}); its gas is `eth_estimateGas`
 *   of redeeming it alone (a `close`, plus an `update` per extra lane), so the test is
 *   conservative: in a batch a channel costs less (`npm run bench`:
 *   redeem_gas_per_channel_batch10). The fee per gas is what a transaction sent now offers
 *   (EIP-1559 `maxFeePerGas`, else the gas price), again an upper bound of what is paid.
 * - **Deadlines.** A settling channel's `settleAt`: within `redeem.margin` seconds (default
 *   3600: an hour covers a node or a paywall down for a while, and is far below the settle
 *   delay `serve` asks by default) the channel is redeemed whatever it is worth. The earliest
 *   `timeLockMax` of the hash-locked vouchers redeemed: within `redeem.lockMargin` (default
 *   60; locks of payments through a hub last minutes and are simplified within moments, so a
 *   longer margin would redeem every forwarded payment) its vouchers are redeemed by an
 *   `updateMany` that leaves the channel open (issue 12: the payer is still paying on it).
 * - **One bad channel never blocks the others.** A batch the contract refuses (a channel
 *   closed meanwhile, a voucher no longer redeemable) is redone channel by channel
 *   ({@link ChannelManager.closeAsPayee}, {@link submitVouchers}).
 * - A channel whose deadline is near is redeemed even at a loss (value below the gas): the
 *   issue asks for it unconditionally, and a payer's refund is then not left to chance.
 * - Hash-locked vouchers go with the secret stored beside them (`voucher add --secret`), and
 *   their `timeLockMax` is a deadline; one stored without (only after its own redemption) is left out.
 */
import { ZeroAddress } from 'ethers'
import type { ChannelManager } from './manager.js'
import type { ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import type { EvmVoucher, TxResult } from './chain.js'
import { short } from '../../core/channel/reader.js'
import { schedule, type Settler, type SettlerEvent } from '../../core/channel/settler.js'
import { ZERO_HASH, voucherOfFamily } from '../../core/channel/voucher.js'
import { redeemPolicy, type RedeemPolicy } from '../../core/config-fields.js'
import { ChannelStateError } from '../../core/errors.js'
import { redeemRefusal, type LaneState } from './redeemable.js'
import { submitVouchers } from './operations.js'

/** A channel due for redemption in this round. Amounts in wei or token base units. */
export interface RedeemCandidate {
  channel: ChannelRecord
  /** Vouchers to redeem, in order; the last one closes the channel. */
  vouchers: VoucherRecord<EvmVoucher>[]
  /** What they add to the channel's redeemed total on chain. */
  value: bigint
  /** Estimated gas of redeeming the channel alone. */
  gas: bigint
  /** Unix seconds after which redeeming is no longer possible, when there is such a time. */
  deadline?: number
  /** What the deadline is (`settleAt`, `timeLockMax`). */
  deadlineOf?: string
  /** The settling channel's settleAt, when it is settling (its deadline under `redeem.margin`). */
  settleAt?: number
  /** The earliest timeLockMax of the hash-locked vouchers it redeems (its deadline under `redeem.lockMargin`). */
  lockDeadline?: number
  /** Redeem without closing (an open channel due only for a lock's deadline, issue 12): its vouchers go in the `updateMany`. */
  updateOnly?: boolean
  /** The held vouchers (lane:nonce) the assessment saw: a close goes ahead only if they are still the held ones. */
  heldKey: string
}

/** The (lane, nonce) of every held voucher of `c` not yet submitted, as one string. */
const heldKeyOf = (m: ChannelManager, c: ChannelRecord): string =>
  m.store.vouchers.effectivePerLane(c.network, c.id).filter((v) => !v.submittedTx).map((v) => `${v.lane}:${v.nonce}`).join(',')

/** An event of {@link redeemRound}; a deferral carries what it depends on (value, deadline) as `key`. */
export type RoundEvent = SettlerEvent & { key?: string }

/** Options of {@link startRedeemer}. */
export interface RedeemerOptions {
  /** Seconds between rounds; default the config's `redeem.interval`. */
  intervalSeconds?: number
}

/**
 * Starts the redemption service on `m`'s network. State changes go through the state
 * machine (DESIGN §3); one the table forbids, or on a row another process moved meanwhile,
 * leaves the row as it is and is reported as an `error` event.
 * @param onEvent - called for every event: `redeemed`, `closed`, `deferred` (once per change of what it says), `error`
 * @returns the running service: `tick()` runs a round now, `stop()` ends the timer
 */
export function startRedeemer(m: ChannelManager, o: RedeemerOptions = {}, onEvent: (e: SettlerEvent) => void = () => {}): Settler {
  /** The last deferral per channel (value and deadline, not the gas price of the moment): told again only when it changes. */
  const told = new Map<string, string>()
  const round = async (): Promise<SettlerEvent[]> => {
    const events = await redeemRound(m, redeemPolicy(m.config.get('redeem')))
    const out: SettlerEvent[] = []
    for (const { key, ...e } of events) {
      if (e.kind === 'deferred' && told.get(e.channelId) === key) continue
      if (e.kind === 'deferred') told.set(e.channelId, key ?? e.detail)
      else told.delete(e.channelId)
      out.push(e)
    }
    return out
  }
  return schedule(round, o.intervalSeconds ?? redeemPolicy(m.config.get('redeem')).interval, onEvent)
}

/**
 * One round of the redemption service: assesses every open or settling inbound channel of
 * `m`'s network ({@link assessChannel}) and redeems the due ones in batches of
 * `policy.batchSize` ({@link redeemBatch}).
 * @returns what happened, one event per channel acted on or deferred (a deferral every round; {@link startRedeemer} tells it once per change)
 */
export async function redeemRound(m: ChannelManager, policy: RedeemPolicy): Promise<RoundEvent[]> {
  const events: RoundEvent[] = []
  const channels = m.store.channels.list({ network: m.network.caip2, direction: 'inbound' }).filter((c) => c.state === 'open' || c.state === 'settling')
  if (channels.length === 0) return events
  const now = await m.backend.now()
  let feePerGas: bigint | undefined
  const due: RedeemCandidate[] = []
  for (const c of channels) {
    try {
      const cand = await assessChannel(m, c, now, events)
      if (!cand) continue
      feePerGas ??= await m.backend.feePerGas()
      const cost = cand.gas * feePerGas
      // Gas is paid in wei; a token channel's value cannot be weighed against it without a price: it waits for a deadline.
      const token = c.asset !== ZeroAddress
      const profit = token ? -1n : cand.value - cost
      const minProfit = token ? 0n : BigInt(policy.minProfit)
      const settleUrgent = cand.settleAt !== undefined && cand.settleAt - now <= policy.margin
      const lockUrgent = cand.lockDeadline !== undefined && cand.lockDeadline - now <= policy.lockMargin
      if (profit >= minProfit || settleUrgent || lockUrgent) {
        // A lock's deadline alone redeems the vouchers and leaves the channel open: the payer is still paying on it.
        due.push(profit >= minProfit || settleUrgent ? cand : { ...cand, updateOnly: true })
        continue
      }
      const margin = cand.deadline === cand.settleAt ? policy.margin : policy.lockMargin
      const until = cand.deadline !== undefined
        ? `until ${iso(cand.deadline - margin)} (${cand.deadlineOf} ${iso(cand.deadline)} − redeem.${cand.deadline === cand.settleAt ? 'margin' : 'lockMargin'} ${margin} s)`
        : token ? 'until a deadline comes (the payer settles, or a voucher\'s time lock nears)' : 'until it is worth more, or a deadline comes (the payer settles)'
      events.push({
        channelId: c.id, kind: 'deferred', key: `${cand.value}:${cand.deadline ?? ''}`,
        detail: token
          ? `${short(c.id)} holds ${cand.value} base units of the token ${c.asset} unredeemed; gas ≈ ${cand.gas} × ${feePerGas} = ${cost} wei is not weighed against a token (no price): left ${until}`
          : `${short(c.id)} holds ${cand.value} unredeemed; gas ≈ ${cand.gas} × ${feePerGas} = ${cost}, so the profit ${profit} is below redeem.minProfit ${minProfit}: left ${until}`,
      })
    } catch (err) {
      events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: ${firstLine(err)}` })
    }
  }
  for (let i = 0; i < due.length; i += policy.batchSize) events.push(...(await redeemBatch(m, due.slice(i, i + policy.batchSize))))
  return events
}

/**
 * What a channel holds to redeem, against the chain now. Marks a channel gone from the chain
 * closed, and one the payer started settling `settling` (pushing their events).
 * @param now - the chain's latest block time, unix seconds
 * @returns undefined when there is nothing to redeem (or it is too late: `settleAt` passed)
 * @throws {ChannelStateError} a redemption the contract would refuse (its error named)
 */
export async function assessChannel(m: ChannelManager, c: ChannelRecord, now: number, events: SettlerEvent[]): Promise<RedeemCandidate | undefined> {
  const on = await m.backend.getChannel(c.id)
  if (!on) {
    // The contract deletes a channel only in close (the payee's voucher, possible while
    // open) and collect (after settleAt): name the one the state it was read in allows.
    m.store.channels.transition(c.network, c.id, c.state === 'open' ? 'close' : 'collect', {}, c.state)
    events.push({ channelId: c.id, kind: 'closed', detail: 'no longer on chain' })
    return undefined
  }
  if (on.settleAt !== 0 && c.state === 'open') c = m.store.channels.transition(c.network, c.id, 'settle', { settleAt: on.settleAt }, 'open')
  if (on.settleAt !== 0 && now >= on.settleAt) return undefined // too late: update is refused after settleAt
  const heldKey = heldKeyOf(m, c)
  const held = m.store.vouchers.effectivePerLane(c.network, c.id).filter((v) => !v.submittedTx).map((v) => voucherOfFamily(v, 'evm'))
  if (held.length === 0) return undefined
  const lanes = new Map<bigint, LaneState>()
  const lane = async (n: bigint) => {
    let s = lanes.get(n)
    if (!s) lanes.set(n, (s = await m.backend.getLane(c.id, n)))
    return s
  }
  // The contract's rules, voucher after voucher, on the state the previous ones leave;
  // vouchers that merge other lanes go last, as they consume those lanes.
  const view = { deposit: on.deposit, redeemed: on.redeemed, settleAt: on.settleAt, now }
  const take: VoucherRecord<EvmVoucher>[] = []
  for (const v of [...held.filter((x) => x.merges.length === 0), ...held.filter((x) => x.merges.length > 0)]) {
    if (v.secretHash !== ZERO_HASH && v.secret === undefined) continue // locked, and its secret is not stored
    const merged: LaneState[] = []
    for (const mg of v.merges) merged.push(await lane(mg.lane))
    const r = redeemRefusal(v, view, await lane(v.lane), merged, v.secret)
    if (!r.ok) continue // redeemed already (nonce), not yet (time lock), or never: not this round's
    view.redeemed = r.newRedeemed
    lanes.set(v.lane, { nonce: v.nonce, redeemed: v.amount })
    v.merges.forEach((mg, i) => lanes.set(mg.lane, { nonce: mg.nonce, redeemed: merged[i].redeemed }))
    take.push(v)
  }
  const value = view.redeemed - on.redeemed
  if (take.length === 0 || value <= 0n) return undefined
  // Gas of redeeming this channel alone: an update per voucher, the last one a close on an open channel.
  const from = m.address
  let gas = 0n
  for (const [i, v] of take.entries()) gas += await m.backend.estimateRedeemGas(from, i === take.length - 1 && c.state === 'open' ? 'close' : 'update', [v], [v.secret])
  const deadlines: [number, string][] = []
  if (on.settleAt !== 0) deadlines.push([on.settleAt, 'settleAt'])
  for (const v of take) if (v.timeLockMax !== 0n) deadlines.push([Number(v.timeLockMax), `timeLockMax of lane ${v.lane}`])
  deadlines.sort((a, b) => a[0] - b[0])
  const locks = take.filter((v) => v.timeLockMax !== 0n).map((v) => Number(v.timeLockMax))
  return {
    channel: c, vouchers: take, value, gas, deadline: deadlines[0]?.[0], deadlineOf: deadlines[0]?.[1], heldKey,
    settleAt: on.settleAt !== 0 ? on.settleAt : undefined, lockDeadline: locks.length ? Math.min(...locks) : undefined,
  }
}

/**
 * Redeems `batch` in two transactions at most: one `updateMany` with every voucher of the
 * settling channels and the extra lanes of the open ones, then one `closeMany` that redeems
 * the open channels' last vouchers and collects them. Each voucher is marked submitted by
 * the transaction that redeemed it, and each channel takes what that transaction's events say
 * (`ChannelCollected`: closed with what it paid; `ChannelUpdated`: the new redeemed total).
 * When the contract refuses a batch, its channels are redeemed one by one
 * ({@link ChannelManager.closeAsPayee}, {@link submitVouchers}), so one bad channel does not
 * hold back the others.
 * @returns one `redeemed` or `error` event per channel
 */
export async function redeemBatch(m: ChannelManager, batch: RedeemCandidate[]): Promise<SettlerEvent[]> {
  const signer = await m.signer()
  // Open channels to be closed are marked first (the paywall then refuses vouchers on them); one
  // that took a voucher since it was assessed waits for the next round, which closes it with that voucher.
  const events: SettlerEvent[] = []
  const marked: string[] = []
  const closing = batch.filter((cand) => {
    if (cand.channel.state !== 'open' || cand.updateOnly || m.closing.has(cand.channel.id)) return false
    m.closing.add(cand.channel.id)
    if (heldKeyOf(m, cand.channel) === cand.heldKey) return marked.push(cand.channel.id) > 0
    m.closing.delete(cand.channel.id)
    events.push({ channelId: cand.channel.id, kind: 'deferred', detail: `${short(cand.channel.id)} took a voucher while it was assessed; the next round closes it with that one` })
    return false
  })
  try {
    return await redeemMarked(m, signer, batch.filter((cand) => cand.channel.state !== 'open' || cand.updateOnly), closing, events)
  } finally {
    for (const id of marked) m.closing.delete(id)
  }
}

/** {@link redeemBatch} once the open channels to close are marked closing. */
async function redeemMarked(m: ChannelManager, signer: Awaited<ReturnType<ChannelManager['signer']>>, updating: RedeemCandidate[], closing: RedeemCandidate[], events: SettlerEvent[]): Promise<SettlerEvent[]> {
  const batch = [...updating, ...closing]
  const updates = [...updating.flatMap((cand) => cand.vouchers.map((v) => ({ cand, v }))), ...closing.flatMap((cand) => cand.vouchers.slice(0, -1).map((v) => ({ cand, v })))]
  if (updates.length) {
    let tx: TxResult
    try {
      tx = await m.backend.updateMany(signer, updates.map((x) => x.v), updates.map((x) => x.v.secret))
    } catch (err) {
      return [...events, ...(await alone(m, batch, err))]
    }
    m.store.immediate(() => updates.forEach(({ cand, v }) => m.store.vouchers.markSubmitted(cand.channel.network, cand.channel.id, v.lane, v.nonce, tx.hash)))
    const { updated } = await m.backend.redeemedIn(tx.hash)
    for (const cand of updating) {
      const c = cand.channel
      const redeemed = updated.get(c.id)
      if (redeemed === undefined) {
        events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: transaction ${tx.hash} holds no ChannelUpdated event for it` })
        continue
      }
      m.store.channels.update(c.network, c.id, { redeemed })
      events.push({ channelId: c.id, kind: 'redeemed', detail: `redeemed ${cand.value} before ${c.settleAt ? `settleAt ${iso(c.settleAt)}` : 'its deadline'} in ${tx.hash} (updateMany of ${updates.length} vouchers, gas ${tx.gasUsed}); the channel's redeemed total is ${redeemed}` })
    }
  }
  if (closing.length === 0) return events
  const lasts = closing.map((cand) => cand.vouchers[cand.vouchers.length - 1])
  let tx: TxResult
  try {
    tx = await m.backend.closeMany(signer, lasts, lasts.map((v) => v.secret))
  } catch (err) {
    return [...events, ...(await alone(m, closing, err))]
  }
  const { collected } = await m.backend.redeemedIn(tx.hash)
  for (const [i, cand] of closing.entries()) {
    const c = cand.channel
    const paid = collected.get(c.id)
    if (!paid) {
      events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: transaction ${tx.hash} holds no ChannelCollected event for it` })
      continue
    }
    try {
      m.store.immediate(() => {
        m.store.vouchers.markSubmitted(c.network, c.id, lasts[i].lane, lasts[i].nonce, tx.hash)
        m.store.channels.transition(c.network, c.id, 'close', { redeemed: paid.paidToPayee, closeTx: tx.hash }, c.state)
      })
    } catch (err) {
      events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: closed on chain by ${tx.hash}, but ${firstLine(err)}` })
      continue
    }
    events.push({
      channelId: c.id, kind: 'redeemed',
      detail: `redeemed ${cand.value} (paid ${paid.paidToPayee}, refunded ${paid.refundedToPayer}) and closed in ${tx.hash} (closeMany of ${closing.length} channels, gas ${tx.gasUsed})`,
    })
  }
  return events
}

/**
 * After the contract refused a batch (`err`): each channel of it redeemed alone, from the
 * store as it is now — an open one closed ({@link ChannelManager.closeAsPayee}), a settling
 * one updated ({@link submitVouchers}). Any other failure (the node, the gas) is every
 * channel's error: alone they would fail the same way.
 */
async function alone(m: ChannelManager, batch: RedeemCandidate[], err: unknown): Promise<SettlerEvent[]> {
  if (!(err instanceof ChannelStateError) || batch.length === 1) {
    return batch.map((cand) => ({ channelId: cand.channel.id, kind: 'error' as const, detail: `${short(cand.channel.id)}: ${firstLine(err)}` }))
  }
  const events: SettlerEvent[] = []
  for (const cand of batch) {
    const c = m.store.channels.get(cand.channel.network, cand.channel.id)!
    try {
      if (c.state === 'open' && !cand.updateOnly) {
        const r = await m.closeAsPayee(c)
        events.push({ channelId: c.id, kind: 'redeemed', detail: `redeemed alone (the batch was refused: ${firstLine(err)}): paid ${r.redeemed} and closed in ${r.tx.hash}` })
      } else {
        const r = await submitVouchers(m, c)
        events.push({ channelId: c.id, kind: 'redeemed', detail: `redeemed alone (the batch was refused: ${firstLine(err)}) in ${r.txs.join(', ')}; the channel's redeemed total is ${r.redeemed}` })
      }
    } catch (e) {
      events.push({ channelId: c.id, kind: 'error', detail: `${short(c.id)}: ${firstLine(e)}` })
    }
  }
  return events
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]
const iso = (unix: number) => new Date(unix * 1000).toISOString()
