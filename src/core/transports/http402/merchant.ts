/**
 * Payer → merchant calls outside a purchase, on the merchant's channel endpoint
 * (`extra.endpoint`, default `/.well-known/channels`): delivering a voucher made by
 * `channels pay` or found undelivered by `sync`, and the POST of a close request. Handed
 * to the families as a {@link MerchantLink} (they never import a transport).
 */
import { Agent, request } from 'undici'
import type { ChannelRecord, VoucherRecord } from '../../store/index.js'
import type { Acknowledger } from '../../channel/sync.js'
import type { MerchantLink } from '../../scheme/index.js'
import { short } from '../../channel/reader.js'
import { ChannelStateError, NetworkError, PaymentRefusedError, UsageError, InvalidVoucherError } from '../../errors.js'
import { parseBaseUnits } from '../../units.js'
import { readHubInfo } from '../../channel/lock.js'
import { encodePaymentSignature, SCHEME } from './protocol.js'

/**
 * Connections for requests that must not be retried (a hub's `POST /lock`): a socket idle for a second is not used
 * again, so none rides a socket its server is closing as it idles — our servers keep them 5 s (http-json.ts), and on
 * such a socket ("other side closed") it is unknown whether the request arrived. A connection per request did the
 * same at the cost of a TCP handshake and a pool each time.
 */
let noRetryAgent: Agent | undefined

/**
 * POSTs JSON to a merchant endpoint (or a hub); the answer's status and JSON body (non-JSON text as `{error}`).
 * @param o.noRetry - for a request that must not be retried: on a connection idle for at most a second (above)
 * @throws {NetworkError} unreachable
 */
export async function post(url: string, headers: Record<string, string>, body?: string, o: { noRetry?: boolean } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const agent = o.noRetry ? (noRetryAgent ??= new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 })) : undefined
  let res
  try {
    res = await request(url, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, headersTimeout: 120_000, bodyTimeout: 120_000, ...(agent ? { dispatcher: agent } : {}),
    })
  } catch (err) {
    throw new NetworkError(`Cannot reach the merchant at ${url}: ${(err as Error).message}`, { cause: err })
  }
  return { status: res.statusCode, json: await jsonOf(await res.body.text()) }
}

/** GETs JSON from a merchant or hub; the answer's status and JSON body (non-JSON text as `{error}`). @throws {NetworkError} unreachable */
export async function get(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  let res
  try {
    res = await request(url, { method: 'GET', headersTimeout: 30_000, bodyTimeout: 30_000 })
  } catch (err) {
    throw new NetworkError(`Cannot reach ${url}: ${(err as Error).message}`, { cause: err })
  }
  return { status: res.statusCode, json: await jsonOf(await res.body.text()) }
}

async function jsonOf(text: string): Promise<Record<string, unknown>> {
  try {
    const j = JSON.parse(text)
    return j && typeof j === 'object' && !Array.isArray(j) ? j : { error: text.slice(0, 200) }
  } catch {
    return { error: text.slice(0, 200) }
  }
}

/**
 * Delivers a voucher to the channel's bound endpoint and records the acknowledgement.
 * @param extra - the family's part of the entry's `extra` (EVM: contract, minSettleDelay; Bitcoin: payeeIndex); `minDeposit` is 0 (a delivered voucher opens nothing)
 * @returns the merchant's `charged` for the channel
 * @throws {PaymentRefusedError} the merchant refused it · {@link NetworkError}
 */
export async function deliverVoucher(m: Acknowledger, c: ChannelRecord, v: VoucherRecord, extra: Record<string, unknown>): Promise<bigint> {
  if (!c.endpoint) throw new ChannelStateError(`Channel ${short(c.id)} has no merchant endpoint bound.`)
  const header = encodePaymentSignature(
    { scheme: SCHEME, network: c.network, amount: '0', asset: c.asset, payTo: c.payee, maxTimeoutSeconds: 60, extra: { minDeposit: '0', ...extra, endpoint: c.endpoint } },
    { type: 'voucher', channelId: c.id, voucher: v },
  )
  const r = await post(`${c.endpoint.replace(/\/$/, '')}/voucher`, { 'payment-signature': header })
  if (r.status !== 200) throw new PaymentRefusedError(`The merchant refused the voucher: ${String(r.json.error ?? r.status)}`)
  const charged = parseBaseUnits(String(r.json.charged ?? '0'), 'charged')
  m.acknowledge(c, v, charged)
  return charged
}

/**
 * `serve --hub <url>` (issue 12): reads each hub's description (`GET <url>/`) and returns what
 * the paywall lists in its 402 as `extra.hubs`: the URL as given (without a trailing slash) and
 * the hub's address. A hub must route on the paywall's network and, when both name one, in its
 * channel contract: the hub's channel to this payee lives there.
 * @param network - the paywall's CAIP-2 network
 * @param contract - the paywall's channel contract, if its family has one
 * @throws {UsageError} not an http(s) URL, not a channels hub, or a hub on another network or contract · {NetworkError} a hub is unreachable
 * @example await describeHubs(['http://127.0.0.1:4030/'], 'eip155:31337') // [{ endpoint: 'http://127.0.0.1:4030', address: '0x9a1C…' }]
 */
export async function describeHubs(urls: string[], network: string, contract?: string): Promise<{ endpoint: string; address: string }[]> {
  const hubs: { endpoint: string; address: string }[] = []
  for (const url of urls) {
    const endpoint = url.replace(/\/+$/, '')
    let protocol: string | undefined
    try {
      protocol = new URL(endpoint).protocol
    } catch {
      /* below */
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`Invalid --hub "${url}": expected an http(s) URL.`)
    const info = await readHubInfo(get, endpoint).catch((err: unknown) => {
      throw err instanceof InvalidVoucherError ? new UsageError(`--hub ${err.shortMessage}`) : err
    })
    if (info.network !== network) throw new UsageError(`The hub at ${endpoint} routes on ${info.network}, not on this paywall's ${network}.`)
    if (contract && info.contract && info.contract.toLowerCase() !== contract.toLowerCase()) {
      throw new UsageError(`The hub at ${endpoint} uses channel contract ${info.contract}, not this paywall's ${contract}.`)
    }
    if (!hubs.some((h) => h.endpoint === endpoint)) hubs.push({ endpoint, address: info.address })
  }
  return hubs
}

/** The http402 transport's {@link MerchantLink}. */
export const httpMerchant: MerchantLink = { get, post, deliver: deliverVoucher }
