/**
 * The sender's side of settlement over BTP (DESIGN §12; the ILP seed's "Settlement threshold
 * reached → create balance proof"): what a peer that forwards ILP Prepares owes for those the
 * other side fulfilled, paid with claims on one outbound channel.
 *
 * - `fulfilled(amount)` counts a fulfilled Prepare; once the owed value reaches the threshold,
 *   one claim pays all of it (`threshold` 0n: every fulfilled Prepare is paid at once).
 *   `pay(amount)` pays by hand (an ILP plugin's `sendMoney`, `channels btp pay`).
 * - Each claim is our next lane-0 voucher, committed to SQLite before it leaves (the payer's
 *   rule), sent in a Transfer of what it pays. Claims leave one at a time, in nonce order: the
 *   receiver refuses a nonce not above the last it holds, so two in flight would race.
 * - An unanswered claim (the socket dropped, no answer in time) is kept and sent again, the
 *   same claim with the same messageId, before the next one: the receiver answers a claim it
 *   already committed as a duplicate and credits it once (receiver.ts), so nothing is lost or
 *   counted twice. A refused claim (a BTP Error) is not resent: its voucher stays committed
 *   (the receiver may still redeem the channel's latest) and the error is thrown.
 */
import { randomBytes } from 'node:crypto'
import type { IlpReply } from 'ilp-packet'
import type { ChannelScheme } from '../../scheme/index.js'
import { ChannelsError, ExitCode, NetworkError, UsageError } from '../../errors.js'
import { voucherOfFamily } from '../../channel/voucher.js'
import { BtpError, connectBtp, parseBtpUrl, type BtpConnection } from './peer.js'
import { conditionFor, fulfills, parseSpsp, SPSP_CONTENT_TYPE } from './ilp.js'
import { CLAIM_PROTOCOL, CONTENT_JSON, claimFromVoucher, claimProof, type ClaimProof, type ClaimWire } from './claim.js'

/** A claim sent and answered. Amounts in base units. */
export interface ClaimSent {
  claim: ClaimWire
  /** What the claim's Transfer paid. */
  paid: bigint
  /** The peer's answer (its Response's claim entry, JSON), or undefined if unreadable. */
  receipt: unknown
}

/**
 * Sends `claim` over `c` in a Transfer of `amount` (base units, below 2^64), contentType 2.
 * @throws {BtpError} the peer refused it · {NetworkError} no answer (closed, timed out)
 */
export async function transferClaim(c: BtpConnection, claim: ClaimWire, amount: bigint): Promise<unknown> {
  const answer = await c.transfer(amount, [{ protocolName: CLAIM_PROTOCOL, contentType: CONTENT_JSON, data: Buffer.from(JSON.stringify(claim)) }])
  const entry = answer.find((d) => d.protocolName === CLAIM_PROTOCOL)
  try {
    return entry ? JSON.parse(entry.data.toString('utf8')) : undefined
  } catch {
    return undefined
  }
}

/** Pays a BTP peer with claims on one channel: by hand, or once a threshold of fulfilled value is owed. */
export class ClaimSender {
  private owed = 0n
  /** A claim whose answer never came: sent again first. */
  private unanswered?: { claim: ClaimWire; amount: bigint }
  private queue: Promise<unknown> = Promise.resolve()
  private readonly proof: ClaimProof

  /**
   * @param connection - the current connection to the peer (asked at each send, so a reconnect is picked up)
   * @param o.channel - the outbound channel (id or unique prefix) to the peer's payee
   * @param o.senderId - the claim's senderId (our BTP account name)
   * @param o.threshold - base units owed before {@link fulfilled} sends a claim
   * @throws {UsageError} the family has no claims (Bitcoin), or a negative threshold
   */
  constructor(
    private readonly s: ChannelScheme,
    private readonly connection: () => BtpConnection,
    readonly o: { channel: string; senderId: string; threshold: bigint },
  ) {
    this.proof = claimProof(s)
    if (o.threshold < 0n) throw new UsageError('The settlement threshold must not be negative.')
  }

  /** Base units owed for fulfilled Prepares and not yet paid. */
  get owedNow(): bigint {
    return this.owed
  }

  /** Counts a fulfilled Prepare of `amount` base units; pays everything owed once it reaches the threshold. */
  async fulfilled(amount: bigint): Promise<ClaimSent | undefined> {
    this.owed += amount
    if (this.owed === 0n || this.owed < this.o.threshold) return undefined
    return this.settle()
  }

  /** Pays everything owed now (e.g. before disconnecting); undefined when nothing is. */
  async settle(): Promise<ClaimSent | undefined> {
    const amount = this.owed
    if (amount === 0n) return undefined
    this.owed -= amount
    let committed = false
    try {
      return await this.enqueue(amount, () => (committed = true))
    } catch (err) {
      // No voucher for it: still owed. (With one, it is paid: refused, or the unanswered claim to finish.)
      if (!committed) this.owed += amount
      throw err
    }
  }

  /**
   * Pays `amount` (base units, 1 … 2^64 − 1) in one claim: the channel's next lane-0 voucher,
   * committed, then sent. Claims leave one at a time.
   * @throws {UsageError} amount out of range · {InsufficientFundsError} the channel lacks it ·
   *   {BtpError} refused · {NetworkError} unanswered (kept and resent before the next claim)
   */
  pay(amount: bigint): Promise<ClaimSent> {
    return this.enqueue(amount, () => {})
  }

  private enqueue(amount: bigint, committed: () => void): Promise<ClaimSent> {
    if (amount <= 0n || amount >= 1n << 64n) return Promise.reject(new UsageError(`A claim pays 1 to 2^64 − 1 base units (a BTP Transfer's amount), not ${amount}.`))
    const run = this.queue.then(() => this.send(amount, committed))
    this.queue = run.catch(() => {})
    return run
  }

  private async send(amount: bigint, committed: () => void): Promise<ClaimSent> {
    const c = this.connection()
    if (this.unanswered) {
      const { claim, amount: was } = this.unanswered
      await transferClaim(c, claim, was)
      this.unanswered = undefined
    }
    const { voucher: v, paid } = await this.s.pay(this.o.channel, amount, { lane: 0n, deliver: false })
    committed()
    const claim = claimFromVoucher(voucherOfFamily(v, 'evm'), this.proof(v), { senderId: this.o.senderId })
    this.unanswered = { claim, amount: paid }
    let receipt: unknown
    try {
      receipt = await transferClaim(c, claim, paid)
    } catch (err) {
      if (err instanceof BtpError) this.unanswered = undefined
      throw err
    }
    this.unanswered = undefined
    return { claim, paid, receipt }
  }
}

/** What {@link sendOverIlp} did. Amounts in base units. */
export interface IlpSendResult {
  destination: string
  /** Fulfilled Prepares and their total. */
  packets: number
  delivered: bigint
  /** Claims sent (each paying what was owed when it left). */
  claims: ClaimSent[]
}

/**
 * `channels btp send`: pays `o.amount` to an SPSP receiver (RFC 9) through a BTP peer, in ILP
 * Prepares of at most `o.packet`, each with a fresh condition from the SPSP shared secret
 * (ilp.ts); the peer is paid with claims on `o.channel` each time `o.threshold` is owed, and
 * for the rest at the end. A Fulfill whose fulfillment does not hash to the condition counts
 * as a Reject. Stops at the first Reject, after paying what is owed.
 * @param o.spsp - the receiver's SPSP URL (http(s)://…/.well-known/pay)
 * @param o.onClaim - told of each claim as it is answered (progress)
 * @throws {UsageError} bad amounts, an unreadable SPSP answer · {NetworkError} SPSP or BTP unreachable ·
 *   {BtpError} a claim refused · {IlpRejectError} a Prepare rejected (after settling)
 */
export async function sendOverIlp(s: ChannelScheme, o: { url: string; spsp: string; channel: string; amount: bigint; packet: bigint; threshold: bigint; expirySeconds?: number; onClaim?: (c: ClaimSent) => void }): Promise<IlpSendResult> {
  if (o.amount <= 0n || o.packet <= 0n) throw new UsageError('The amount and the packet size must be above zero.')
  if (o.packet >= 1n << 64n) throw new UsageError('An ILP packet\'s amount is below 2^64 base units.')
  const { destination, sharedSecret } = await fetchSpsp(o.spsp)
  const { account } = parseBtpUrl(o.url)
  const conn = await connectBtp(o.url)
  const sender = new ClaimSender(s, () => conn, { channel: o.channel, senderId: account, threshold: o.threshold })
  const result: IlpSendResult = { destination, packets: 0, delivered: 0n, claims: [] }
  const track = (c: ClaimSent | undefined) => {
    if (!c) return
    result.claims.push(c)
    o.onClaim?.(c)
  }
  try {
    while (result.delivered < o.amount) {
      const amount = o.amount - result.delivered < o.packet ? o.amount - result.delivered : o.packet
      const data = randomBytes(32)
      const condition = conditionFor(sharedSecret, data)
      const reply = await conn.sendPrepare({ amount: amount.toString(), destination, executionCondition: condition, expiresAt: new Date(Date.now() + (o.expirySeconds ?? 30) * 1000), data })
      if (!('fulfillment' in reply) || !fulfills(reply.fulfillment, condition)) {
        track(await sender.settle())
        throw new IlpRejectError(reply, result)
      }
      result.packets++
      result.delivered += amount
      track(await sender.fulfilled(amount))
    }
    track(await sender.settle())
    return result
  } finally {
    conn.close()
  }
}

/** A Prepare the peer rejected (or fulfilled with a wrong fulfillment). Exit code 4. */
export class IlpRejectError extends ChannelsError {
  override name = 'Ilp.RejectError'
  override code = 'ILP_REJECTED'
  override exitCode: ExitCode = ExitCode.paymentRefused
  constructor(reply: IlpReply, readonly sent: IlpSendResult) {
    const r = 'code' in reply ? reply : { code: 'F05', triggeredBy: '', message: 'the fulfillment does not match the condition' }
    super(`ILP Prepare rejected after ${sent.packets} fulfilled: ${r.code} ${r.message}${r.triggeredBy ? ` (by ${r.triggeredBy})` : ''}`, {
      data: { ilpCode: r.code, triggeredBy: r.triggeredBy, packets: sent.packets, delivered: sent.delivered.toString(), claims: sent.claims.length },
    })
  }
}

/**
 * Asks an SPSP server (RFC 9) where to pay.
 * @throws {NetworkError} unreachable or no answer in 10 s · {UsageError} not an SPSP answer
 */
export async function fetchSpsp(url: string): Promise<{ destination: string; sharedSecret: Buffer }> {
  if (!/^https?:\/\//.test(url)) throw new UsageError(`An SPSP URL starts with http:// or https://, not ${url.slice(0, 60)}.`)
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: SPSP_CONTENT_TYPE }, signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    throw new NetworkError(`Cannot reach the SPSP server at ${url}: ${(err as Error).message}`, { cause: err })
  }
  const text = await res.text()
  if (!res.ok) throw new UsageError(`The SPSP server answered ${res.status}: ${text.slice(0, 200)}`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new UsageError('The SPSP answer is not JSON.')
  }
  return parseSpsp(json)
}
