/**
 * The Interledger transport (DESIGN §12): a BTP peer (peer.ts) that takes payment-channel
 * claims (claim.ts, receiver.ts) and sends them. The core's side of `channels btp …`; a family
 * is reached only through its seams (`X402Payee.accept`, `ChannelScheme.voucherProof`).
 */
import type { ChannelScheme } from '../../scheme/index.js'
import type { SellerPolicy } from '../../scheme/seller.js'
import { UsageError } from '../../errors.js'
import { claimReceiver, type ClaimReceivedEvent } from './receiver.js'
import { startBtpServer, type BtpConnection, type BtpHandlers, type BtpServer } from './peer.js'
import { CLAIM_PROTOCOL, CONTENT_JSON, claimFromVoucher, type ClaimWire } from './claim.js'
import { voucherOfFamily, type Voucher } from '../../channel/voucher.js'

export { BtpError, connectBtp, parseBtpUrl, startBtpServer, type BtpConnection, type BtpHandlers, type BtpServer } from './peer.js'
export { CLAIM_PROTOCOL, claimFromVoucher, parseClaim, voucherFromClaim, type Claim, type ClaimWire } from './claim.js'
export type { ClaimReceipt, ClaimReceivedEvent } from './receiver.js'

/** A listening BTP peer that takes claims. Emits `CLAIM_RECEIVED` ({@link ClaimReceivedEvent}), `connection`, `refused`. */
export type ClaimListener = BtpServer

/**
 * `channels btp listen`: a BTP server whose peers authenticate with `secret` and whose claims
 * are verified and committed by the family's payee under `policy` (core/scheme/seller.ts).
 * @throws {UsageError} the family has no claims (no `voucherProof`: Bitcoin)
 */
export async function listenForClaims(s: ChannelScheme, o: { host: string; port: number; secret: string; ilpAddress: string; policy: SellerPolicy; prepare?: BtpHandlers['prepare'] }): Promise<ClaimListener> {
  const proof = s.voucherProof?.bind(s)
  if (!proof) throw new UsageError('Interledger claims are EVM vouchers; this network\'s family has none.')
  const payee = await s.seller(o.policy)
  const receiver = claimReceiver(payee, proof)
  const server = await startBtpServer({ host: o.host, port: o.port, secret: o.secret, ilpAddress: o.ilpAddress, handlers: { claim: receiver.handler, prepare: o.prepare } })
  receiver.events.on('CLAIM_RECEIVED', (e: ClaimReceivedEvent) => server.emit('CLAIM_RECEIVED', e))
  return server
}

/**
 * The claim of a voucher this wallet signed, and sends it over `c` in a Transfer of `amount`
 * (what it pays, base units) with contentType 2.
 * @returns the claim sent and the peer's receipt (its Response's claim entry, parsed)
 * @throws {BtpError} the peer refused it · {NetworkError} the connection failed
 */
export async function sendClaim(s: ChannelScheme, c: BtpConnection, v: Voucher, amount: bigint, senderId: string): Promise<{ claim: ClaimWire; receipt: unknown }> {
  if (!s.voucherProof) throw new UsageError('Interledger claims are EVM vouchers; this network\'s family has none.')
  const claim = claimFromVoucher(voucherOfFamily(v, 'evm'), s.voucherProof(v), { senderId })
  const answer = await c.transfer(amount, [{ protocolName: CLAIM_PROTOCOL, contentType: CONTENT_JSON, data: Buffer.from(JSON.stringify(claim)) }])
  const entry = answer.find((d) => d.protocolName === CLAIM_PROTOCOL)
  let receipt: unknown
  try {
    receipt = entry ? JSON.parse(entry.data.toString('utf8')) : undefined
  } catch {
    receipt = undefined
  }
  return { claim, receipt }
}
