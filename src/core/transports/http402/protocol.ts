/**
 * The HTTP 402 protocol of DESIGN §6: x402 version 2 transport (headers
 * `PAYMENT-REQUIRED`, `PAYMENT-SIGNATURE`, `PAYMENT-RESPONSE`, base64 JSON) with our
 * scheme `channel`. Envelopes are encoded, decoded and validated with `@x402/core`;
 * this module adds the `channel` payload rules and the size limits.
 */
import {
  encodePaymentRequiredHeader, decodePaymentRequiredHeader, encodePaymentSignatureHeader,
  decodePaymentSignatureHeader, decodePaymentResponseHeader,
} from '@x402/core/http'
import { PaymentRequiredV2Schema, PaymentPayloadV2Schema } from '@x402/core/schemas'
import { z } from 'zod'
import { ChannelsError } from '../../errors.js'
import type { ChannelRecord, VoucherRecord } from '../../store/index.js'
import { familyOfNetwork, type Family } from '../../config-fields.js'
import { anyVoucherToWire, type Voucher } from '../../channel/voucher.js'
import { BitcoinVoucherWireSchema, VoucherWireSchema, voucherOfWire } from '../../channel/voucher-wire.js'
import {
  SCHEME, DEFAULT_ENDPOINT_PATH, type ChannelExtra, type ChannelStateWire, type ChannelRequirement, type ChannelPayload, type BitcoinOpenWire,
  type PaymentPayload, type RoutedPayload,
} from '../../scheme/x402.js'

export { SCHEME, DEFAULT_ENDPOINT_PATH, type ChannelExtra, type ChannelStateWire, type ChannelRequirement, type ChannelPayload, type BitcoinOpenWire, type PaymentPayload, type RoutedPayload }

export const X402_VERSION = 2
/** Largest `PAYMENT-SIGNATURE` header accepted, in bytes (larger: HTTP 431). */
export const MAX_SIGNATURE_HEADER = 8192

export const HEADER = {
  required: 'payment-required',
  signature: 'payment-signature',
  response: 'payment-response',
} as const




export interface PaymentRequired {
  x402Version: 2
  error?: string
  resource: { url: string; description?: string; mimeType?: string }
  accepts: ChannelRequirement[]
}



/** A header the paywall cannot read. `status` is the HTTP status to answer with. */
export class PaymentHeaderError extends ChannelsError {
  override name = 'Paywall.PaymentHeaderError'
  override code = 'BAD_PAYMENT_HEADER'
  constructor(message: string, readonly status: 400 | 431) {
    super(message)
  }
}

/**
 * A `PAYMENT-SIGNATURE` envelope of scheme `channel`: x402's v2 payload schema with our
 * payload and voucher schemas inside, so a header is validated in one pass.
 */
const SignatureSchema = PaymentPayloadV2Schema.extend({
  payload: z.object({ type: z.enum(['voucher', 'open']), channelId: z.string(), voucher: VoucherWireSchema }).strict(),
})

const hex = (max: number) => z.string().max(max).regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected hex').transform((x) => x.toLowerCase())

/** What a Bitcoin `open` payload adds: the deposit transaction (hex), the channel output's index and the redeem script (hex). */
const BitcoinOpenWireSchema = z.object({ depositTx: hex(6000), vout: z.number().int().min(0).max(10_000), redeemScript: hex(200) }).strict()
/**
 * The schema reads exactly the scheme's `BitcoinOpenWire` (core/scheme/x402.ts, where families see it): a
 * compile-time check, so the interface and the schema cannot drift apart (core/scheme imports no transport).
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _openWireAgrees: Same<z.infer<typeof BitcoinOpenWireSchema>, BitcoinOpenWire> = true
void _openWireAgrees

/** The same envelope for a `bip122:` network: the payment and, on `open`, the deposit and script. */
const BitcoinSignatureSchema = PaymentPayloadV2Schema.extend({
  payload: z.object({
    type: z.enum(['voucher', 'open']),
    channelId: z.string(),
    voucher: BitcoinVoucherWireSchema,
    open: BitcoinOpenWireSchema.optional(),
  }).strict(),
})

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 32 bytes of 0x hex').transform((x) => x.toLowerCase())

/**
 * The envelope of a routed purchase (issue 12, DESIGN §11), on any network: the payment's hash
 * and secret, no channel and no voucher (the merchant finds the hub's voucher by the hash).
 */
const RoutedSignatureSchema = PaymentPayloadV2Schema.extend({
  payload: z.object({ type: z.literal('routed'), hash: hex32, secret: hex32 }).strict(),
})
const _routedAgrees: Same<z.infer<typeof RoutedSignatureSchema>['payload'], RoutedPayload> = true
void _routedAgrees

/**
 * The envelope schema of each family, chosen by the family of the `accepted` entry's
 * network (its CAIP-2 namespace, `familyOfNetwork`); {@link voucherOfWire} makes the
 * model's voucher of the same family. A network of no family we know is read as EVM, so
 * that its header is refused (by the envelope or the paywall's offer check) as before.
 */
const SIGNATURE_SCHEMAS = { evm: SignatureSchema, bitcoin: BitcoinSignatureSchema } as const satisfies Record<Family, unknown>

export function encodePaymentRequired(p: PaymentRequired): string {
  return encodePaymentRequiredHeader(p as never)
}

/**
 * Decodes and validates a `PAYMENT-REQUIRED` header (client side).
 * @throws {ChannelsError} not base64 JSON or not an x402 v2 challenge
 */
export function decodePaymentRequired(header: string): PaymentRequired {
  if (header.length > 65536) throw new ChannelsError('The PAYMENT-REQUIRED header is too large.')
  let raw: unknown
  try {
    raw = decodePaymentRequiredHeader(header)
  } catch (err) {
    throw new ChannelsError('The merchant sent an unreadable PAYMENT-REQUIRED header.', { cause: err })
  }
  const r = PaymentRequiredV2Schema.safeParse(raw)
  if (!r.success) throw new ChannelsError(`The merchant's 402 is not x402 version 2: ${r.error.issues[0]?.message}`)
  return raw as PaymentRequired
}

/** Encodes a `PAYMENT-SIGNATURE` header for a voucher, or for the proof of a payment through a hub. */
export function encodePaymentSignature(accepted: ChannelRequirement, payload: PaymentPayload): string {
  return encodePaymentSignatureHeader({ x402Version: X402_VERSION, accepted, payload: payloadToWire(payload) } as never)
}

/**
 * A payload's JSON form (the envelope's `payload`): the voucher in its wire form (decimal strings), or a routed payment's hash and secret.
 * @example payloadToWire({ type: 'voucher', channelId, voucher }) // { type: 'voucher', channelId, voucher: { channelId, lane: '0', nonce: '2', amount: '2000', … } }
 */
export function payloadToWire(payload: PaymentPayload): Record<string, unknown> {
  return payload.type === 'routed'
    ? { type: payload.type, hash: payload.hash, secret: payload.secret }
    : { type: payload.type, channelId: payload.channelId, voucher: anyVoucherToWire(payload.voucher), ...(payload.open ? { open: payload.open } : {}) }
}

/**
 * Decodes a `PAYMENT-SIGNATURE` header (paywall side): size, base64, JSON, x402 v2
 * envelope, scheme, and the voucher's fields, or, for `payload.type: "routed"`, the
 * payment's hash and secret (32 bytes of hex each; on any network).
 * @throws {PaymentHeaderError} 431 when oversized, 400 for everything else
 */
export function decodePaymentSignature(header: string): { accepted: ChannelRequirement; payload: PaymentPayload } {
  if (Buffer.byteLength(header) > MAX_SIGNATURE_HEADER) {
    throw new PaymentHeaderError(`PAYMENT-SIGNATURE is larger than ${MAX_SIGNATURE_HEADER} bytes.`, 431)
  }
  let raw: unknown
  try {
    raw = decodePaymentSignatureHeader(header.trim())
  } catch {
    throw new PaymentHeaderError('PAYMENT-SIGNATURE is not base64-encoded JSON.', 400)
  }
  return decodePaymentEnvelope(raw)
}

/**
 * Validates a decoded `PAYMENT-SIGNATURE` envelope (its JSON, hostile input): the x402 v2
 * envelope, scheme `channel`, our payload and the voucher of the `accepted` network's family.
 * What {@link decodePaymentSignature} does after base64 and JSON; an x402 facilitator, which
 * receives the envelope decoded, starts here (src/x402).
 * @throws {PaymentHeaderError} 400 for anything malformed
 */
export function decodePaymentEnvelope(raw: unknown): { accepted: ChannelRequirement; payload: PaymentPayload } {
  const network = (raw as { accepted?: { network?: unknown } } | null)?.accepted?.network
  const family = (typeof network === 'string' && familyOfNetwork(network)) || 'evm'
  const routed = (raw as { payload?: { type?: unknown } } | null)?.payload?.type === 'routed'
  const r = (routed ? RoutedSignatureSchema : SIGNATURE_SCHEMAS[family]).safeParse(raw)
  // Reported in order: the x402 envelope, the scheme, our payload, the voucher.
  const issues = r.success ? [] : r.error.issues
  const envelope = issues.find((i) => i.path[0] !== 'payload' || i.path.length === 1)
  if (envelope) throw new PaymentHeaderError(`PAYMENT-SIGNATURE is not an x402 version 2 payload: ${envelope.path.join('.')} ${envelope.message}`, 400)
  const scheme = (raw as { accepted: { scheme: string } }).accepted.scheme
  if (scheme !== SCHEME) throw new PaymentHeaderError(`Unsupported scheme "${scheme}"; this paywall takes "${SCHEME}".`, 400)
  const payload = issues.find((i) => i.path[1] !== 'voucher')
  if (payload) throw new PaymentHeaderError(`Malformed channel payload: ${payload.path.slice(1).join('.')} ${payload.message}`, 400)
  if (!r.success) {
    const v = issues[0] // as voucherFromWire words it
    throw new PaymentHeaderError(`Malformed voucher: ${v.path.slice(2).join('.') || 'voucher'}: ${v.message}`, 400)
  }
  if (r.data.payload.type === 'routed') {
    const { type, hash, secret } = r.data.payload
    return { accepted: r.data.accepted as unknown as ChannelRequirement, payload: { type, hash, secret } }
  }
  const { accepted, payload: p } = r.data
  // The schema chosen above read `p.voucher`, so it is of `family`'s wire form (TypeScript does not correlate the two).
  const voucher: Voucher = (voucherOfWire[family] as (w: typeof p.voucher) => Voucher)(p.voucher)
  if (voucher.channelId !== p.channelId.toLowerCase()) throw new PaymentHeaderError('The payload channelId differs from the voucher\'s.', 400)
  const open = 'open' in p ? p.open : undefined
  return { accepted: accepted as unknown as ChannelRequirement, payload: { type: p.type, channelId: voucher.channelId, voucher, ...(open ? { open } : {}) } }
}

/** `extra` of a `PAYMENT-RESPONSE` for a routed purchase (issue 12): the payment's hash and the hub's channel it was charged on. */
export interface RoutedReceipt {
  hash: string
  /** The hub's channel to the merchant that carried the payment. */
  channelId: string
  /** What the merchant has charged on that channel in all, base units. */
  charged: string
}

/** `extra` of a `PAYMENT-RESPONSE` for scheme `channel`. */
export interface ChannelReceipt {
  channelId: string
  lane: string
  nonce: string
  amount: string
  charged: string
  /**
   * In-band reconciliation (issue 11 §3; optional, older payers ignore it): the merchant holds
   * vouchers on several lanes of the channel and asks for one voucher merging them
   * (`ReconcileRequest` wire form, core/channel/reconcile.ts); the payer answers with its next payment.
   */
  reconcile?: object
}

export interface PaymentResponse {
  success: boolean
  network: string
  payer: string
  transaction: string
  errorReason?: string
  extra: ChannelReceipt | RoutedReceipt
}

/**
 * Encodes a `PAYMENT-RESPONSE` header: base64 of the JSON, as `@x402/core` encodes it,
 * through Buffer (x402's encoder builds a string per byte for `btoa`; this runs on
 * every paid request).
 */
export function encodePaymentResponse(r: PaymentResponse): string {
  return Buffer.from(JSON.stringify(r)).toString('base64')
}

/** @throws {ChannelsError} unreadable header */
export function decodePaymentResponse(header: string): PaymentResponse {
  try {
    return decodePaymentResponseHeader(header) as unknown as PaymentResponse
  } catch (err) {
    throw new ChannelsError('The merchant sent an unreadable PAYMENT-RESPONSE header.', { cause: err })
  }
}

/**
 * The merchant's view of one lane of a channel (a corrective 402's `extra.channelState`, `GET …/channels/<id>`):
 * its `charged` and the last voucher accepted on the lane (signed by the payer), amounts as decimal strings of base units.
 */
export function channelState(c: ChannelRecord, lane: bigint, last?: VoucherRecord): ChannelStateWire {
  return {
    channelId: c.id, lane: lane.toString(), nonce: (last?.nonce ?? 0n).toString(), amount: (last?.amount ?? 0n).toString(),
    charged: c.charged.toString(), ...(last ? { voucher: anyVoucherToWire(last) } : {}),
  }
}

export { closeRequestMessage } from '../../channel/close-request.js'
