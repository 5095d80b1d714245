/**
 * A Bitcoin Core JSON-RPC client (bitcoind, litecoind: the same interface), over
 * Node's fetch (undici). Only transport and error mapping live here; what the
 * channel needs from the node is in backend.ts.
 *
 * Credentials: `http://user:password@host:port` in the URL (sent as HTTP Basic
 * auth, never logged), or a cookie file (`<datadir>/.cookie`, Bitcoin Core's
 * default when no rpcuser is set).
 */
import { readFileSync } from 'node:fs'
import { ChannelsError, NetworkError } from '../../core/errors.js'

/** An error the node answered with (JSON-RPC `error: {code, message}`). */
export class BitcoinRpcError extends ChannelsError {
  override name = 'Bitcoin.RpcError'
  override code = 'BITCOIN_RPC'
  constructor(
    readonly method: string,
    readonly rpcCode: number,
    message: string,
  ) {
    super(`The node refused ${method}: ${message} (code ${rpcCode}).`, { data: { method, rpcCode } })
  }
}

/** Bitcoin Core RPC error codes we act on (src/rpc/protocol.h). */
export const RPC_CODES = {
  /** RPC_INVALID_ADDRESS_OR_KEY: e.g. no such transaction. */
  invalidAddressOrKey: -5,
  /** RPC_VERIFY_ERROR: transaction rejected (e.g. non-final). */
  verifyError: -25,
  /** RPC_VERIFY_REJECTED: rejected by network rules. */
  verifyRejected: -26,
  /** RPC_VERIFY_ALREADY_IN_CHAIN. */
  alreadyInChain: -27,
  /** RPC_IN_WARMUP: the node is still starting. */
  inWarmup: -28,
} as const

export interface BitcoinRpcOptions {
  /** Path of a `.cookie` file with `user:password`, used when the URL carries no credentials. */
  cookieFile?: string
  /** Per-call timeout, ms (default 30 000; `scantxoutset` may take long on mainnet). */
  timeoutMs?: number
}

/**
 * One node's JSON-RPC endpoint.
 * @example new BitcoinRpc('http://u:p@127.0.0.1:19443').call<number>('getblockcount')
 */
export class BitcoinRpc {
  readonly url: string
  private readonly auth?: string
  private readonly timeoutMs: number
  private nextId = 1

  /** @throws {UsageError}-like {@link ChannelsError} when the URL does not parse */
  constructor(rpcUrl: string, o: BitcoinRpcOptions = {}) {
    let u: URL
    try {
      u = new URL(rpcUrl)
    } catch (cause) {
      throw new NetworkError(`Invalid Bitcoin RPC URL "${rpcUrl}".`, { cause })
    }
    if (u.username) this.auth = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')
    else if (o.cookieFile) this.auth = 'Basic ' + Buffer.from(readFileSync(o.cookieFile, 'utf8').trim()).toString('base64')
    u.username = ''
    u.password = ''
    this.url = u.toString()
    this.timeoutMs = o.timeoutMs ?? 30_000
  }

  /**
   * Calls `method` with positional `params`.
   * @returns the `result` field
   * @throws {NetworkError} unreachable node, HTTP error without a JSON-RPC body (e.g. 401), timeout
   * @throws {BitcoinRpcError} the node answered with an error
   */
  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const body = JSON.stringify({ jsonrpc: '1.0', id: this.nextId++, method, params })
    let res: Response
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.auth ? { authorization: this.auth } : {}) },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (cause) {
      throw new NetworkError(`The Bitcoin node at ${this.url} is unreachable (${method}).`, {
        cause,
        details: (cause as Error).message,
        metaMessages: ['Check that the node runs and the network\'s rpcUrl (`channels config get networks`).'],
      })
    }
    const text = await res.text()
    let json: { result?: T; error?: { code: number; message: string } | null }
    try {
      json = JSON.parse(text)
    } catch {
      const hint = res.status === 401 ? 'wrong RPC user or password' : `HTTP ${res.status}`
      throw new NetworkError(`The Bitcoin node at ${this.url} refused ${method}: ${hint}.`)
    }
    if (json.error) {
      if (json.error.code === RPC_CODES.inWarmup) throw new NetworkError(`The Bitcoin node at ${this.url} is still starting: ${json.error.message}`)
      throw new BitcoinRpcError(method, json.error.code, json.error.message)
    }
    return json.result as T
  }
}
