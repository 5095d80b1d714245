/**
 * The plain HTTP/1.1 JSON plumbing the transports' servers share (the paywall, transports/http402/server.ts,
 * and the hub, transports/hub/server.ts): one JSON answer in one write, a request body read up to a limit,
 * and listening on loopback with a close that drops kept-alive connections.
 */
import type { IncomingMessage, ServerResponse, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ChannelsError } from '../errors.js'

/** Writes `body` as JSON with its length, headers and body in one write. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** A request body over the reader's limit (answer 413). */
export class BodyTooLargeError extends ChannelsError {
  override name = 'BodyTooLargeError'
}

/**
 * The request body as UTF-8, refused beyond `limit` bytes (the rest is drained, not buffered).
 * @throws {BodyTooLargeError} over `limit` · the socket's error
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((ok, fail) => {
    let size = 0
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        fail(new BodyTooLargeError(`Request body too large (over ${limit} bytes).`))
        req.resume()
      } else chunks.push(c)
    })
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')))
    req.on('error', fail)
  })
}

/**
 * Listens on `host:port` (port 0: any free one) and resolves once listening.
 * @returns its `http://address:port` URL and a close that ends kept-alive connections too
 * @throws {Error} the port is taken
 */
export async function listen(server: Server, host = '127.0.0.1', port = 0): Promise<{ url: string; close(): Promise<void> }> {
  server.keepAliveTimeout = 5000
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => ok())
  })
  const addr = server.address() as AddressInfo
  return {
    url: `http://${addr.address}:${addr.port}`,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()) }),
  }
}
