/**
 * The hub's HTTP service (`channels hub`, issue 12, DESIGN §11): the routes of the mediator
 * over a {@link HubNode} of the family (families/evm/locks.ts), which owns every rule. Plain
 * HTTP/1.1 JSON on loopback or behind a TLS proxy:
 *
 * - `GET /` — network, address, contract, fee policy (`feeBase`, `feePpm`), `minLock`, `margin`
 * - `GET /payees/<address>` — the payee's public key, read from its channel endpoint
 * - `POST /lock` — `{network, payee, amount, fee, hash, encryptedSecret, voucher}` → `{hash, secret}`
 * - `POST /unlock` — `{network, hash, voucher}` → `{hash, unlocked}`
 * - `GET /lock/<hash>[?challenge=<0x hex>]` — `{hash, state, …}`, and once fulfilled `proof` = sha256(secret ‖ challenge)
 * - `GET /status` — what `channels hub status` prints
 *
 * Refusals are `{error, reason}` with 400 (malformed), 404, 409 (refused), 413 (body over
 * 16 KiB), 502/504 (the payee refused or did not answer), 503 (chain unreachable).
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http'
import type { HubNode } from '../../scheme/hub.js'
import { ChannelsError, ExitCode } from '../../errors.js'
import { hubInfoToWire } from '../../channel/lock.js'
import { summaryToJson } from './render.js'
import { BodyTooLargeError, json, listen, readBody } from '../http-json.js'

export interface HubServer {
  url: string
  server: Server
  close(): Promise<void>
}

const MAX_BODY = 16 * 1024

/** Starts the hub's HTTP service. Resolves once it listens. @throws {Error} the port is taken */
export async function startHubServer(node: HubNode, o: { host?: string; port?: number } = {}): Promise<HubServer> {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path, query = ''] = (req.url ?? '/').split('?')
    if (req.method === 'GET' && path === '/') return json(res, 200, hubInfoToWire(node.info()))
    if (req.method === 'GET' && path === '/status') return json(res, 200, summaryToJson(node.summary()))
    const payee = /^\/payees\/([^/]{1,100})$/.exec(path)
    if (req.method === 'GET' && payee) return answer(res, await node.payee(payee[1]))
    const lock = /^\/lock\/([^/]{1,100})$/.exec(path)
    if (req.method === 'GET' && lock) return answer(res, node.payment(lock[1], new URLSearchParams(query).get('challenge') ?? undefined))
    if (req.method === 'POST' && (path === '/lock' || path === '/unlock')) {
      let body: unknown
      try {
        body = JSON.parse(await readBody(req, MAX_BODY))
      } catch (err) {
        if (err instanceof BodyTooLargeError) return json(res, 413, { error: `The body exceeds ${MAX_BODY} bytes.`, reason: 'too_large' })
        return json(res, 400, { error: 'The body must be JSON.', reason: 'malformed' })
      }
      return answer(res, path === '/lock' ? await node.lock(body) : await node.unlock(body))
    }
    return json(res, 404, { error: 'Not found.', reason: 'not_found' })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      const unreachable = err instanceof ChannelsError && err.exitCode === ExitCode.networkUnreachable
      if (!res.headersSent) json(res, unreachable ? 503 : 500, { error: err instanceof ChannelsError ? err.shortMessage : 'Internal error.', reason: unreachable ? 'chain_unreachable' : 'internal' })
      else res.destroy()
      if (!(err instanceof ChannelsError)) process.stderr.write(`hub: ${req.method} ${String(req.url).slice(0, 200)}: ${process.env.DEBUG ? (err as Error).stack : String((err as Error).message).split('\n')[0]}\n`)
    })
  })
  const listening = await listen(server, o.host, o.port)
  return { url: listening.url, server, close: listening.close }
}

function answer(res: ServerResponse, a: { status: number; body: Record<string, unknown> }): void {
  json(res, a.status, a.body)
}
