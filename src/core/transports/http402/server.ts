/**
 * The merchant's paywall (DESIGN §6): an HTTP server that answers unpaid requests
 * with 402, verifies `PAYMENT-SIGNATURE` vouchers, commits each voucher (and the
 * price charged) before running the handler, and serves either built-in demo
 * resources or a reverse-proxied upstream. `POST <endpoint>/close` lets a payer ask
 * for a cooperative close.
 *
 * Statuses: 402 unpaid or voucher refused (a corrective 402 carries
 * `extra.channelState`), 400 malformed header, 431 header over 8 KiB, 502 upstream
 * unreachable, 503 chain unreachable. A paid request whose handler answers ≥ 400 is
 * not charged: the price is given back and the response says `x-channels-charged: false`.
 *
 * Through a hub (issue 12, DESIGN §11): with `hubs`, the 402 lists them and the payee's key;
 * a payload `{type: "routed", hash, secret}` is charged to the payment a hub forwarded to
 * `POST <endpoint>/lock` (the family's `acceptRouted`), and refused with a 402 whose body
 * carries the `reason`.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http'
import { request as undiciRequest } from 'undici'
import { refundCharge, VoucherRefusedError } from '../../channel/accept.js'
import type { ChannelScheme } from '../../scheme/index.js'
import { ChannelsError, ExitCode } from '../../errors.js'
import {
  DEFAULT_ENDPOINT_PATH, HEADER, channelState, encodePaymentRequired,
  encodePaymentResponse, type ChannelRequirement, type ChannelStateWire, type RoutedPayload,
} from './protocol.js'
import { demoResource } from './resources.js'
import { json, listen } from '../http-json.js'
import { checkPaymentHeader, startHeaderVerifier, type HeaderCheck } from './verify-pool.js'
import { channelEndpoint } from './endpoint.js'

export interface PaywallOptions {
  /**
   * The payee's wallet on the paywall's network (its key receives the payments): the
   * paywall asks it for its {@link ChannelScheme.seller} (core/scheme/seller.ts), which
   * offers, accepts and closes; the paywall never names a family.
   */
  scheme: Pick<ChannelScheme, 'seller'>
  /** Price of one request, in base units (wei, token base units, satoshis) of `asset`. */
  price: bigint
  /** What `price` and `minDeposit` count, as a 402 entry's `asset` (EVM: a token's address; issue 13 §1). Default: the native coin. */
  asset?: string
  /** Paths that cost `price` (prefix match); default: every path. */
  routes?: string[]
  /** Reverse-proxy every path to this base URL instead of the demo resources. */
  upstream?: string
  /** Smallest deposit for a new channel, base units. Default 100 × price. */
  minDeposit?: bigint
  /** Smallest settle delay for a new channel, seconds. Default 3600. */
  minSettleDelay?: number
  /** Bitcoin: least time from now to a new channel's expiry, seconds. Default 345600 (4 days, DESIGN §6). */
  minExpirySeconds?: number
  /** Bitcoin: payments are refused (and the watcher closes) this long before the expiry, seconds. Default 86400. */
  closeMargin?: number
  /** Bitcoin: confirmations the deposit needs. Default 1. */
  minConf?: number
  host?: string
  port?: number
  /**
   * Worker threads that decode `PAYMENT-SIGNATURE` and recover the voucher's signer
   * beside the event loop (families with a `signerDomain`: EVM; see verify-pool.ts). 0 (default): on the event loop.
   */
  verifyThreads?: number
  /** The worker module for `verifyThreads` (default: this build's `dist/verify-worker.js`). */
  verifyWorker?: URL
  /**
   * Hubs that pay this payee (`serve --hub`, issue 12): listed in the 402 as `extra.hubs` with
   * the payee's public key, so a buyer with a channel to one of them can pay through it
   * (`payload.type: "routed"`). Resolve URLs with `describeHubs` (merchant.ts).
   */
  hubs?: { endpoint: string; address: string }[]
  /** Least seconds from now to the time lock of a hub's conditional voucher (`POST <endpoint>/lock`). Default 120. */
  minLock?: number
  /**
   * Called for each paid request (for logs). A routed purchase has `hash` (the payment's) and
   * `nonce` 0, `amount` the price: the voucher is the hub's, on a lane of its own.
   */
  onPaid?: (e: { channelId: string; nonce: bigint; amount: bigint; charged: bigint; path: string; hash?: string }) => void
}

export interface Paywall {
  url: string
  server: Server
  close(): Promise<void>
}

/**
 * Starts the paywall. Resolves once it listens.
 * @throws {Error} when the port is taken
 */
export async function startPaywall(o: PaywallOptions): Promise<Paywall> {
  // The family's payee: what it offers (Bitcoin: a fresh payee key per channel, from the key's chain node unlocked once, here), how it accepts and closes.
  const seller = await o.scheme.seller({
    minDeposit: o.minDeposit ?? o.price * 100n, minSettleDelay: o.minSettleDelay ?? 3600,
    minExpirySeconds: o.minExpirySeconds ?? 345600, closeMargin: o.closeMargin ?? 86400, minConf: o.minConf ?? 1,
    ...(o.hubs?.length ? { hubs: o.hubs } : {}), minLock: o.minLock ?? 120, ...(o.asset ? { asset: o.asset } : {}),
  })
  const network = seller.network
  // A family with no signer to recover off the loop (Bitcoin: payments are checked against the chain and the payee's transaction rules) has no signerDomain.
  const domain = seller.signerDomain
  const verifier = domain && o.verifyThreads ? await startHeaderVerifier(o.verifyWorker ?? new URL('../../../verify-worker.js', import.meta.url), o.verifyThreads) : undefined
  const recover = seller.recoverSigner?.bind(seller)
  /** Decoded header and, with a signerDomain, its signer: on a worker thread when there are any. */
  const checkHeader = (header: string): HeaderCheck | Promise<HeaderCheck> =>
    verifier ? verifier.check(header, domain) : checkPaymentHeader(header, domain, recover)

  const requirement = (extra: Partial<ChannelRequirement['extra']> = {}): ChannelRequirement => seller.requirement(o.price, extra)

  const challenge = (res: ServerResponse, url: string, error: string, state?: ChannelStateWire, reason?: string) => {
    const body = reason ? { error, reason } : { error }
    res.statusCode = 402
    res.setHeader('cache-control', 'no-store')
    res.setHeader(HEADER.required, encodePaymentRequired({
      x402Version: 2,
      error,
      resource: { url, description: 'Paid resource', mimeType: 'application/json' },
      accepts: [requirement(state ? { channelState: state } : {})],
    }))
    json(res, 402, body)
  }

  const isPaid = (path: string) => !o.routes?.length || o.routes.some((r) => path === r || path.startsWith(r.endsWith('/') ? r : r + '/'))

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req)
    if (!url) return json(res, 400, { error: 'Invalid Host header or request target.' })
    if (url.pathname.startsWith(DEFAULT_ENDPOINT_PATH)) return endpoint(req, res, url.pathname.slice(DEFAULT_ENDPOINT_PATH.length), url)
    if (!isPaid(url.pathname)) {
      return send(req, res, await produce(req, url))
    }

    const header = req.headers[HEADER.signature]
    if (header === undefined) return challenge(res, url.href, 'Payment required.')
    const decoded = await checkHeader(Array.isArray(header) ? header.join(',') : header)
    if (!decoded.ok) return json(res, decoded.status, { error: decoded.message })
    const { accepted, payload } = decoded
    if (accepted.network !== network || !seller.offers(accepted) || accepted.amount !== o.price.toString()) {
      return challenge(res, url.href, 'The payment names another network, payee or price than this paywall offers.')
    }
    if (payload.type === 'routed') return paidThroughHub(req, res, url, payload)
    let accepted2
    try {
      accepted2 = await seller.accept(payload, o.price, accepted, decoded.recovered)
    } catch (err) {
      if (err instanceof VoucherRefusedError) {
        const c = err.corrective
        return challenge(res, url.href, err.message, c && channelState(c.channel, payload.voucher.lane, c.last))
      }
      if (err instanceof ChannelsError && err.exitCode === ExitCode.networkUnreachable) return json(res, 503, { error: err.shortMessage })
      throw err
    }
    const { channel, charged } = accepted2
    // The voucher and the charge are committed. Produce the resource; if that fails,
    // give the price back before answering, and say so in PAYMENT-RESPONSE.
    let r: Produced | undefined
    try {
      r = await produce(req, url)
    } finally {
      if (!r || r.status >= 400) refundCharge(seller, channel, o.price)
    }
    const ok = r.status < 400
    const reconcile = ok ? seller.reconcileRequest?.(channel) : undefined
    r.headers[HEADER.response] = encodePaymentResponse({
      success: ok, network, payer: channel.payer, transaction: '',
      ...(ok ? {} : { errorReason: 'resource_failed' }),
      extra: {
        channelId: channel.id, lane: payload.voucher.lane.toString(), nonce: payload.voucher.nonce.toString(),
        amount: payload.voucher.amount.toString(), charged: (ok ? charged : charged - o.price).toString(),
        ...(reconcile ? { reconcile } : {}),
      },
    })
    if (!ok) r.headers['x-channels-charged'] = 'false'
    send(req, res, r)
    if (ok) o.onPaid?.({ channelId: channel.id, nonce: payload.voucher.nonce, amount: payload.voucher.amount, charged, path: url.pathname })
  }

  /**
   * A routed purchase (issue 12, DESIGN §11): the buyer paid through a hub and proves it with the
   * secret. The family charges the price to the payment the hub forwarded for its hash, committed
   * before the resource is produced; a failed resource gives it back (the payment can pay for
   * another request). Refusals are 402s with the family's `reason` (`wrong_secret`,
   * `unknown_payment`, `already_used`, `amount_too_low`; `routed_unsupported` on a family
   * without hash locks); PAYMENT-RESPONSE `extra` is `{hash, channelId, charged}` on the hub's channel.
   */
  async function paidThroughHub(req: IncomingMessage, res: ServerResponse, url: URL, payload: RoutedPayload): Promise<void> {
    if (!seller.acceptRouted || !seller.refundRouted) {
      return challenge(res, url.href, `This paywall takes no payment through a hub on ${network}.`, undefined, 'routed_unsupported')
    }
    let taken
    try {
      taken = await seller.acceptRouted(payload.hash, payload.secret, o.price)
    } catch (err) {
      if (err instanceof VoucherRefusedError) return challenge(res, url.href, err.message, undefined, err.reason)
      if (err instanceof ChannelsError && err.exitCode === ExitCode.networkUnreachable) return json(res, 503, { error: err.shortMessage })
      throw err
    }
    const { channel, charged } = taken
    let r: Produced | undefined
    try {
      r = await produce(req, url)
    } finally {
      if (!r || r.status >= 400) seller.refundRouted(channel, payload.hash, o.price)
    }
    const ok = r.status < 400
    r.headers[HEADER.response] = encodePaymentResponse({
      success: ok, network, payer: channel.payer, transaction: '',
      ...(ok ? {} : { errorReason: 'resource_failed' }),
      extra: { hash: payload.hash, channelId: channel.id, charged: (ok ? charged : charged - o.price).toString() },
    })
    if (!ok) r.headers['x-channels-charged'] = 'false'
    send(req, res, r)
    if (ok) o.onPaid?.({ channelId: channel.id, nonce: 0n, amount: o.price, charged, path: url.pathname, hash: payload.hash })
  }

  interface Produced {
    status: number
    headers: Record<string, string>
    body: Buffer
  }

  /** The resource: the upstream's answer (502 when unreachable) or a demo resource. */
  async function produce(req: IncomingMessage, url: URL): Promise<Produced> {
    if (!o.upstream) return demoResource(req.method ?? 'GET', url.pathname)
    try {
      const up = await undiciRequest(new URL(url.pathname + url.search, o.upstream), {
        method: req.method as 'GET',
        headers: forwardHeaders(req),
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req,
      })
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(up.headers)) {
        if (!HOP.has(k) && typeof v === 'string') headers[k] = v
      }
      return { status: up.statusCode, headers, body: Buffer.from(await up.body.arrayBuffer()) }
    } catch (err) {
      const text = JSON.stringify({ error: `Upstream failed: ${(err as Error).message}. Nothing was charged.` })
      return { status: 502, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) }
    }
  }

  const endpoint = channelEndpoint({ seller, price: o.price, checkHeader })

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof ChannelsError ? err.shortMessage : 'Internal error.' })
      else res.destroy()
      // One line per failure; the stack only when asked for (DEBUG).
      if (!(err instanceof ChannelsError)) process.stderr.write(`paywall: ${req.method} ${String(req.url).slice(0, 200)}: ${process.env.DEBUG ? (err as Error).stack : String((err as Error).message).split('\n')[0]}\n`)
    })
  })
  const listening = await listen(server, o.host, o.port)
  return {
    url: listening.url,
    server,
    close: async () => {
      await listening.close()
      await verifier?.close()
    },
  }
}

/**
 * The URL a request names, or undefined when its Host header or target is not one
 * (RFC 9110 §7.2: a reg-name, IPv4 or bracketed IPv6 literal, and a port up to 65535).
 * A missing Host (HTTP/1.0) reads as `localhost`.
 */
function requestUrl(req: IncomingMessage): URL | undefined {
  const host = req.headers.host ?? 'localhost'
  const m = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host)
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535)) return undefined
  try {
    return new URL(req.url ?? '/', `http://${host}`)
  } catch {
    return undefined
  }
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'content-length'])

function forwardHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) {
    if (HOP.has(k) || k === 'host' || k === HEADER.signature || v === undefined) continue
    out[k] = Array.isArray(v) ? v.join(', ') : v
  }
  return out
}

/** Writes a produced response in one piece: with its length, headers and body go out in one write, unchunked. */
function send(req: IncomingMessage, res: ServerResponse, r: { status: number; headers: Record<string, string>; body: Buffer }): void {
  if (req.method !== 'HEAD') r.headers['content-length'] = String(r.body.length)
  res.writeHead(r.status, r.headers)
  res.end(r.body)
}
