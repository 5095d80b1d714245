/**
 * `channels sync` on an EVM channel: chain (deposit, redeemed, settling/settled, gone,
 * a failed or mined open), then the merchant's view for an outbound channel bound to
 * one (see core/channel/sync.ts for the rules: adopt only our own signature; deliver
 * what the merchant never received).
 */
import type { ChannelManager } from './manager.js'
import { IllegalTransitionError, isTerminal, type ChannelEvent, type ChannelState } from '../../core/channel/state.js'
import { StaleChannelStateError, type ChannelFields, type ChannelRecord } from '../../core/store/index.js'
import { deliveryExtra, evmChannel } from './channel.js'
import { voucherFromWire } from '../../core/channel/voucher-wire.js'
import { sameVoucher } from '../../core/channel/voucher.js'
import { adoptionConflict } from '../../core/channel/acknowledge.js'
import { formatAmount, parseBaseUnits } from '../../core/units.js'
import { evmAsset } from './asset.js'
import type { DeliverVoucher, SyncReport } from '../../core/channel/sync.js'

/**
 * Syncs one channel.
 * @param deliver - how a voucher the merchant never received is delivered (`deliverVoucher`)
 * @throws {NetworkError} when the chain is unreachable (the merchant being down is a warning)
 */
export async function syncChannel(m: ChannelManager, c: ChannelRecord, deliver: DeliverVoucher): Promise<SyncReport> {
  const { report, onChain } = await chainHalf(m, c)
  if (c.direction === 'outbound' && c.endpoint && onChain) await syncWithMerchant(m, m.store.channels.get(c.network, c.id)!, report, deliver)
  const after = m.store.channels.get(c.network, c.id)!
  report.state = after.state
  const mine = m.store.vouchers.latest(c.network, c.id, 0n)
  if (mine) report.local = { nonce: mine.nonce.toString(), amount: mine.amount.toString() }
  return report
}

/**
 * The chain half of {@link syncChannel} (never contacts the merchant): deposit, redeemed,
 * settling/settled, gone from the contract (closed), a failed or mined open. What
 * `list` runs before printing, so a payee learns that its channel was collected.
 * Since nobody asked for it, it reads only the contract it can trust: the code at the
 * network's address must be our build (a channel that is not on chain is marked
 * closed, so an empty or foreign address must never answer), and a channel recorded
 * under another contract address is left as it is, with a warning.
 * @throws {NetworkError} when the chain is unreachable
 * @throws {ContractMismatchError} no PaymentChannels build at the network's address
 */
export async function refreshChannel(m: ChannelManager, c: ChannelRecord): Promise<SyncReport> {
  const { contract } = evmChannel(c).data
  if (contract.toLowerCase() !== m.backend.contract.toLowerCase()) {
    return { channelId: c.id, stateBefore: c.state, state: c.state, changes: [], warnings: [`the channel is on contract ${contract}, not the network's ${m.backend.contract}; not refreshed`] }
  }
  await m.backend.verifyContract()
  const { report } = await chainHalf(m, c)
  report.state = m.store.channels.get(c.network, c.id)!.state
  return report
}

/**
 * Reads a channel on chain and stores what changed; `onChain` says whether the contract still holds it.
 * Each state change is an event of the table (DESIGN §3), applied to the state `c` was read in; a
 * chain fact the table forbids, or a row another process moved meanwhile, is a warning and the
 * row is left as it is (the paywall's `list` must not fail on it).
 */
async function chainHalf(m: ChannelManager, c: ChannelRecord): Promise<{ report: SyncReport; onChain: boolean }> {
  const changes: string[] = []
  const warnings: string[] = []
  const stateBefore = c.state
  const move = (from: ChannelState, events: readonly [ChannelEvent, ...ChannelEvent[]], fields: ChannelFields, why: string): void => {
    try {
      const to = m.store.channels.transition(c.network, c.id, events, fields, from).state
      changes.push(`${from} → ${to}${why}`)
    } catch (err) {
      if (!(err instanceof IllegalTransitionError || err instanceof StaleChannelStateError)) throw err
      warnings.push(`${events.join(' + ')}${why} not recorded, the channel is left as it is: ${err.shortMessage}`)
    }
  }
  const on = await m.backend.getChannel(c.id)
  if (!on) {
    if (c.state === 'opening') {
      const status = c.openTx ? await m.backend.transactionStatus(c.openTx) : 'unknown'
      if (status === 'failed') move('opening', ['fail'], {}, ' (the open transaction reverted)')
      else warnings.push('the open transaction is not mined (yet); run sync again later')
    } else if (!isTerminal(c.state)) {
      // The contract deletes a channel only in collect (after settleAt) and close (the
      // payee's voucher): from open only close can have happened; from later states, collect.
      move(c.state, [c.state === 'open' ? 'close' : 'collect'], {}, ' (the channel is no longer on chain)')
    }
  } else {
    if (c.state === 'opening') move('opening', ['confirm'], {}, '')
    const amount = (v: bigint) => formatAmount(v, evmAsset(m.network, c.asset))
    // While a top-up is pending its amount counts as pending: advanceDeposit (deposits.ts) confirms it with its
    // receipt, so that it is never counted twice (pending and in the deposit) by `reserve`.
    if (on.deposit !== c.deposit && !c.pendingTx) {
      m.store.channels.update(c.network, c.id, { deposit: on.deposit })
      changes.push(`deposit ${amount(c.deposit)} → ${amount(on.deposit)}`)
    }
    if (on.redeemed !== c.redeemed) {
      m.store.channels.update(c.network, c.id, { redeemed: on.redeemed })
      changes.push(`redeemed ${amount(c.redeemed)} → ${amount(on.redeemed)}`)
    }
    if (on.settleAt !== 0) {
      const elapsed = (await m.backend.now()) >= on.settleAt
      const current = m.store.channels.get(c.network, c.id)!.state
      // A settleAt on chain means someone ran settle; a chain time at or past it, that the period elapsed.
      if (current === 'open') move('open', elapsed ? ['settle', 'elapse'] : ['settle'], { settleAt: on.settleAt }, ` (settleAt ${on.settleAt})`)
      else if (current === 'settling' && elapsed) move('settling', ['elapse'], { settleAt: on.settleAt }, ` (settleAt ${on.settleAt})`)
    }
  }
  return { report: { channelId: c.id, stateBefore, state: '', changes, warnings }, onChain: on !== undefined }
}

async function syncWithMerchant(m: ChannelManager, c: ChannelRecord, report: SyncReport, deliver: DeliverVoucher): Promise<void> {
  let state: Record<string, unknown>
  try {
    // undici (≈ 40-80 ms of a command's start) is loaded by the syncs that reach a merchant, not by every pay or open
    const { request } = await import('./merchant-http.js')
    const res = await request(`${c.endpoint!.replace(/\/$/, '')}/channels/${c.id}`, { headersTimeout: 30_000, bodyTimeout: 30_000 })
    if (res.statusCode === 404) {
      await res.body.dump()
      state = { nonce: '0', amount: '0', charged: '0' }
    } else if (res.statusCode !== 200) {
      await res.body.dump()
      report.warnings.push(`the merchant answered ${res.statusCode}`)
      return
    } else state = (await res.body.json()) as Record<string, unknown>
  } catch (err) {
    report.warnings.push(`the merchant is unreachable: ${(err as Error).message}`)
    return
  }
  let theirNonce: bigint, charged: bigint
  try {
    theirNonce = BigInt(parseBaseUnits(String(state.nonce ?? '0'), 'nonce'))
    charged = parseBaseUnits(String(state.charged ?? '0'), 'charged')
  } catch {
    report.warnings.push('the merchant sent an unreadable channel state')
    return
  }
  const mine = m.store.vouchers.latest(c.network, c.id, 0n)
  const myNonce = mine?.nonce ?? 0n
  if (theirNonce > myNonce) {
    // The merchant holds a newer voucher than our database: adopt it only if we signed it
    // (this channel, chain and contract; lane 0, the nonce it claims) and it fits our lane.
    let theirs
    try {
      theirs = voucherFromWire(state.voucher)
    } catch {
      report.warnings.push('the merchant claims a newer voucher but sent none readable; ignored')
      return
    }
    if (!m.signedByPayer(c, theirs) || theirs.nonce !== theirNonce || theirs.lane !== 0n) {
      report.warnings.push('the merchant claims a voucher this wallet did not sign; ignored')
      return
    }
    const conflict = adoptionConflict(m.store, c, theirs)
    if (conflict) {
      report.warnings.push(`the merchant's voucher ${theirs.nonce} was not adopted: ${conflict}`)
      return
    }
    m.acknowledge(c, theirs, charged)
    report.changes.push(`adopted the merchant's voucher nonce ${theirs.nonce} (total ${formatAmount(theirs.amount, evmAsset(m.network, c.asset))}), signed by this wallet`)
  } else if (mine && myNonce > theirNonce) {
    // We committed a voucher the merchant never stored: deliver it so both sides agree.
    try {
      const after = await deliver(m, c, mine, deliveryExtra(c))
      report.changes.push(`delivered voucher nonce ${mine.nonce} (total ${formatAmount(mine.amount, evmAsset(m.network, c.asset))}) the merchant had not received`)
      charged = after
    } catch (err) {
      report.warnings.push(`could not deliver voucher nonce ${mine.nonce}: ${(err as Error).message}`)
    }
  } else if (mine) {
    // Same nonce: the merchant's `charged` is believed (up to what we signed) only if its voucher is ours, if it sent one.
    let theirs
    try {
      theirs = state.voucher === undefined ? undefined : voucherFromWire(state.voucher)
    } catch {
      theirs = undefined
    }
    if (theirs && (!sameVoucher(theirs, mine) || theirs.lane !== 0n)) {
      report.warnings.push(`the merchant's voucher ${theirNonce} differs from this wallet's; its charged ${charged} is ignored`)
      return
    }
    m.acknowledge(c, mine, charged)
  }
  const last = m.store.vouchers.latest(c.network, c.id, 0n)
  report.merchant = { nonce: (last?.nonce ?? 0n).toString(), amount: (last?.amount ?? 0n).toString(), charged: charged.toString() }
}
