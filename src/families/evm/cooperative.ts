/**
 * Payer ↔ merchant calls outside a purchase, on the merchant's channel endpoint
 * (`extra.endpoint`, default `/.well-known/channels`): delivering a voucher made by
 * `channels pay`, and asking for a cooperative close.
 */
import { request } from 'undici'
import type { ChannelManager } from './manager.js'
import type { ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import { ChannelStateError, NetworkError, PaymentRefusedError } from '../../core/errors.js'
import { ZeroAddress } from 'ethers'
import { encodePaymentSignature, closeRequestMessage, SCHEME } from '../../core/transports/http402/protocol.js'
import { parseBaseUnits } from '../../core/units.js'
import { short } from './manager.js'

/** POSTs JSON to a merchant endpoint; the answer's status and JSON body (non-JSON text as `{error}`). @throws {NetworkError} unreachable */
export async function post(url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  let res
  try {
    res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, headersTimeout: 120_000, bodyTimeout: 120_000 })
  } catch (err) {
    throw new NetworkError(`Cannot reach the merchant at ${url}: ${(err as Error).message}`, { cause: err })
  }
  const text = await res.body.text()
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text)
  } catch {
    json = { error: text.slice(0, 200) }
  }
  return { status: res.statusCode, json }
}

/**
 * Delivers a voucher to the channel's bound endpoint and records the acknowledgement.
 * @returns the merchant's `charged` for the channel
 * @throws {PaymentRefusedError} the merchant refused it · {@link NetworkError}
 */
export async function deliverVoucher(m: Pick<ChannelManager, 'acknowledge'>, c: ChannelRecord, v: VoucherRecord): Promise<bigint> {
  if (!c.endpoint) throw new ChannelStateError(`Channel ${short(c.id)} has no merchant endpoint bound.`)
  const header = encodePaymentSignature(
    { scheme: SCHEME, network: c.network, amount: '0', asset: c.asset ?? ZeroAddress, payTo: c.payee, maxTimeoutSeconds: 60, extra: { contract: c.contract, minDeposit: '0', minSettleDelay: 0, endpoint: c.endpoint } },
    { type: 'voucher', channelId: c.id, voucher: v },
  )
  const r = await post(`${c.endpoint.replace(/\/$/, '')}/voucher`, { 'payment-signature': header })
  if (r.status !== 200) throw new PaymentRefusedError(`The merchant refused the voucher: ${String(r.json.error ?? r.status)}`)
  const charged = parseBaseUnits(String(r.json.charged ?? '0'), 'charged')
  m.acknowledge(c, v, charged)
  return charged
}

/** Outcome of `channels close`. Amounts in base units. */
export interface CloseOutcome {
  channelId: string
  /** `closed`: done on chain; `settling`: fell back to settle, collect after `settleAt`. */
  result: 'closed' | 'settling'
  transaction: string
  paidToPayee?: bigint
  refundedToPayer?: bigint
  settleAt?: number
  /** Why the cooperative close did not happen, when it fell back to settle. */
  fallbackReason?: string
}

/**
 * Closes a channel. The payee redeems its best voucher and collects in one
 * transaction. The payer asks the bound endpoint to do that (signing the request),
 * checks the result on chain, and falls back to `settle` if the merchant cannot.
 * @throws {ChannelStateError} the channel cannot close from its state
 */
export async function closeChannel(m: ChannelManager, c: ChannelRecord, onProgress?: (s: string) => void): Promise<CloseOutcome> {
  if (c.direction === 'inbound') {
    const r = await m.closeAsPayee(c)
    return { channelId: c.id, result: 'closed', transaction: r.tx.hash, paidToPayee: r.redeemed, refundedToPayer: c.deposit - r.redeemed }
  }
  if (c.state !== 'open' && c.state !== 'settling') throw new ChannelStateError(`Channel ${short(c.id)} is ${c.state}; nothing to close.`)
  let reason = 'no merchant endpoint is bound to the channel'
  if (c.endpoint) {
    onProgress?.(`Asking ${c.endpoint} to close channel ${short(c.id)}…`)
    const signer = await m.signer()
    const signature = signer.signMessageSync(closeRequestMessage(c.network, c.id))
    try {
      const r = await post(`${c.endpoint.replace(/\/$/, '')}/close`, {}, JSON.stringify({ channelId: c.id, signature }))
      if (r.status === 200 && typeof r.json.transaction === 'string') {
        const paid = await m.backend.collectedBy(r.json.transaction, c.id)
        if (paid && !(await m.backend.getChannel(c.id))) {
          m.markClosed(c, paid.paidToPayee, r.json.transaction)
          return { channelId: c.id, result: 'closed', transaction: r.json.transaction, ...paid }
        }
        reason = `the merchant's transaction ${r.json.transaction} did not close the channel`
      } else reason = `the merchant refused (HTTP ${r.status}${r.json.reason ? `, ${String(r.json.reason)}` : ''}): ${String(r.json.error ?? '').slice(0, 300)}`
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err
      reason = err.shortMessage
    }
  }
  if (c.state === 'settling') throw new ChannelStateError(`Channel ${short(c.id)} is already settling and ${reason}; collect after ${c.settleAt}.`)
  onProgress?.(`Cooperative close failed (${reason}); starting settlement instead…`)
  const s = await m.settle(c)
  return { channelId: c.id, result: 'settling', transaction: s.tx.hash, settleAt: s.settleAt, fallbackReason: reason }
}
