/**
 * The payee's side of the manager: accepting vouchers for served requests.
 *
 * A voucher pays for a request when (DESIGN §6): the channel is on chain, to us, in
 * our contract and asset, not settling; the payer signed it (low-s, EIP-712); its
 * nonce is above the lane's last; and the channel's total (latest amount of every
 * lane) is at least `charged + price` and at most the deposit. The voucher and the
 * new `charged` are committed in one write transaction *before* the handler runs; a
 * handler that fails gives the price back ({@link refundCharge}).
 */
import { ZeroAddress } from 'ethers'
import type { ChannelManager } from './manager.js'
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import { groupCommit } from '../store/group-commit.js'
import { ChannelsError, ChannelStateError, ExitCode } from '../errors.js'
import { ZERO_HASH, recoverVoucherSigner, spentAcrossLanes, type Voucher } from './voucher.js'
import { short } from './reader.js'
import type { Recovered } from '../http402/verify-pool.js'

/** Why a voucher was refused; `corrective` ones carry our state so the payer can resync. */
export class VoucherRefusedError extends ChannelsError {
  override name = 'Paywall.VoucherRefusedError'
  override code = 'VOUCHER_REFUSED'
  override exitCode: ExitCode = ExitCode.paymentRefused
  constructor(
    message: string,
    readonly reason: string,
    /** The channel's state to send back in a corrective 402, when the channel is ours. */
    readonly corrective?: { channel: ChannelRecord; last?: VoucherRecord },
  ) {
    super(message, { data: { reason } })
  }
}

/** Payee's acceptance policy. */
export interface AcceptPolicy {
  /** Smallest settlement delay accepted on an unknown channel, in seconds. */
  minSettleDelay: number
  /** Asset expected (zero address = native). */
  asset?: string
}

/**
 * Learns a channel from the chain the first time a voucher names it.
 * @throws {VoucherRefusedError} unknown channel, another payee/asset/contract, settling, too short a delay
 */
export async function learnChannel(m: ChannelManager, channelId: string, policy: AcceptPolicy): Promise<ChannelRecord> {
  const known = m.store.channels.get(m.network.caip2, channelId)
  if (known) return known
  const on = await m.backend.getChannel(channelId)
  if (!on) throw new VoucherRefusedError(`Channel ${short(channelId)} does not exist on ${m.network.caip2}.`, 'unknown_channel')
  if (on.payee !== m.address) throw new VoucherRefusedError(`Channel ${short(channelId)} pays ${on.payee}, not this merchant.`, 'wrong_payee')
  if (on.asset !== (policy.asset ?? ZeroAddress)) throw new VoucherRefusedError(`Channel ${short(channelId)} holds ${on.asset}, not the asset asked for.`, 'wrong_asset')
  if (on.settleAt !== 0) throw new VoucherRefusedError(`Channel ${short(channelId)} is settling.`, 'settling')
  if (on.settleDelay < policy.minSettleDelay) {
    throw new VoucherRefusedError(`Channel ${short(channelId)} has a settle delay of ${on.settleDelay}s; at least ${policy.minSettleDelay}s is required.`, 'settle_delay')
  }
  return m.store.immediate(() => {
    const again = m.store.channels.get(m.network.caip2, channelId)
    if (again) return again
    return m.store.channels.insert({
      network: m.network.caip2, id: channelId, direction: 'inbound', payer: on.payer, payee: on.payee, asset: on.asset,
      contract: m.backend.contract, deposit: on.deposit, redeemed: on.redeemed, charged: 0n, settleDelay: on.settleDelay,
      state: 'open', keyName: m.config.key(m.keyName).name,
    })
  })
}

/**
 * Verifies and commits a voucher paying `price` for one request.
 * @param price - base units charged for this request (0n for a pure top-up)
 * @param recovered - the signer already recovered from `v` (on a worker thread) under a
 *   verifying contract; used only when that is the channel's contract, else recovered here
 * @returns the stored voucher and the channel's `charged` after it
 * @throws {VoucherRefusedError} for every rule above; nothing is stored then
 */
export async function acceptVoucher(
  m: ChannelManager, v: Voucher, price: bigint, policy: AcceptPolicy, recovered?: Recovered,
): Promise<{ channel: ChannelRecord; charged: bigint }> {
  const channel = await channelIdentity(m, v.channelId, policy)
  if (channel.direction !== 'inbound') throw new VoucherRefusedError('That channel is one this wallet pays on.', 'wrong_direction')
  if (v.secretHash !== ZERO_HASH || v.merges.length || v.timeLockMin !== 0n || v.timeLockMax !== 0n || v.minSettleAt !== 0n) {
    throw new VoucherRefusedError('The paywall accepts plain vouchers only (no hash lock, time lock or merge).', 'conditional')
  }
  let signer: string
  if (recovered?.contract === channel.contract) {
    if ('error' in recovered) throw new VoucherRefusedError(recovered.error, 'bad_signature')
    signer = recovered.signer
  } else {
    try {
      signer = recoverVoucherSigner(v, m.backend.chainId, channel.contract)
    } catch (err) {
      throw new VoucherRefusedError((err as Error).message, 'bad_signature')
    }
  }
  if (signer !== channel.payer) throw new VoucherRefusedError(`Voucher signed by ${signer}, not by the payer ${channel.payer}.`, 'wrong_signer')

  try {
    return await commitVoucher(m, channel, v, price)
  } catch (err) {
    if (!(err instanceof VoucherRefusedError && err.reason === 'above_deposit')) throw err
    // A voucher above the deposit we know may follow a top-up: re-read the chain once.
    const stored = m.store.channels.get(channel.network, channel.id)
    const on = await m.backend.getChannel(channel.id)
    if (!stored || !on || on.deposit <= stored.deposit) throw err
    m.store.channels.update(channel.network, channel.id, { deposit: on.deposit })
    return commitVoucher(m, channel, v, price)
  }
}

/** What a stored channel never changes: who pays whom, in which contract and direction. */
type ChannelIdentity = Pick<ChannelRecord, 'network' | 'id' | 'direction' | 'payer' | 'payee' | 'contract'>

/**
 * Per manager, the identity of each channel the paywall has seen: it spares every paid
 * request a read of the channel row before the signer check. Only immutable fields are
 * kept; the state, deposit and charged are read inside the commit.
 */
const identities = new WeakMap<ChannelManager, Map<string, ChannelIdentity>>()
const MAX_IDENTITIES = 100_000

async function channelIdentity(m: ChannelManager, channelId: string, policy: AcceptPolicy): Promise<ChannelIdentity> {
  let known = identities.get(m)
  if (!known) identities.set(m, (known = new Map()))
  const hit = known.get(channelId)
  if (hit) return hit
  const c = await learnChannel(m, channelId, policy)
  if (known.size >= MAX_IDENTITIES) known.clear()
  const id = { network: c.network, id: c.id, direction: c.direction, payer: c.payer, payee: c.payee, contract: c.contract }
  known.set(channelId, id)
  return id
}

/**
 * The checks against what is stored (state, nonce, amount, total due, deposit) and the
 * commit of the voucher with the new `charged`, in one write transaction shared with the
 * other vouchers that arrived meanwhile (one fsync for all; still committed before serving).
 * @throws {VoucherRefusedError} `channel_state` unless open; `above_deposit` when the total exceeds the stored deposit
 */
function commitVoucher(m: ChannelManager, channel: ChannelIdentity, v: Voucher, price: bigint): Promise<{ channel: ChannelRecord; charged: bigint }> {
  return groupCommit(m.store, () => {
    const ch = m.store.channels.get(channel.network, channel.id)
    if (!ch) throw new VoucherRefusedError(`Channel ${short(channel.id)} is not in this wallet's database.`, 'unknown_channel')
    if (ch.state !== 'open') throw new VoucherRefusedError(`Channel ${short(ch.id)} is ${ch.state}.`, 'channel_state')
    const lanes = m.store.vouchers.latestPerLane(ch.network, ch.id) // one read for the lane's last and the total
    const last = lanes.find((x) => x.lane === v.lane)
    if (last && v.nonce <= last.nonce) {
      throw new VoucherRefusedError(`Nonce ${v.nonce} on lane ${v.lane} is not above the last accepted ${last.nonce}.`, 'nonce_too_low', { channel: ch, last })
    }
    const total = spentAcrossLanes(lanes, v.lane) + v.amount
    if (last && v.amount < last.amount) {
      throw new VoucherRefusedError(`Amount ${v.amount} is below the lane's last ${last.amount}.`, 'amount_decreased', { channel: ch, last })
    }
    if (total < ch.charged + price) {
      throw new VoucherRefusedError(`The voucher covers ${total}; ${ch.charged + price} is due (charged ${ch.charged} + price ${price}).`, 'amount_too_low', { channel: ch, last })
    }
    if (total > ch.deposit) throw new VoucherRefusedError(`The voucher's total ${total} exceeds the deposit ${ch.deposit}.`, 'above_deposit')
    m.store.vouchers.insert(ch.network, v, { price })
    const charged = ch.charged + price
    m.store.channels.update(ch.network, ch.id, { charged })
    return { channel: { ...ch, charged }, charged }
  })
}

/** Gives back the price of a request whose handler failed (nothing is charged). */
export function refundCharge(m: Pick<ChannelManager, 'store'>, channel: ChannelRecord, price: bigint): void {
  m.store.immediate(() => {
    const ch = m.store.channels.get(channel.network, channel.id)
    if (!ch) throw new ChannelStateError(`Channel ${short(channel.id)} vanished from the database.`)
    m.store.channels.update(ch.network, ch.id, { charged: ch.charged >= price ? ch.charged - price : 0n })
  })
}
