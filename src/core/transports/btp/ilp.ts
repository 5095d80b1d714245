/**
 * Receiving ILP packets (DESIGN §12): how `channels btp listen` answers an ILPv4 Prepare
 * (RFC 27) from a peer, and how a sender learns what to put in one.
 *
 * - Where to pay: SPSP (RFC 9). `GET /.well-known/pay` on the listener's port answers
 *   `{destination_account, shared_secret}` (content type `application/spsp4+json`): a fresh
 *   random token under the listener's ILP address, and the secret only the listener can
 *   derive for it — `shared_secret = HMAC-SHA256(receiveSecret, token)` — so it keeps no
 *   state per token and the peer in between (a connector) never learns it.
 * - The condition: a Prepare's `executionCondition` is a SHA-256 hash (the hash lock of
 *   DESIGN §11); its preimage, the fulfillment, is STREAM's (RFC 29 §"Condition and
 *   Fulfillment Generation"): `HMAC-SHA256(HMAC-SHA256(shared_secret, "ilp_stream_fulfillment"), data)`.
 *   Only a sender holding the shared secret can build a Prepare the listener fulfills; the
 *   listener reveals the fulfillment only for such a Prepare. It does not read STREAM frames:
 *   the Fulfill's data is empty.
 * - Credit: fulfilling a Prepare means the peer owes its amount (the peer settles it with
 *   claims, receiver.ts). {@link IlpReceiver} keeps what each peer owes and refuses a Prepare
 *   that would take it above `maxOwed` (T04, as `ilp-connector` does at its `maximum`); a claim
 *   in a Transfer pays it down. The balance lives in this process (a restart forgets it:
 *   the peer's debt, never the payee's money — claims are committed to SQLite).
 * - Refusals (RFC 27's codes): F02 the destination is not under this address, F05 wrong
 *   condition, R00 already expired, T04 above the credit limit. `triggeredBy` is this address.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IlpPrepare, IlpReply } from 'ilp-packet'
import { UsageError } from '../../errors.js'

/** SPSP's content type (RFC 9). */
export const SPSP_CONTENT_TYPE = 'application/spsp4+json'
/** Where the listener answers SPSP queries (RFC 9's default for a payment pointer). */
export const SPSP_PATH = '/.well-known/pay'
const FULFILLMENT_KEY = Buffer.from('ilp_stream_fulfillment', 'utf8')
/** A token: one ILP address segment, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/

/** An SPSP answer (RFC 9): where to send ILP packets and the secret their conditions derive from (base64). */
export interface SpspAnswer {
  destination_account: string
  shared_secret: string
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest()

/**
 * The fulfillment of a Prepare carrying `data`, under `sharedSecret` (RFC 29: 32 bytes).
 * @example conditionFor(secret, data).equals(sha256(fulfillmentFor(secret, data))) // true
 */
export function fulfillmentFor(sharedSecret: Buffer, data: Buffer): Buffer {
  return hmac(hmac(sharedSecret, FULFILLMENT_KEY), data)
}

/** The execution condition a sender puts in a Prepare carrying `data`: SHA-256 of its fulfillment (32 bytes). */
export function conditionFor(sharedSecret: Buffer, data: Buffer): Buffer {
  return createHash('sha256').update(fulfillmentFor(sharedSecret, data)).digest()
}

/** Whether `fulfillment` opens `condition` (RFC 27: its SHA-256 is the condition), compared in constant time. */
export function fulfills(fulfillment: Buffer, condition: Buffer): boolean {
  return condition.length === 32 && timingSafeEqual(createHash('sha256').update(fulfillment).digest(), condition)
}

/** The shared secret of `token` under the listener's `receiveSecret` (32 bytes). */
export function sharedSecretFor(receiveSecret: Buffer, token: string): Buffer {
  return hmac(receiveSecret, Buffer.from(token, 'utf8'))
}

/**
 * Reads an SPSP answer (hostile: from the network).
 * @throws {UsageError} not the shape of RFC 9's answer, or a secret that is not 32 bytes of base64
 */
export function parseSpsp(json: unknown): { destination: string; sharedSecret: Buffer } {
  const j = json as Partial<SpspAnswer> | null
  if (!j || typeof j.destination_account !== 'string' || typeof j.shared_secret !== 'string' || !/^[a-zA-Z0-9._~-]{1,1023}$/.test(j.destination_account)) {
    throw new UsageError('Not an SPSP answer: expected {destination_account, shared_secret}.')
  }
  const secret = Buffer.from(j.shared_secret, 'base64')
  if (secret.length !== 32) throw new UsageError('The SPSP shared_secret is not 32 bytes of base64.')
  return { destination: j.destination_account, sharedSecret: secret }
}

/** The Reject of a refused Prepare. */
const reject = (code: string, triggeredBy: string, message: string): IlpReply => ({ code, triggeredBy, message, data: Buffer.alloc(0) })

/**
 * The listener's side of ILP: hands out SPSP answers, fulfills Prepares sent to them, and keeps
 * what each peer owes for the Prepares it fulfilled (base units of the listener's asset).
 */
export class IlpReceiver {
  private readonly owed = new Map<string, bigint>()
  constructor(
    /** This listener's ILP address (e.g. `g.merchant`; RFC 15 segments). */
    readonly ilpAddress: string,
    /** What one peer may owe at most, base units; 0n refuses every paying Prepare. */
    readonly maxOwed: bigint,
    /** The secret shared secrets derive from (32 bytes; random per process by default). */
    private readonly receiveSecret: Buffer = randomBytes(32),
  ) {
    if (!/^(g|private|example|test[1-3]?|local|peer|self)(\.[a-zA-Z0-9_~-]+)+$/.test(ilpAddress)) {
      throw new UsageError(`Not an ILP address (RFC 15): ${ilpAddress.slice(0, 100)}; e.g. g.merchant or private.channels.`)
    }
  }

  /** A fresh SPSP answer (RFC 9): a new token under this address and its shared secret. */
  spsp(): SpspAnswer {
    const token = randomBytes(18).toString('base64url')
    return { destination_account: `${this.ilpAddress}.${token}`, shared_secret: sharedSecretFor(this.receiveSecret, token).toString('base64') }
  }

  /** What `peer` owes, base units. */
  owedBy(peer: string): bigint {
    return this.owed.get(peer) ?? 0n
  }

  /** A claim from `peer` paid `amount` (base units): its debt goes down by that much, never below zero. */
  credit(peer: string, amount: bigint): void {
    const left = this.owedBy(peer) - amount
    if (left > 0n) this.owed.set(peer, left)
    else this.owed.delete(peer)
  }

  /**
   * Answers a Prepare from `peer`: a Fulfill (and the peer then owes its amount) or a Reject.
   * @param now - Unix milliseconds (for the expiry check)
   */
  prepare(p: IlpPrepare, peer: string, now = Date.now()): IlpReply {
    const prefix = `${this.ilpAddress}.`
    const token = p.destination.startsWith(prefix) ? p.destination.slice(prefix.length) : ''
    if (!TOKEN.test(token)) return reject('F02', this.ilpAddress, `No route to ${p.destination.slice(0, 100)}: this peer takes packets for ${prefix}<token> (SPSP at ${SPSP_PATH}).`)
    if (p.expiresAt.getTime() <= now) return reject('R00', this.ilpAddress, 'The Prepare had expired when it arrived.')
    const fulfillment = fulfillmentFor(sharedSecretFor(this.receiveSecret, token), p.data)
    if (!fulfills(fulfillment, p.executionCondition)) return reject('F05', this.ilpAddress, 'The condition does not match the data under this destination\'s shared secret.')
    const amount = BigInt(p.amount)
    const owed = this.owedBy(peer) + amount
    if (owed > this.maxOwed) return reject('T04', this.ilpAddress, `Peer owes ${this.owedBy(peer)}; this Prepare would take it above ${this.maxOwed}: settle with a claim first.`)
    if (amount > 0n) this.owed.set(peer, owed)
    return { fulfillment, data: Buffer.alloc(0) }
  }
}
