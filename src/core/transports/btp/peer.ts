/**
 * A BTP peer (RFC 23, Bilateral Transfer Protocol 2.0) over WebSocket (`ws`), packets by
 * `btp-packet`: a server that authenticates each connection with a shared secret, and a
 * client that connects to `btp+ws://name:secret@host:port`.
 *
 * - Auth (RFC 23 §Authentication): the first packet on a connection must be a Message whose
 *   first protocol data entry is `auth`, with `auth_token` (the shared secret, compared in
 *   constant time) and optionally `auth_username` (the peer's name); answered by an empty
 *   Response, or an Error F00 and the socket closed.
 * - Message → Response | Error; Transfer → Response | Error. Sub-protocols: `ilp` (an ILPv4
 *   Prepare, RFC 27, answered by the Fulfill or Reject of {@link BtpHandlers.prepare}) and
 *   `payment-channel-claim` ({@link BtpHandlers.claim}; in a Transfer the claim pays the
 *   Transfer's amount, in a Message nothing: a top-up). Unknown sub-protocols are ignored.
 * - Errors (RFC 23's Error carries an ILP error code): F00 NotAcceptedError (auth, a refused
 *   claim, a Transfer without a claim), F01 InvalidFieldsError (an unreadable packet or claim),
 *   T00 (this side failed: node unreachable, unexpected). `data` is JSON `{message, reason?}`.
 * - Limits: {@link AUTH_TIMEOUT_MS} to authenticate, {@link MAX_CONNECTIONS} sockets at once.
 * - Frames: at most {@link MAX_PACKET_BYTES} are read (a larger one is answered F01 with the
 *   request id from its header); `ws` closes the socket (1009) on one above {@link MAX_FRAME_BYTES}.
 */
import { EventEmitter } from 'node:events'
import { createHash, randomInt, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import BtpPacket from 'btp-packet'
import * as Ilp from 'ilp-packet'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { ChannelsError, ExitCode, NetworkError, UsageError } from '../../errors.js'
import { ClaimFormatError, CLAIM_PROTOCOL } from './claim.js'

/** Largest BTP packet read, bytes: an ILP packet (≤ 32 KiB of data) with room to spare. */
export const MAX_PACKET_BYTES = 64 * 1024
/** Largest WebSocket frame `ws` takes before closing the socket (1009), bytes. */
export const MAX_FRAME_BYTES = 1024 * 1024
/** Milliseconds a new connection has to authenticate. */
export const AUTH_TIMEOUT_MS = 10_000
/** Sockets a server holds at once (authenticated or not); one more is closed at once (1013). */
export const MAX_CONNECTIONS = 256
/** How long a request waits for its Response or Error. */
export const REQUEST_TIMEOUT_MS = 30_000

type ProtocolData = { protocolName: string; contentType: number; data: Buffer }
type Packet = { type: number; requestId: number; data: { protocolData: ProtocolData[]; amount?: string; code?: string; name?: string; data?: string } }

/** A BTP Error received from the peer (or to send to it): an ILP error code and a name. */
export class BtpError extends ChannelsError {
  override name = 'Btp.Error'
  override code = 'BTP_ERROR'
  override exitCode: ExitCode = ExitCode.paymentRefused
  constructor(
    /** ILP error code, e.g. F00. */
    readonly btpCode: string,
    /** The error's name, e.g. NotAcceptedError. */
    readonly btpName: string,
    message: string,
    readonly reason?: string,
  ) {
    super(`${btpCode} ${btpName}: ${message}`, { data: { code: btpCode, name: btpName, reason } })
  }
}

/** What a peer does with what it is sent. Throwing refuses (mapped by {@link toBtpError}). */
export interface BtpHandlers {
  /** An ILP Prepare from `peer` (its auth_username, '' if none): its Fulfill or Reject. Default: Reject F02 (unreachable). */
  prepare?(p: Ilp.IlpPrepare, peer: string): Promise<Ilp.IlpReply>
  /**
   * A claim from `peer` (raw protocol data: parse it), paying `amount` (base units: the
   * Transfer's amount; 0n in a Message). Resolves with the answer's JSON once committed.
   */
  claim?(entry: ProtocolData, amount: bigint, peer: string): Promise<object>
}

/** One BTP connection (either side), after auth. Emits `close`. */
export class BtpConnection extends EventEmitter {
  private readonly pending = new Map<number, { resolve: (p: Packet) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  constructor(
    readonly ws: WebSocket,
    /** The other side's name (auth_username, or the client's own account name). */
    readonly peer: string,
    private readonly handlers: BtpHandlers,
    private readonly ilpAddress: string,
  ) {
    super()
    ws.on('message', (raw: RawData) => void this.onFrame(raw as Buffer))
    ws.on('close', () => {
      for (const [, p] of this.pending) {
        clearTimeout(p.timer)
        p.reject(new NetworkError('The BTP connection closed before the answer.'))
      }
      this.pending.clear()
      this.emit('close')
    })
    ws.on('error', () => {})
  }

  /** Sends a Message; resolves with the Response's protocol data. @throws {BtpError} the peer's Error · {NetworkError} closed or timed out */
  message(protocolData: ProtocolData[]): Promise<ProtocolData[]> {
    return this.request((id) => BtpPacket.serializeMessage(id, protocolData))
  }

  /** Sends a Transfer of `amount` (base units, below 2^64). @throws {BtpError} · {NetworkError} */
  transfer(amount: bigint, protocolData: ProtocolData[]): Promise<ProtocolData[]> {
    if (amount < 0n || amount >= 1n << 64n) throw new UsageError(`A BTP Transfer's amount is a uint64; ${amount} is not.`)
    return this.request((id) => BtpPacket.serializeTransfer({ amount: amount.toString() }, id, protocolData))
  }

  /** Sends an ILP Prepare in a Message; resolves with the peer's Fulfill or Reject. */
  async sendPrepare(p: Ilp.IlpPrepare): Promise<Ilp.IlpReply> {
    const answer = await this.message([{ protocolName: 'ilp', contentType: BtpPacket.MIME_APPLICATION_OCTET_STREAM, data: Ilp.serializeIlpPrepare(p) }])
    const ilp = answer.find((d) => d.protocolName === 'ilp')
    if (!ilp) throw new BtpError('F01', 'InvalidFieldsError', 'The answer carries no ILP packet.')
    return Ilp.deserializeIlpReply(ilp.data)
  }

  close(): void {
    this.ws.close()
  }

  /** Sends a request built by `build(requestId)` and waits for its answer. */
  request(build: (requestId: number) => Buffer): Promise<ProtocolData[]> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new NetworkError('The BTP connection is closed.'))
    let id: number
    do id = randomInt(1, 2 ** 32 - 1)
    while (this.pending.has(id))
    return new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new NetworkError(`No answer from the BTP peer in ${REQUEST_TIMEOUT_MS / 1000} s.`))
      }, REQUEST_TIMEOUT_MS)
      this.pending.set(id, { resolve, reject, timer })
      this.ws.send(build(id))
    }).then((p) => {
      if (p.type === BtpPacket.TYPE_ERROR) throw fromBtpErrorPacket(p)
      return p.data.protocolData
    })
  }

  private async onFrame(raw: Buffer): Promise<void> {
    const requestId = raw.length >= 5 ? raw.readUInt32BE(1) : 0
    if (raw.length > MAX_PACKET_BYTES) return this.sendError(requestId, new BtpError('F01', 'InvalidFieldsError', `A BTP packet is at most ${MAX_PACKET_BYTES} bytes; this one has ${raw.length}.`))
    let p: Packet
    try {
      p = BtpPacket.deserialize(raw) as unknown as Packet
    } catch {
      return this.sendError(requestId, new BtpError('F01', 'InvalidFieldsError', 'Unreadable BTP packet.'))
    }
    if (p.type === BtpPacket.TYPE_RESPONSE || p.type === BtpPacket.TYPE_ERROR) {
      const waiting = this.pending.get(p.requestId)
      if (!waiting) return
      this.pending.delete(p.requestId)
      clearTimeout(waiting.timer)
      return waiting.resolve(p)
    }
    try {
      const answer = await this.answer(p)
      this.send(BtpPacket.serializeResponse(p.requestId, answer))
    } catch (err) {
      this.sendError(p.requestId, toBtpError(err))
    }
  }

  private async answer(p: Packet): Promise<ProtocolData[]> {
    const entries = p.data.protocolData
    const claim = entries.find((d) => d.protocolName === CLAIM_PROTOCOL)
    if (p.type === BtpPacket.TYPE_TRANSFER) {
      if (!claim) throw new BtpError('F00', 'NotAcceptedError', `A Transfer must carry a ${CLAIM_PROTOCOL}.`)
      return this.onClaim(claim, BigInt(p.data.amount ?? '0'))
    }
    if (p.type !== BtpPacket.TYPE_MESSAGE) throw new BtpError('F01', 'InvalidFieldsError', `Unexpected BTP packet type ${p.type}.`)
    const out: ProtocolData[] = []
    if (claim) out.push(...(await this.onClaim(claim, 0n)))
    const ilp = entries.find((d) => d.protocolName === 'ilp')
    if (ilp) {
      let prepare: Ilp.IlpPrepare
      try {
        prepare = Ilp.deserializeIlpPrepare(ilp.data)
      } catch {
        throw new BtpError('F01', 'InvalidFieldsError', 'The ilp entry is not an ILP Prepare.')
      }
      const reply = this.handlers.prepare
        ? await this.handlers.prepare(prepare, this.peer)
        : { code: 'F02', triggeredBy: this.ilpAddress, message: 'No route from this peer.', data: Buffer.alloc(0) }
      out.push({ protocolName: 'ilp', contentType: BtpPacket.MIME_APPLICATION_OCTET_STREAM, data: Ilp.serializeIlpReply(reply) })
    }
    return out
  }

  private async onClaim(entry: ProtocolData, amount: bigint): Promise<ProtocolData[]> {
    if (!this.handlers.claim) throw new BtpError('F00', 'NotAcceptedError', 'This peer takes no claims.')
    const receipt = await this.handlers.claim(entry, amount, this.peer)
    return [{ protocolName: CLAIM_PROTOCOL, contentType: BtpPacket.MIME_APPLICATION_JSON, data: Buffer.from(JSON.stringify(receipt)) }]
  }

  private sendError(requestId: number, e: BtpError): void {
    this.send(BtpPacket.serializeError({
      code: e.btpCode, name: e.btpName, triggeredAt: new Date().toISOString(),
      data: JSON.stringify({ message: e.shortMessage.replace(/^\S+ \S+: /, ''), ...(e.reason ? { reason: e.reason } : {}) }),
    } as never, requestId, []))
  }

  private send(b: Buffer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(b)
  }
}

/**
 * The BTP Error a handler's refusal becomes: a {@link BtpError} as is; a malformed claim F01;
 * a refused payment (`exitCode` 4, e.g. VoucherRefusedError) F00 with its `reason`; the node
 * unreachable or anything else T00.
 */
export function toBtpError(err: unknown): BtpError {
  if (err instanceof BtpError) return err
  if (err instanceof ClaimFormatError) return new BtpError('F01', 'InvalidFieldsError', err.shortMessage)
  if (err instanceof ChannelsError && (err.exitCode === 4 || err.exitCode === 2)) {
    return new BtpError('F00', 'NotAcceptedError', err.shortMessage, typeof err.data.reason === 'string' ? err.data.reason : undefined)
  }
  if (err instanceof NetworkError) return new BtpError('T00', 'InternalError', 'The node is unreachable; try again.')
  return new BtpError('T00', 'InternalError', 'Internal error.')
}

function fromBtpErrorPacket(p: Packet): BtpError {
  let message = p.data.data ?? ''
  let reason: string | undefined
  try {
    const j = JSON.parse(message) as { message?: unknown; reason?: unknown }
    if (typeof j.message === 'string') message = j.message
    if (typeof j.reason === 'string') reason = j.reason
  } catch {
    /* free text */
  }
  return new BtpError(String(p.data.code ?? 'F00').slice(0, 3), String(p.data.name ?? 'Error').slice(0, 64), message.slice(0, 500), reason)
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** A running BTP server. Emits `connection` (BtpConnection) and `refused` ({peer, reason}). */
export interface BtpServer extends EventEmitter {
  /** `btp+ws://host:port` (without credentials). */
  url: string
  connections: Set<BtpConnection>
  close(): Promise<void>
}

/**
 * Listens for BTP peers on `host:port` (0: any free port).
 * @param o.secret - the shared secret every peer must present as auth_token
 * @param o.ilpAddress - this node's ILP address (triggeredBy of its Rejects)
 * @param o.http - answers plain HTTP requests on the same port (e.g. SPSP); default 426 Upgrade Required
 */
export async function startBtpServer(o: { host: string; port: number; secret: string; ilpAddress: string; handlers: BtpHandlers; http?: (req: IncomingMessage, res: ServerResponse) => void }): Promise<BtpServer> {
  if (!o.secret) throw new UsageError('The BTP secret must not be empty.')
  const http = createServer(o.http ?? ((_req, res) => res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('A BTP peer: connect with WebSocket.\n')))
  http.headersTimeout = 10_000
  http.requestTimeout = 10_000
  const wss = new WebSocketServer({ server: http, maxPayload: MAX_FRAME_BYTES })
  await new Promise<void>((resolve, reject) => {
    http.once('listening', resolve)
    http.once('error', reject)
    http.listen(o.port, o.host)
  })
  const { port, address } = http.address() as AddressInfo
  const server = Object.assign(new EventEmitter(), {
    url: `btp+ws://${address.includes(':') ? `[${address}]` : address}:${port}`,
    connections: new Set<BtpConnection>(),
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate()
      wss.close(() => http.close(() => resolve()))
      http.closeAllConnections()
    }),
  }) as BtpServer
  const expected = digest(o.secret)
  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    if (wss.clients.size > MAX_CONNECTIONS) return ws.close(1013, 'too many connections')
    const timer = setTimeout(() => ws.close(1008, 'auth timeout'), AUTH_TIMEOUT_MS)
    ws.once('message', (raw: RawData) => {
      clearTimeout(timer)
      const buf = raw as Buffer
      const requestId = buf.length >= 5 ? buf.readUInt32BE(1) : 0
      let p: Packet | undefined
      try {
        p = BtpPacket.deserialize(buf) as unknown as Packet
      } catch {
        /* refused below */
      }
      const entries = p?.type === BtpPacket.TYPE_MESSAGE ? p.data.protocolData : []
      const token = entries.find((d) => d.protocolName === 'auth_token')?.data.toString('utf8')
      const user = entries.find((d) => d.protocolName === 'auth_username')?.data.toString('utf8') ?? ''
      const ok = entries[0]?.protocolName === 'auth' && token !== undefined && timingSafeEqual(digest(token), expected)
      if (!ok) {
        server.emit('refused', { peer: user.slice(0, 128), reason: p ? 'invalid auth' : 'unreadable auth packet' })
        const data = JSON.stringify({ message: 'invalid auth_token' })
        ws.send(BtpPacket.serializeError({ code: 'F00', name: 'NotAcceptedError', triggeredAt: new Date().toISOString(), data } as never, requestId, []), () => ws.close())
        return
      }
      const c = new BtpConnection(ws, user.slice(0, 128), o.handlers, o.ilpAddress)
      server.connections.add(c)
      c.once('close', () => server.connections.delete(c))
      ws.send(BtpPacket.serializeResponse(p!.requestId, []))
      server.emit('connection', c)
    })
  })
  return server
}

/** A `btp+ws://name:secret@host:port[/path]` URL: the WebSocket URL and the credentials. @throws {UsageError} */
export function parseBtpUrl(url: string): { ws: string; account: string; secret: string } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`Not a URL: ${url.slice(0, 100)}`)
  }
  if (u.protocol !== 'btp+ws:' && u.protocol !== 'btp+wss:') throw new UsageError(`A BTP URL starts with btp+ws:// or btp+wss://, not ${u.protocol}//.`)
  const account = decodeURIComponent(u.username)
  const secret = decodeURIComponent(u.password)
  if (!secret) throw new UsageError('The BTP URL carries no secret: btp+ws://name:secret@host:port.')
  return { ws: `${u.protocol.slice(4)}//${u.host}${u.pathname}${u.search}`, account, secret }
}

/**
 * Connects to a BTP server and authenticates (auth, auth_username, auth_token).
 * @throws {BtpError} the server refused the auth (F00) · {NetworkError} unreachable, closed, or no answer
 */
export async function connectBtp(url: string, o: { handlers?: BtpHandlers; ilpAddress?: string } = {}): Promise<BtpConnection> {
  const { ws: wsUrl, account, secret } = parseBtpUrl(url)
  const ws = new WebSocket(wsUrl, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: REQUEST_TIMEOUT_MS })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', (err) => reject(new NetworkError(`Cannot reach the BTP peer at ${wsUrl}: ${err.message}`, { cause: err })))
  })
  const c = new BtpConnection(ws, account, o.handlers ?? {}, o.ilpAddress ?? 'private.channels')
  try {
    await c.message([
      { protocolName: 'auth', contentType: BtpPacket.MIME_APPLICATION_OCTET_STREAM, data: Buffer.alloc(0) },
      { protocolName: 'auth_username', contentType: BtpPacket.MIME_TEXT_PLAIN_UTF8, data: Buffer.from(account, 'utf8') },
      { protocolName: 'auth_token', contentType: BtpPacket.MIME_TEXT_PLAIN_UTF8, data: Buffer.from(secret, 'utf8') },
    ])
  } catch (err) {
    c.close()
    throw err
  }
  return c
}
