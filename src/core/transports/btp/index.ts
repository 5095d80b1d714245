/**
 * The Interledger transport (DESIGN §12): a BTP peer (peer.ts) that takes payment-channel
 * claims (claim.ts, receiver.ts) and sends them. The core's side of `channels btp …`; a family
 * is reached only through its seams (`X402Payee.accept`, `ChannelScheme.voucherProof`).
 */
import type { ChannelScheme } from '../../scheme/index.js'
import type { SellerPolicy } from '../../scheme/seller.js'
import { claimReceiver, type ClaimReceivedEvent } from './receiver.js'
import { startBtpServer, type BtpServer } from './peer.js'
import { IlpReceiver, SPSP_CONTENT_TYPE, SPSP_PATH } from './ilp.js'
import { claimProof } from './claim.js'

export { BtpError, connectBtp, parseBtpUrl, startBtpServer, type BtpConnection, type BtpHandlers, type BtpServer } from './peer.js'
export { CLAIM_PROTOCOL, claimFromVoucher, claimProof, parseClaim, voucherFromClaim, type Claim, type ClaimProof, type ClaimWire } from './claim.js'
export type { ClaimReceipt, ClaimReceivedEvent } from './receiver.js'
export { ClaimSender, fetchSpsp, IlpRejectError, sendOverIlp, transferClaim, type ClaimSent, type IlpSendResult } from './settle.js'
export { IlpReceiver, conditionFor, fulfillmentFor, fulfills, parseSpsp, sharedSecretFor, SPSP_CONTENT_TYPE, SPSP_PATH, type SpspAnswer } from './ilp.js'

/**
 * A listening BTP peer that takes claims and, with `ilp`, fulfills ILP Prepares.
 * Emits `CLAIM_RECEIVED` ({@link ClaimReceivedEvent}), `connection`, `refused`.
 */
export type ClaimListener = BtpServer & {
  /** `http://host:port/.well-known/pay`: SPSP (RFC 9) for senders of ILP packets; absent without `ilp`. */
  spsp?: string
  /** What each peer owes for fulfilled Prepares; absent without `ilp`. */
  ilp?: IlpReceiver
}

/**
 * `channels btp listen`: a BTP server whose peers authenticate with `secret` and whose claims
 * are verified and committed by the family's payee under `policy` (core/scheme/seller.ts).
 * With `o.ilp`, ILP Prepares sent to an SPSP destination it handed out are fulfilled while the
 * peer owes at most `o.ilp.maxOwed` (base units; ilp.ts); its claims pay that debt down.
 * Without it, Prepares are rejected F02.
 * @throws {UsageError} the family has no claims (no `voucherProof`: Bitcoin); an invalid ILP address
 */
export async function listenForClaims(s: ChannelScheme, o: { host: string; port: number; secret: string; ilpAddress: string; policy: SellerPolicy; ilp?: { maxOwed: bigint; receiveSecret?: Buffer } }): Promise<ClaimListener> {
  const proof = claimProof(s)
  const ilp = o.ilp && new IlpReceiver(o.ilpAddress, o.ilp.maxOwed, o.ilp.receiveSecret)
  const payee = await s.seller(o.policy)
  const receiver = claimReceiver(payee, proof)
  const server: ClaimListener = await startBtpServer({
    host: o.host, port: o.port, secret: o.secret, ilpAddress: o.ilpAddress,
    handlers: { claim: receiver.handler, prepare: ilp && (async (p, peer) => ilp.prepare(p, peer)) },
    http: ilp && ((req, res) => {
      if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://x').pathname !== SPSP_PATH) return res.writeHead(404, { 'content-type': 'text/plain' }).end(`SPSP is at ${SPSP_PATH}; BTP peers connect with WebSocket.\n`)
      res.writeHead(200, { 'content-type': SPSP_CONTENT_TYPE, 'cache-control': 'no-store' }).end(JSON.stringify(ilp.spsp()))
    }),
  })
  if (ilp) {
    server.ilp = ilp
    server.spsp = `${server.url.replace(/^btp\+ws:/, 'http:')}${SPSP_PATH}`
  }
  receiver.events.on('CLAIM_RECEIVED', (e: ClaimReceivedEvent) => {
    ilp?.credit(e.peer, BigInt(e.credited))
    server.emit('CLAIM_RECEIVED', e)
  })
  return server
}
