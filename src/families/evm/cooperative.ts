/**
 * The payer's `channels close` on an EVM channel: asks the merchant's channel endpoint
 * (`extra.endpoint`, default `/.well-known/channels`) for a cooperative close, checks it
 * on chain, and falls back to a settle.
 */
import type { ChannelManager } from './manager.js'
import type { ChannelRecord } from '../../core/store/index.js'
import { ChannelStateError, NetworkError } from '../../core/errors.js'
import { closeRequestMessage } from '../../core/channel/close-request.js'
import { short } from './manager.js'
import type { MerchantLink } from '../../core/scheme/index.js'

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
 * @param post - how the request reaches the merchant (the transport's {@link MerchantLink.post})
 * @throws {ChannelStateError} the channel cannot close from its state
 */
export async function closeChannel(m: ChannelManager, c: ChannelRecord, post: MerchantLink['post'], onProgress?: (s: string) => void): Promise<CloseOutcome> {
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
