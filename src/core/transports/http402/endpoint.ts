/**
 * The merchant's channel endpoint (DESIGN §6 point 5), `extra.endpoint` of its 402 (default
 * `/.well-known/channels`), shared by the paywall (server.ts) and the x402 server plugin (src/x402):
 *
 * - `GET <endpoint>`: `{network, payTo, contract?, pubkey?, price?}` (price in base units);
 * - `GET <endpoint>/channels/<id>[?lane=N]`: the merchant's view of an inbound channel, the shape of a
 *   corrective 402's `channelState` plus `state` (what `channels sync` reads);
 * - `POST <endpoint>/voucher` (header `PAYMENT-SIGNATURE`): a top-up voucher (`channels pay`), stored, nothing charged;
 * - `POST <endpoint>/lock`: a hub's conditional voucher (issue 12), on a family with hash locks;
 * - `POST <endpoint>/close` `{channelId, signature}`: the payer asks for a cooperative close.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { X402Payee } from '../../scheme/seller.js'
import { VoucherRefusedError } from '../../channel/accept.js'
import { HEADER, channelState } from './protocol.js'
import { BodyTooLargeError, json, readBody } from '../http-json.js'
import type { HeaderCheck } from './verify-pool.js'

/** What the endpoint answers with. */
export interface EndpointContext {
  /** The payee (its store holds the channels; it accepts vouchers and answers closes). */
  seller: X402Payee
  /** The price of one request, base units, shown by `GET <endpoint>` (absent: not shown). */
  price?: bigint
  /** Decodes a `PAYMENT-SIGNATURE` header and recovers its signer (the paywall's, on worker threads when it has any). */
  checkHeader(header: string): HeaderCheck | Promise<HeaderCheck>
}

/**
 * The endpoint's request handler: `sub` is the path below the endpoint (`""`, `/channels/0x…`, `/close`, …),
 * `url` the whole request URL. Answers 404 to anything else. Throws only for a bug (the caller answers 500).
 */
export function channelEndpoint(ctx: EndpointContext): (req: IncomingMessage, res: ServerResponse, sub: string, url: URL) => Promise<void> {
  const { seller, price, checkHeader } = ctx
  const network = seller.network
  const store = seller.store
  return async function endpoint(req: IncomingMessage, res: ServerResponse, sub: string, url: URL): Promise<void> {
    if (req.method === 'GET' && (sub === '' || sub === '/')) {
      return json(res, 200, { network, ...seller.endpointInfo(), ...(price !== undefined ? { price: price.toString() } : {}) })
    }
    const stateMatch = /^\/channels\/(0x[0-9a-f]{64})$/.exec(sub)
    if (req.method === 'GET' && stateMatch) {
      // The merchant's view of a channel, for `channels sync`: the same shape as a corrective 402.
      const c = store.channels.get(network, stateMatch[1])
      if (!c || c.direction !== 'inbound') return json(res, 404, { error: 'Unknown channel.' })
      const laneParam = url.searchParams.get('lane') ?? '0'
      if (!/^\d{1,18}$/.test(laneParam)) return json(res, 400, { error: 'lane must be a decimal integer.' })
      const lane = BigInt(laneParam)
      const last = store.vouchers.latest(c.network, c.id, lane)
      return json(res, 200, {
        ...channelState(c, lane, last), state: c.state,
      })
    }
    if (req.method === 'POST' && sub === '/voucher') {
      // A payer's top-up voucher (`channels pay`): stored, nothing served, nothing charged.
      const header = req.headers[HEADER.signature]
      if (typeof header !== 'string') return json(res, 400, { error: 'Missing PAYMENT-SIGNATURE header.' })
      const decoded = await checkHeader(header)
      if (!decoded.ok) return json(res, decoded.status, { error: decoded.message })
      const { payload } = decoded
      if (payload.type === 'routed') return json(res, 400, { error: 'A payment through a hub pays for a request; it is no voucher to deliver.', reason: 'malformed' })
      try {
        const r = await seller.accept(payload, 0n, decoded.accepted, decoded.recovered)
        return json(res, 200, { channelId: r.channel.id, lane: payload.voucher.lane.toString(), nonce: payload.voucher.nonce.toString(), amount: payload.voucher.amount.toString(), charged: r.charged.toString() })
      } catch (err) {
        if (err instanceof VoucherRefusedError) return json(res, 409, { error: err.message, reason: err.reason })
        throw err
      }
    }
    if (req.method === 'POST' && sub === '/lock' && seller.acceptLock) {
      // A hub's conditional voucher with the payer's encrypted secret (issue 12): stored with the secret, which is the answer.
      let parsed: unknown
      try {
        parsed = JSON.parse(await readBody(req, 16 * 1024))
      } catch (err) {
        if (err instanceof BodyTooLargeError) return json(res, 413, { error: err.shortMessage, reason: 'too_large' })
        return json(res, 400, { error: 'Body must be JSON {network, hash, encryptedSecret, voucher}.', reason: 'malformed' })
      }
      const r = await seller.acceptLock(parsed)
      return json(res, r.status, r.body)
    }
    if (req.method === 'POST' && sub === '/close') {
      const body = await readBody(req, 4096)
      let parsed: { channelId?: unknown; signature?: unknown }
      try {
        parsed = JSON.parse(body)
      } catch {
        return json(res, 400, { error: 'Body must be JSON {channelId, signature}.' })
      }
      if (typeof parsed.channelId !== 'string' || !/^0x[0-9a-f]{64}$/.test(parsed.channelId) || typeof parsed.signature !== 'string') {
        return json(res, 400, { error: 'Body must be JSON {channelId, signature}.' })
      }
      const channel = store.channels.get(network, parsed.channelId)
      if (!channel || channel.direction !== 'inbound') return json(res, 404, { error: 'Unknown channel.', reason: 'unknown_channel' })
      // The payer's signature, then the close (one at a time per channel): 200, 403, 409 or 503 from the family's payee.
      const r = await seller.answerClose(channel, parsed.signature)
      return json(res, r.status, r.body)
    }
    return json(res, 404, { error: 'Not found.' })
  }
}
