/**
 * The buyer's HTTP exchanges with a merchant under curl's limits (issue 9 §3.3):
 * `--connect-timeout` bounds each TCP/TLS connect (undici `Agent` `connect.timeout`),
 * `--max-time` the whole purchase — every request, body read and chain wait of it —
 * through one `AbortSignal.timeout`; without `--max-time` each answer must start (and its
 * body keep flowing) within {@link DEFAULT_RESPONSE_TIMEOUT_MS}. While it waits it reports
 * progress every {@link WAIT_PROGRESS_MS}, so a silent merchant is never a silent wait.
 */
import { Agent, request, type Dispatcher } from 'undici'
import { NetworkError, type ChannelsErrorOptions } from '../../errors.js'

/** Default `--connect-timeout`: 10 s (curl's is 300 s, too long for a purchase at a prompt). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** Without `--max-time`: longest wait for an answer to start, or between two pieces of its body. */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000
/** Interval of the "still waiting" progress lines. */
export const WAIT_PROGRESS_MS = 5_000

/** Limits of one purchase, in milliseconds. */
export interface ExchangeLimits {
  /** `--max-time`: the whole purchase; undefined = no overall limit. */
  maxTimeMs?: number
  /** `--connect-timeout`: each connection; default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number
}

/** Which limit a {@link BuyTimeoutError} hit. */
export type TimeoutLimit = 'max-time' | 'connect-timeout' | 'response-timeout'

/**
 * A purchase ran out of time (exit 6, like every network failure). `data.limit` names
 * the limit, `data.limitSeconds` its value and `data.elapsedSeconds` how long it ran.
 */
export class BuyTimeoutError extends NetworkError {
  override name = 'Buy.TimeoutError'
  override code = 'TIMEOUT'
  readonly limit: TimeoutLimit
  constructor(message: string, limit: TimeoutLimit, options: ChannelsErrorOptions = {}) {
    super(message, options)
    this.limit = limit
  }
}

const seconds = (ms: number) => (ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1))

/** What a request carries. */
export interface Outgoing {
  method: string
  headers: Record<string, string>
  body?: string | Buffer
}

/**
 * One purchase's connection pool, clock and limits. Create one per purchase and
 * {@link Exchange.close} it at the end.
 */
export class Exchange {
  private readonly started = Date.now()
  private readonly agent: Agent
  private readonly signal?: AbortSignal
  private readonly connectTimeoutMs: number
  /**
   * What a timeout message says about money already committed (the buyer sets it as it
   * commits a voucher or sends an open transaction), so the user knows nothing is lost.
   */
  note?: string

  /**
   * @param limits - in milliseconds
   * @param onProgress - receives the "still waiting" lines
   */
  constructor(private readonly limits: ExchangeLimits, private readonly onProgress?: (message: string) => void) {
    this.connectTimeoutMs = limits.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    this.signal = limits.maxTimeMs !== undefined ? AbortSignal.timeout(limits.maxTimeMs) : undefined
    // With --max-time the signal bounds everything; without it, each answer gets the default wait.
    const perResponse = limits.maxTimeMs !== undefined ? 0 : DEFAULT_RESPONSE_TIMEOUT_MS
    this.agent = new Agent({ connect: { timeout: this.connectTimeoutMs }, headersTimeout: perResponse, bodyTimeout: perResponse })
  }

  /** Milliseconds since the purchase started. */
  get elapsedMs(): number {
    return Date.now() - this.started
  }

  /**
   * Sends one request and waits for its status and headers, reporting progress while
   * the merchant is silent.
   * @throws {BuyTimeoutError} a limit was hit · {@link NetworkError} the merchant is unreachable
   */
  async send(url: URL, out: Outgoing): Promise<Dispatcher.ResponseData> {
    const stop = this.ticker((waited) => `Waiting for ${url.origin} (no answer after ${waited} s)…`)
    try {
      // The signal aborts a request once connected; undici does not abort a connect in progress, hence the race.
      return await this.bounded(request(url, { method: out.method as Dispatcher.HttpMethod, headers: out.headers, body: out.body, dispatcher: this.agent, signal: this.signal }))
    } catch (err) {
      throw this.failure(err, `waiting for ${url.origin}`, url.origin)
    } finally {
      stop()
    }
  }

  /** Reads a whole body. @throws {BuyTimeoutError} @throws {NetworkError} */
  async body(res: Dispatcher.ResponseData, from: URL): Promise<Buffer> {
    try {
      return Buffer.from(await this.bounded(res.body.arrayBuffer()))
    } catch (err) {
      throw this.failure(err, `reading the answer of ${from.origin}`, from.origin)
    }
  }

  /**
   * Reads at most `max` bytes of a body as text and drops the connection past them (a
   * 402's body is only looked at to recognize the protocol it offers; an endless one
   * must not hold the purchase).
   */
  async text(res: Dispatcher.ResponseData, from: URL, max = 65536): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    try {
      await this.bounded((async () => {
        for await (const chunk of res.body) {
          chunks.push(chunk as Buffer)
          size += (chunk as Buffer).length
          if (size >= max) break // destroys the body
        }
      })())
    } catch (err) {
      throw this.failure(err, `reading the answer of ${from.origin}`, from.origin)
    }
    return Buffer.concat(chunks).subarray(0, max).toString('utf8')
  }

  /** Discards a body. */
  async discard(res: Dispatcher.ResponseData, from: URL): Promise<void> {
    try {
      await this.bounded(res.body.dump())
    } catch (err) {
      throw this.failure(err, `reading the answer of ${from.origin}`, from.origin)
    }
  }

  /**
   * Waits for work that is not HTTP (a transaction being mined) within `--max-time`,
   * reporting progress every {@link WAIT_PROGRESS_MS}. The clock only applies once `armed`
   * resolves (the transaction is out): abandoning an open before its transaction is
   * broadcast could leave a half-recorded channel.
   * @param what - e.g. "waiting for the open transaction to be mined"
   * @throws {BuyTimeoutError} `--max-time` was hit (the work itself goes on until the process ends)
   */
  async within<T>(what: string, work: Promise<T>, armed: Promise<unknown> = Promise.resolve()): Promise<T> {
    const stop = this.ticker((waited) => `Still ${what} (${waited} s)…`)
    const signal = this.signal
    try {
      if (!signal) return await work
      const expired = armed.then(
        () => this.expiry(signal),
        () => new Promise<never>(() => {}), // a failed arming fails `work` too, which reports it
      )
      try {
        return await Promise.race([work, expired])
      } catch (err) {
        throw err === signal.reason ? this.timeout('max-time', what) : err
      }
    } finally {
      stop()
    }
  }

  /** `work`, or the signal's reason once `--max-time` runs out, whichever comes first. */
  private bounded<T>(work: Promise<T>): Promise<T> {
    return this.signal ? Promise.race([work, this.expiry(this.signal)]) : work
  }

  /** Rejects with the signal's reason when it aborts. */
  private expiry(signal: AbortSignal): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason)
      else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  }

  /** Closes the connection pool (sockets kept alive for the paid retry). */
  close(): void {
    void this.agent.destroy().catch(() => {})
  }

  /** Progress every WAIT_PROGRESS_MS; the first one sooner when --max-time is short. @returns stop */
  private ticker(line: (waitedSeconds: string) => string): () => void {
    if (!this.onProgress) return () => {}
    const since = Date.now()
    const first = Math.min(WAIT_PROGRESS_MS, this.limits.maxTimeMs !== undefined ? Math.max(100, this.limits.maxTimeMs / 2) : WAIT_PROGRESS_MS)
    let interval: NodeJS.Timeout | undefined
    const say = () => this.onProgress!(line(seconds(Math.round((Date.now() - since) / 100) * 100)))
    const timer = setTimeout(() => {
      say()
      interval = setInterval(say, WAIT_PROGRESS_MS).unref()
    }, first).unref()
    return () => {
      clearTimeout(timer)
      if (interval) clearInterval(interval)
    }
  }

  /** The error for a failed request: which limit it hit, or that the merchant is unreachable. */
  private failure(err: unknown, what: string, origin: string): Error {
    if (this.signal?.aborted || (err as Error)?.name === 'TimeoutError') return this.timeout('max-time', what)
    const code = (err as { code?: string })?.code
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return this.timeout('connect-timeout', `connecting to ${origin}`)
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return this.timeout('response-timeout', what)
    return new NetworkError(`Cannot reach ${origin}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }

  private timeout(limit: TimeoutLimit, what: string): BuyTimeoutError {
    const ms = limit === 'max-time' ? this.limits.maxTimeMs! : limit === 'connect-timeout' ? this.connectTimeoutMs : DEFAULT_RESPONSE_TIMEOUT_MS
    const name = limit === 'response-timeout' ? `the ${seconds(ms)} s wait for an answer` : `--${limit} ${seconds(ms)} s`
    const hint =
      limit === 'max-time' ? 'Raise --max-time, or check that the merchant is up.'
      : limit === 'connect-timeout' ? 'The merchant did not accept the connection; check the URL, or raise --connect-timeout.'
      : 'The merchant accepted the request but did not answer; retry later, or set --max-time to wait longer.'
    return new BuyTimeoutError(`Timed out after ${seconds(this.elapsedMs)} s: ${name} ran out while ${what}.`, limit, {
      metaMessages: [...(this.note ? [this.note] : []), hint],
      data: { limit, limitSeconds: ms / 1000, elapsedSeconds: Math.round(this.elapsedMs / 100) / 10 },
    })
  }
}
