/**
 * The merchant's channel endpoint for an app that takes the `channel` scheme through x402
 * (issue 13 §2): the paywall's own (core/transports/http402/endpoint.ts) as a Node/Express
 * middleware, so a payer's `channels sync` (`GET …/channels/<id>`), top-up (`POST …/voucher`)
 * and cooperative close (`POST …/close`) reach an `@x402/express` merchant as they reach
 * `channels serve`. Mount it before any body parser (it reads the request body itself) and
 * outside the paid routes, at the path its 402 names (`extra.endpoint`, default `/.well-known/channels`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { DEFAULT_ENDPOINT_PATH } from '../core/scheme/x402.js'
import { ChannelsError } from '../core/errors.js'
import { json } from '../core/transports/http-json.js'
import { channelEndpoint as endpointHandler } from '../core/transports/http402/endpoint.js'
import { checkPaymentHeader } from '../core/transports/http402/verify-pool.js'
import type { ChannelFacilitator } from './facilitator.js'

/**
 * A middleware `(req, res, next)` answering requests under `o.path` with the channel endpoint of
 * `facilitator`'s payee, and passing every other request to `next`.
 * @param o.path - where the endpoint is mounted, a path (default `/.well-known/channels`; give the same to ChannelSchemeServer's `endpoint`)
 * @example app.use(channelEndpoint(facilitator)); app.use(paymentMiddleware(routes, server))
 */
export function channelEndpoint(facilitator: ChannelFacilitator, o: { path?: string } = {}): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const path = (o.path ?? DEFAULT_ENDPOINT_PATH).replace(/\/$/, '')
  const payee = facilitator.payee
  const recover = payee.recoverSigner?.bind(payee)
  const handle = endpointHandler({ seller: payee, checkHeader: (header) => checkPaymentHeader(header, payee.signerDomain, recover) })
  return (req, res, next) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://merchant')
    } catch {
      return next()
    }
    if (url.pathname !== path && !url.pathname.startsWith(path + '/')) return next()
    handle(req, res, url.pathname.slice(path.length), url).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy()
      json(res, 500, { error: err instanceof ChannelsError ? err.shortMessage : 'Internal error.' })
    })
  }
}
