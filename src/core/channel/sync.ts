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
import type { ChannelReader } from './reader.js'
import { isTerminal } from './state.js'
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import type { Voucher } from './voucher.js'
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
 * `transports/http402/merchant.ts`), passed in so that the channel layer does not import a transport.
 * `extra` is the family's part of the payment entry's `extra` the voucher is sent under
 * (EVM: `{contract, minDeposit, minSettleDelay}`); the transport adds the endpoint.
 */
export type DeliverVoucher = (m: Acknowledger, c: ChannelRecord, v: VoucherRecord, extra: Record<string, unknown>) => Promise<bigint>

/** Records a merchant's acknowledgement of a voucher (each family's manager: `acknowledge`). */
export interface Acknowledger {
  acknowledge(c: ChannelRecord, v: Voucher, charged: bigint): boolean
}

/**
 * Syncs every channel of the manager's network that is not final, one after another.
 * @param one - how one channel is synced: `syncChannel` (families/evm/sync.ts) or `syncBitcoinChannel`
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
 * @param one - the chain refresh of one channel: `refreshChannel` (families/evm/sync.ts) or `syncBitcoinChannel`
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
