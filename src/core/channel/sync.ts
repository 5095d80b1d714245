/**
 * `channels sync`: reconciles the database with the chain and, for outbound channels
 * bound to a merchant, with the merchant's view (DESIGN §6 corrective state).
 *
 * - Chain: deposit, redeemed, settling/settled, gone (closed), a failed or mined open.
 * - Merchant ahead of us (our database was restored or lost a write): its last
 *   voucher is adopted only if it carries this wallet's own signature and fits the
 *   lane's history (`adoptionConflict`: the wallet never signs below a voucher it holds).
 * - Us ahead of the merchant (a crash after committing, before or while sending):
 *   our latest voucher is delivered, so both sides agree; any credit it carries
 *   above `charged` is re-spent by the next purchase.
 */
import { request } from 'undici'
import type { ChannelManager } from './manager.js'
import type { ChannelReader } from './reader.js'
import { isTerminal } from './state.js'
import type { ChannelRecord } from '../store/index.js'
import { voucherFromWire } from './voucher-wire.js'
import { adoptionConflict } from './acknowledge.js'
import { deliverVoucher } from '../http402/cooperative.js'
import { parseBaseUnits } from '../units.js'

/** What sync did to one channel. */
export interface SyncReport {
  channelId: string
  stateBefore: string
  state: string
  /** Human-readable changes, empty when nothing changed. */
  changes: string[]
  /** The merchant's last voucher on lane 0 after sync (outbound with an endpoint). */
  merchant?: { nonce: string; amount: string; charged: string }
  /** Our latest voucher on lane 0 after sync. */
  local?: { nonce: string; amount: string }
  /** Problems that did not stop the sync (merchant unreachable, forged state). */
  warnings: string[]
}

/**
 * Syncs one channel.
 * @throws {NetworkError} when the chain is unreachable (the merchant being down is a warning)
 */
export async function syncChannel(m: ChannelManager, c: ChannelRecord): Promise<SyncReport> {
  const changes: string[] = []
  const warnings: string[] = []
  const stateBefore = c.state
  const on = await m.backend.getChannel(c.id)
  if (!on) {
    if (c.state === 'opening') {
      const status = c.openTx ? await m.backend.transactionStatus(c.openTx) : 'unknown'
      if (status === 'failed') {
        m.store.channels.update(c.network, c.id, { state: 'failed' })
        changes.push('opening → failed (the open transaction reverted)')
      } else warnings.push('the open transaction is not mined (yet); run sync again later')
    } else if (!isTerminal(c.state)) {
      m.store.channels.update(c.network, c.id, { state: 'closed' })
      changes.push(`${c.state} → closed (the channel is no longer on chain)`)
    }
  } else {
    if (c.state === 'opening') {
      m.store.channels.update(c.network, c.id, { state: 'open' })
      changes.push('opening → open')
    }
    if (on.deposit !== c.deposit) {
      m.store.channels.update(c.network, c.id, { deposit: on.deposit })
      changes.push(`deposit ${c.deposit} → ${on.deposit}`)
    }
    if (on.redeemed !== c.redeemed) {
      m.store.channels.update(c.network, c.id, { redeemed: on.redeemed })
      changes.push(`redeemed ${c.redeemed} → ${on.redeemed}`)
    }
    if (on.settleAt !== 0) {
      const now = await m.backend.now()
      const state = now >= on.settleAt ? 'settled' : 'settling'
      const current = m.store.channels.get(c.network, c.id)!.state
      if (current !== state && (current === 'open' || current === 'settling' || current === 'opening')) {
        m.store.channels.update(c.network, c.id, { state, settleAt: on.settleAt })
        changes.push(`${current} → ${state} (settleAt ${on.settleAt})`)
      }
    }
  }
  const report: SyncReport = { channelId: c.id, stateBefore, state: '', changes, warnings }
  if (c.direction === 'outbound' && c.endpoint && on) await syncWithMerchant(m, m.store.channels.get(c.network, c.id)!, report)
  const after = m.store.channels.get(c.network, c.id)!
  report.state = after.state
  const mine = m.store.vouchers.latest(c.network, c.id, 0n)
  if (mine) report.local = { nonce: mine.nonce.toString(), amount: mine.amount.toString() }
  return report
}

async function syncWithMerchant(m: ChannelManager, c: ChannelRecord, report: SyncReport): Promise<void> {
  let state: Record<string, unknown>
  try {
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
    report.changes.push(`adopted the merchant's voucher nonce ${theirs.nonce} (amount ${theirs.amount}), signed by this wallet`)
  } else if (mine && myNonce > theirNonce) {
    // We committed a voucher the merchant never stored: deliver it so both sides agree.
    try {
      const after = await deliverVoucher(m, c, mine)
      report.changes.push(`delivered voucher nonce ${mine.nonce} (amount ${mine.amount}) the merchant had not received`)
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
    if (theirs && (theirs.signature.toLowerCase() !== mine.signature.toLowerCase() || theirs.amount !== mine.amount || theirs.lane !== 0n)) {
      report.warnings.push(`the merchant's voucher ${theirNonce} differs from this wallet's; its charged ${charged} is ignored`)
      return
    }
    m.acknowledge(c, mine, charged)
  }
  const last = m.store.vouchers.latest(c.network, c.id, 0n)
  report.merchant = { nonce: (last?.nonce ?? 0n).toString(), amount: (last?.amount ?? 0n).toString(), charged: charged.toString() }
}

/**
 * Syncs every channel of the manager's network that is not final, one after another.
 * @param one - how one channel is synced: {@link syncChannel} (EVM) or `syncBitcoinChannel`
 */
export async function syncAll<M extends ChannelReader>(m: M, one: (m: M, c: ChannelRecord) => Promise<SyncReport>): Promise<SyncReport[]> {
  const out: SyncReport[] = []
  for (const c of m.store.channels.list({ network: m.network.caip2 })) {
    if (isTerminal(c.state)) continue
    out.push(await one(m, c))
  }
  return out
}

