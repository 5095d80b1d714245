/**
 * EVM top-up deposits that never wait for a block (issue 11 §2, DESIGN §13; Lotus FundManager and
 * `PaychGet` add-funds, the seed's ReserveFunds): the funds bookkeeping of core/channel/funds.ts
 * plus the contract's `deposit` transaction.
 *
 * A top-up is signed offline inside the write lock that claims it (`claimQueued`), its hash and
 * raw transaction are stored, and only then is it broadcast; the caller gets the hash at once.
 * {@link advanceDeposit} moves it on with one receipt lookup per call: mined → the confirmed
 * deposit is the chain's and the queued top-up (all of it, one transaction) is sent next;
 * reverted or dropped → its amount goes back to the queue; unknown to the node → the same raw
 * transaction is broadcast again (same nonce: never a second deposit). Several processes may run
 * it at once: every change re-reads the row under `BEGIN IMMEDIATE`.
 *
 * Automatic top-ups are sent in the native coin only (an ERC-20 deposit needs an `approve`
 * first); a token channel reserves within its deposit and is topped up with `channels fund`.
 */
import { Interface, Transaction, ZeroAddress, type BaseWallet, type JsonRpcProvider } from 'ethers'
import type { ChannelRecord } from '../../core/store/index.js'
import type { ChannelManager } from './manager.js'
import type { EvmBackend } from './backend.js'
import { abi } from './artifact.js'
import {
  availableFunds, claimQueued, fundsOf, releaseFunds, reserveFunds, settleDeposit, type ClaimedDeposit, type SignedDeposit,
} from '../../core/channel/funds.js'
import { ChannelsError, InsufficientFundsError, NetworkError } from '../../core/errors.js'

/** What {@link reserveWithTopUp} did. Amounts in base units (wei for native-coin channels). */
export interface ReserveReport {
  /** The channel as stored afterwards. */
  channel: ChannelRecord
  /** Set aside on the channel now, in total. */
  reserved: bigint
  /** `confirmed − spent − reserved`: what a payment without a reservation may still use. */
  available: bigint
  /** What this reservation added to the top-up (0 when the channel covered it). */
  topUp: bigint
  /** The deposit in flight (sent now or before), if any: its hash. */
  pendingTx?: string
  /** Base units of that deposit. */
  pending: bigint
  /** Top-up waiting for the pending deposit to be mined; sent as one deposit then. */
  queued: bigint
  /** The deposit this call broadcast, if it sent one (its own top-up, or one other calls queued). */
  sent?: string
}

/** What {@link advanceDeposit} found and did. */
export interface DepositAdvance {
  /** What became of the deposit that was pending: mined, dropped (reverted, or its nonce taken), rebroadcast, or still in the node's pool. */
  pending?: 'mined' | 'dropped' | 'rebroadcast' | 'in-flight'
  /** A queued top-up sent now. */
  sent?: ClaimedDeposit
}

/** The contract's ABI, parsed once (≈ 35 ms), for the `deposit` call data. */
let contractInterface: Interface | undefined
const depositData = (channelId: string, amount: bigint): string =>
  (contractInterface ??= new Interface(abi as never)).encodeFunctionData('deposit', [channelId, amount])

const providerOf = (m: ChannelManager): JsonRpcProvider => (m.backend as EvmBackend).provider

/** Whether the family tops `c` up by itself: native-coin channels. */
const topsUp = (c: ChannelRecord): boolean => c.asset === ZeroAddress

/** What a deposit needs from the node before it can be signed inside the write lock. */
interface DepositTemplate {
  nonce: number
  gasLimit: bigint
  fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint }
}

/** Reads the payer's next nonce (its pending transactions counted), the fees and the gas of a deposit of about `amount`. */
async function template(m: ChannelManager, c: ChannelRecord, amount: bigint): Promise<DepositTemplate> {
  await m.backend.checkNetwork()
  const p = providerOf(m)
  try {
    const [nonce, fee, gas] = await Promise.all([
      p.getTransactionCount(c.payer, 'pending'),
      p.getFeeData(),
      p.estimateGas({ from: c.payer, to: m.backend.contract, data: depositData(c.id, amount), value: amount }),
    ])
    const fees = fee.maxFeePerGas !== null && fee.maxPriorityFeePerGas !== null
      ? { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas }
      : { gasPrice: fee.gasPrice ?? 0n }
    return { nonce, gasLimit: (gas * 12n) / 10n, fees }
  } catch (err) {
    const e = err as { code?: string; message?: string }
    if (e.code === 'INSUFFICIENT_FUNDS') {
      throw new InsufficientFundsError(`${c.payer} cannot pay a top-up of ${amount} wei plus gas; it stays queued.`, 0n, {
        metaMessages: [`Fund ${c.payer}; the next \`channels reserve\` or \`channels sync\` sends the queued top-up.`], cause: err,
      })
    }
    if (e.code === 'CALL_EXCEPTION') throw new ChannelsError(`The contract would refuse a deposit into channel ${c.id.slice(0, 10)}…; the top-up stays queued.`, { cause: err })
    throw new NetworkError(`The node at ${m.network.rpcUrl} did not answer for the top-up; it stays queued.`, { details: e.message?.split('\n')[0], cause: err })
  }
}

/** Signs a `deposit(channelId, amount)` with `value: amount` (synchronous: it runs inside the write lock). */
function signDeposit(m: ChannelManager, signer: BaseWallet, c: ChannelRecord, t: DepositTemplate, amount: bigint): SignedDeposit {
  const tx = Transaction.from({
    type: 'gasPrice' in t.fees ? 0 : 2, chainId: m.backend.chainId, nonce: t.nonce, to: m.backend.contract,
    data: depositData(c.id, amount), value: amount, gasLimit: t.gasLimit, ...t.fees,
  })
  tx.signature = signer.signingKey.sign(tx.unsignedHash)
  return { hash: tx.hash!, raw: tx.serialized }
}

/**
 * Broadcasts a stored raw transaction. A node that knows it already, or whose account nonce has
 * moved past it, is not an error here: {@link advanceDeposit} finds out what became of it.
 * @returns whether the node took it now
 */
async function broadcast(m: ChannelManager, raw: string): Promise<boolean> {
  try {
    await providerOf(m).broadcastTransaction(raw)
    return true
  } catch (err) {
    const e = err as { code?: string; message?: string }
    if (e.code === 'NONCE_EXPIRED' || e.code === 'REPLACEMENT_UNDERPRICED' || /already known|nonce too low|known transaction/i.test(e.message ?? '')) return false
    throw new NetworkError(`The node at ${m.network.rpcUrl} did not take the top-up; it is stored and the next command sends it again.`, {
      details: e.message?.split('\n')[0], cause: err,
    })
  }
}

/**
 * Sends the queued top-up of `c` when no deposit is pending: reads nonce, fees and gas, claims the
 * queue and signs the deposit in one write transaction (core/channel/funds.ts `claimQueued`: the
 * raw transaction is stored before it leaves), then broadcasts it without waiting for a block.
 * @returns the deposit sent, or undefined (nothing queued, a deposit pending, or not a native-coin channel)
 * @throws {InsufficientFundsError} the payer's account cannot pay the top-up and gas (it stays queued)
 * @throws {NetworkError} the node is unreachable (the top-up stays queued, or stored for a rebroadcast)
 */
export async function sendQueued(m: ChannelManager, c: ChannelRecord): Promise<ClaimedDeposit | undefined> {
  const row = m.store.channels.get(c.network, c.id)
  if (!row || !topsUp(row) || row.state !== 'open' || row.queued <= 0n || row.pendingDeposit > 0n || row.pendingTx) return undefined
  const signer = await m.signer()
  const t = await template(m, row, row.queued)
  const claim = claimQueued(m.store, row, 0n, (amount) => signDeposit(m, signer, row, t, amount))
  if (claim) await broadcast(m, claim.raw)
  return claim
}

/**
 * Moves the top-up of an outbound channel on (see the file comment): one receipt lookup of the
 * pending deposit, recorded under the write lock; then the queued top-up is sent if no deposit is
 * pending any more. Cheap when nothing is pending or queued (no network).
 * @throws {NetworkError} the node is unreachable · {@link InsufficientFundsError} a queued top-up cannot be paid
 * @example await advanceDeposit(m, c) // { pending: 'mined', sent: { hash: '0x…', amount: 700n, raw: '0x02…' } }
 */
export async function advanceDeposit(m: ChannelManager, c: ChannelRecord): Promise<DepositAdvance> {
  const row = m.store.channels.get(c.network, c.id)
  if (!row || row.direction !== 'outbound') return {}
  const out: DepositAdvance = {}
  if (row.pendingTx && row.pendingRaw) out.pending = await pendingOutcome(m, row, row.pendingTx, row.pendingRaw)
  const sent = await sendQueued(m, row)
  return sent ? { ...out, sent } : out
}

/** One look at the pending deposit `hash`, and what it means for the row. */
async function pendingOutcome(m: ChannelManager, c: ChannelRecord, hash: string, raw: string): Promise<NonNullable<DepositAdvance['pending']>> {
  const tx = Transaction.from(raw)
  const amount = tx.value
  const record = async (status: 'mined' | 'failed'): Promise<'mined' | 'dropped'> => {
    if (status === 'mined') {
      const on = await m.backend.getChannel(c.id)
      settleDeposit(m.store, c, { outcome: 'mined', hash, amount, deposit: on?.deposit ?? c.deposit + amount })
      return 'mined'
    }
    settleDeposit(m.store, c, { outcome: 'dropped', hash, amount })
    return 'dropped'
  }
  const status = await m.backend.transactionStatus(hash)
  if (status !== 'unknown') return record(status)
  const p = providerOf(m)
  if (await p.getTransaction(hash)) return 'in-flight'
  if ((await p.getTransactionCount(c.payer, 'latest')) > tx.nonce) {
    // Its nonce is used: by this transaction mined since the receipt lookup, or by another one.
    const again = await m.backend.transactionStatus(hash)
    return record(again === 'mined' ? 'mined' : 'failed')
  }
  await broadcast(m, raw)
  return 'rebroadcast'
}

/**
 * Sets `amount` aside on an outbound channel and, when the channel lacks it, tops it up without
 * waiting for a block (the seed's ReserveFunds, Lotus FundManager `Reserve`): first moves a pending
 * top-up on ({@link advanceDeposit}), then reserves (core/channel/funds.ts `reserveFunds`), then
 * sends the merged queued top-up if no deposit is pending; otherwise the shortfall waits in
 * `queued` for the next deposit.
 * @param amount - base units (wei, token units)
 * @returns what is reserved, available, pending (with the hash) and queued afterwards
 * @throws {UsageError} amount not above 0 · {@link ChannelStateError} not the payer, or not open
 * @throws {InsufficientFundsError} a token channel that lacks the amount (top-ups are native-coin only), or the payer's
 *   account cannot pay the top-up (the reservation stands and the top-up stays queued)
 * @throws {NetworkError} the node is unreachable while a top-up is pending or needed
 * @example (await reserveWithTopUp(m, c, 5000n)).sent // undefined when the deposit covers it; else the deposit's hash
 */
export async function reserveWithTopUp(m: ChannelManager, c: ChannelRecord, amount: bigint): Promise<ReserveReport> {
  const before = await advanceDeposit(m, c) // may send what other processes queued: this call sent it
  const r = reserveFunds(m.store, c, amount, {
    topUp: topsUp(c), closeReserve: 0n,
    noTopUp: 'Automatic top-ups are sent in the native coin only; add tokens with `channels fund <channel> <amount>`.',
  })
  const sent = (r.queuedNow > 0n ? await sendQueued(m, c) : undefined) ?? before.sent
  return { ...report(m, m.store.channels.get(c.network, c.id)!), topUp: r.queuedNow, sent: sent?.hash }
}

/**
 * Gives back funds set aside by {@link reserveWithTopUp} (the seed's ReleaseFunds; core/channel/funds.ts `releaseFunds`).
 * @param amount - base units
 * @throws {UsageError} amount not above 0 or above what is reserved · {@link ChannelStateError} not the payer
 */
export function releaseReserved(m: ChannelManager, c: ChannelRecord, amount: bigint): Omit<ReserveReport, 'topUp' | 'sent'> {
  return report(m, releaseFunds(m.store, c, amount))
}

function report(m: ChannelManager, ch: ChannelRecord): Omit<ReserveReport, 'topUp' | 'sent'> {
  const f = fundsOf(m.store, ch)
  return { channel: ch, reserved: ch.reserved, available: availableFunds(f), pendingTx: ch.pendingTx, pending: ch.pendingDeposit, queued: ch.queued }
}
