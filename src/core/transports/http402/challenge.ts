/**
 * What a `402 Payment Required` offers (issue 9 §3.4). `channels` pays the x402 version 2
 * schemes `channel` and (issue 13 §2) `exact`; every other payment protocol a 402 can carry is named, so the user
 * learns that the server wants something else instead of "the merchant refused":
 *
 * - x402 version 2 (`PAYMENT-REQUIRED` header, DESIGN §6): ours when an entry has scheme
 *   `channel` or `exact`; otherwise its schemes (e.g. `upto`) are named.
 * - x402 version 1 (a JSON body `{x402Version: 1, accepts: [...]}`).
 * - L402, formerly LSAT (`WWW-Authenticate: L402 macaroon=…, invoice=…`: Lightning).
 * - The HTTP `Payment` authentication scheme (`WWW-Authenticate: Payment …`).
 */
import { decodePaymentRequiredHeader } from '@x402/core/http'
import { PaymentRequiredV2Schema } from '@x402/core/schemas'
import { PaymentRefusedError, type ChannelsErrorOptions } from '../../errors.js'
import { HEADER, SCHEME, type PaymentRequired } from './protocol.js'
import { EXACT_SCHEME } from './exact.js'

/** The x402 schemes `buy` pays. */
const PAID_SCHEMES: readonly string[] = [SCHEME, EXACT_SCHEME]

/** A payment protocol a 402 can offer; `none` when nothing in it is recognizable. */
export type OfferedProtocol = 'x402-v2' | 'x402-v1' | 'l402' | 'http-payment' | 'none'

/**
 * The 402 offers no payment `channels` can make: another protocol, another x402 scheme,
 * or nothing recognizable. Exit 4; `data.protocol` is an {@link OfferedProtocol},
 * `data.schemes` the x402 schemes offered. Nothing was opened or stored.
 */
export class UnsupportedPaymentProtocolError extends PaymentRefusedError {
  override name = 'Buy.UnsupportedPaymentProtocolError'
  override code = 'UNSUPPORTED_PAYMENT_PROTOCOL'
  readonly protocol: OfferedProtocol
  constructor(message: string, protocol: OfferedProtocol, options: ChannelsErrorOptions = {}) {
    super(message, { ...options, data: { protocol, ...options.data } })
    this.protocol = protocol
  }
}

const X402_HINT = 'Pay it with an x402 client (e.g. @x402/fetch), or ask the merchant for the `channel` or `exact` scheme.'

/**
 * Reads the challenge of a 402 (unpaid request): the x402 v2 `PAYMENT-REQUIRED` header
 * when it offers scheme `channel` or `exact` (on any network: `buy` picks its own).
 * @param headers - the response headers (lower-case names, as undici gives them)
 * @param body - the start of the body (x402 v1 puts its challenge there)
 * @returns the x402 v2 challenge with at least one `channel` or `exact` entry
 * @throws {UnsupportedPaymentProtocolError} anything else, saying what was offered
 * @throws {PaymentRefusedError} an x402 v2 header that cannot be read
 * @example
 * readChallenge({ 'www-authenticate': 'L402 macaroon="…", invoice="lnbc…"' }, '')
 * // throws: The server asks for an L402 (Lightning) payment; channels does not support L402.
 */
export function readChallenge(headers: Record<string, string | string[] | undefined>, body: string): PaymentRequired {
  const header = headers[HEADER.required]
  if (typeof header === 'string') {
    const raw = decodeHeader(header)
    const version = (raw as { x402Version?: unknown } | null)?.x402Version
    if (version !== 2) return unsupportedX402(version)
    const r = PaymentRequiredV2Schema.safeParse(raw)
    if (!r.success) throw new PaymentRefusedError(`The merchant's 402 is not a valid x402 version 2 challenge: ${r.error.issues[0]?.message}`)
    return withChannelEntries(raw as PaymentRequired)
  }
  const auth = authSchemes(headers['www-authenticate'])
  if (auth.includes('l402') || auth.includes('lsat')) {
    throw new UnsupportedPaymentProtocolError(`The server asks for an L402 (Lightning${auth.includes('lsat') ? ', LSAT' : ''}) payment; channels does not support L402.`, 'l402', {
      metaMessages: ['channels pays HTTP 402 challenges of x402 schemes `channel` and `exact`; pay this server with an L402 client (e.g. lnget).'],
    })
  }
  if (auth.includes('payment')) {
    throw new UnsupportedPaymentProtocolError('The server asks for a payment with the HTTP `Payment` authentication scheme; channels does not support it.', 'http-payment', {
      metaMessages: ['channels pays HTTP 402 challenges of x402 schemes `channel` and `exact`; pay this server with a client of its protocol.'],
    })
  }
  const json = parseJson(body)
  if (json && typeof json === 'object' && 'x402Version' in json) {
    const version = (json as { x402Version: unknown }).x402Version
    if (version === 2 && PaymentRequiredV2Schema.safeParse(json).success) return withChannelEntries(json as PaymentRequired)
    return unsupportedX402(version)
  }
  const other = auth.length ? ` (WWW-Authenticate: ${auth.join(', ')})` : ''
  throw new UnsupportedPaymentProtocolError(`The server answered 402 Payment Required but offered no payment protocol channels recognizes${other}.`, 'none', {
    details: 'No PAYMENT-REQUIRED header, no L402 or Payment challenge in WWW-Authenticate, no x402 body.',
    metaMessages: ['Check the URL; the server may want an account or another client.'],
  })
}

/** The challenge, if it has a `channel` or `exact` entry; else which x402 schemes it offers instead. */
function withChannelEntries(p: PaymentRequired): PaymentRequired {
  if (p.accepts.some((a) => PAID_SCHEMES.includes(a.scheme))) return p
  const schemes = [...new Set(p.accepts.map((a) => String(a.scheme)))]
  const networks = [...new Set(p.accepts.map((a) => String(a.network)))]
  const offered = schemes.length ? schemes.map((s) => `\`${s}\``).join(', ') : 'no scheme at all'
  throw new UnsupportedPaymentProtocolError(
    `The merchant takes x402 version 2 payments of scheme ${offered}${networks.length ? ` on ${networks.join(', ')}` : ''}; channels pays \`${SCHEME}\` and \`${EXACT_SCHEME}\`.`,
    'x402-v2',
    { data: { schemes, networks }, metaMessages: [X402_HINT] },
  )
}

function unsupportedX402(version: unknown): never {
  const v = typeof version === 'number' || typeof version === 'string' ? String(version) : 'unknown'
  throw new UnsupportedPaymentProtocolError(`The merchant offers x402 version ${v}; channels pays x402 version 2 (schemes \`${SCHEME}\`, \`${EXACT_SCHEME}\`) only.`, v === '1' ? 'x402-v1' : 'none', {
    data: { x402Version: v },
    metaMessages: [X402_HINT],
  })
}

/** The header's JSON, or a refusal when it is not base64 JSON. */
function decodeHeader(header: string): unknown {
  if (header.length > 65536) throw new PaymentRefusedError('The merchant\'s PAYMENT-REQUIRED header is too large.')
  try {
    return decodePaymentRequiredHeader(header)
  } catch (err) {
    throw new PaymentRefusedError('The merchant sent an unreadable PAYMENT-REQUIRED header (not base64 JSON).', { cause: err })
  }
}

/** Lower-case auth-scheme names of `WWW-Authenticate` values (RFC 9110 §11.6.1), e.g. `['l402', 'basic']`. */
function authSchemes(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value]
  const out: string[] = []
  for (const v of values) {
    // A scheme opens the value or follows a comma, and is followed by a space or the end (not "=", which ends a parameter name).
    for (const m of v.matchAll(/(?:^|,)\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?=\s+[^=,]|\s*(?:,|$))/g)) out.push(m[1].toLowerCase())
  }
  return [...new Set(out)]
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
