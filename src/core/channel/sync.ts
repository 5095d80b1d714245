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
import type { ChannelManager } from '../../families/evm/manager.js'
import type { ChannelReader } from './reader.js'
import { IllegalTransitionError, isTerminal, type ChannelEvent, type ChannelState } from './state.js'
import { StaleChannelStateError, type ChannelFields, type ChannelRecord, type VoucherRecord } from '../store/index.js'
import { voucherFromWire } from './voucher-wire.js'
import { adoptionConflict } from './acknowledge.js'
import { amountAsset, formatAmount, parseBaseUnits } from '../units.js'
import { ChannelsError, NetworkError, StoreError } from '../errors.js'

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
 * Hands a voucher to the channel's merchant and records its acknowledgement, returning
 * the merchant's `charged` in base units: the transport's job (`deliverVoucher` in
 * `http402/cooperative.ts`), passed in so that the channel layer does not import a transport.
 */
export type DeliverVoucher = (m: ChannelManager, c: ChannelRecord, v: VoucherRecord) => Promise<bigint>

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
  if (c.contract && c.contract.toLowerCase() !== m.backend.contract.toLowerCase()) {
    return { channelId: c.id, stateBefore: c.state, state: c.state, changes: [], warnings: [`the channel is on contract ${c.contract}, not the network's ${m.backend.contract}; not refreshed`] }
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
    const amount = (v: bigint) => formatAmount(v, amountAsset(m.network, c.asset))
    if (on.deposit !== c.deposit) {
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
    report.changes.push(`adopted the merchant's voucher nonce ${theirs.nonce} (total ${formatAmount(theirs.amount, amountAsset(m.network, c.asset))}), signed by this wallet`)
  } else if (mine && myNonce > theirNonce) {
    // We committed a voucher the merchant never stored: deliver it so both sides agree.
    try {
      const after = await deliver(m, c, mine)
      report.changes.push(`delivered voucher nonce ${mine.nonce} (total ${formatAmount(mine.amount, amountAsset(m.network, c.asset))}) the merchant had not received`)
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


/** What {@link refreshAll} did. */
export interface RefreshResult {
  /** One report per channel refreshed (in the order they finished). */
  reports: SyncReport[]
  /** Why the refresh stopped early: the node unreachable or slower than the deadline, or the chain answered something this wallet will not read (e.g. not our contract). */
  error?: ChannelsError
}

/**
 * Refreshes from the chain every channel of the manager's network that is not final
 * (optionally of one direction), a few at a time, and gives up at a deadline: what
 * `list` does before printing. It never contacts a merchant. A channel whose refresh
 * had begun when the deadline passed may still be written afterwards; every write is a
 * complete, correct update of that channel.
 * @param one - the chain refresh of one channel: {@link refreshChannel} (EVM) or `syncBitcoinChannel`
 * @param opts.timeoutMs - deadline for the whole refresh, milliseconds
 * @param opts.concurrency - channels refreshed at once (default 4)
 * @returns the reports, and the error that stopped it early, if any: a {@link NetworkError}, or
 *   another {@link ChannelsError} of the chain read (a contract that is not our build)
 * @throws a {@link StoreError} (never swallowed) or an error that is not a ChannelsError (a bug)
 */
export async function refreshAll<M extends ChannelReader>(
  m: M,
  one: (m: M, c: ChannelRecord) => Promise<SyncReport>,
  opts: { timeoutMs: number; concurrency?: number; direction?: 'outbound' | 'inbound' },
): Promise<RefreshResult> {
  const todo = m.store.channels.list({ network: m.network.caip2, direction: opts.direction }).filter((c) => !isTerminal(c.state))
  const reports: SyncReport[] = []
  let error: ChannelsError | undefined
  const worker = async () => {
    while (!error && todo.length) {
      const c = todo.shift()!
      try {
        reports.push(await one(m, c))
      } catch (err) {
        if (!(err instanceof ChannelsError) || err instanceof StoreError) throw err
        error ??= err
      }
    }
  }
  const work = Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker))
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), opts.timeoutMs)))
  try {
    if ((await Promise.race([work, deadline])) === 'late') {
      error ??= new NetworkError(`The node at ${m.network.rpcUrl.replace(/\/\/[^@/]*@/, '//')} did not answer within ${opts.timeoutMs / 1000} s.`)
      work.catch(() => undefined) // abandoned: it stops at its next channel (error is set)
    }
  } finally {
    clearTimeout(timer)
  }
  return { reports: [...reports], error }
}
