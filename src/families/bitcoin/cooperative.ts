/**
 * Cooperative close of a Bitcoin channel (two1: "customer requests merchant to close
 * the channel … the merchant signs the remaining half of the transaction and
 * broadcasts it"). The payer POSTs `{channelId, signature}` to the merchant's
 * `<endpoint>/close`, signed with its channel key; the payee countersigns its best
 * payment and broadcasts it at once; the payer checks the result on its node.
 *
 * The signature is ECDSA secp256k1 over sha256 of {@link closeRequestMessage}, as 64
 * bytes r‖s (low S) in hex, checked against the channel's payer pubkey. Answers: 200
 * `{channelId, transaction, redeemed, fee?}` (also for a channel closed already:
 * idempotent), 403 wrong signature, 404 unknown channel (the paywall), 409 nothing to
 * close or the node refused the close, 503 node unreachable; refusals are
 * `{error, reason}`.
 */
import { createHash } from 'node:crypto'
import type { BitcoinChannelManager } from './manager.js'
import { depositOf } from './manager.js'
import type { ChannelRecord } from '../../core/store/index.js'
import { short } from '../../core/channel/reader.js'
import { ChannelStateError, NetworkError } from '../../core/errors.js'
import { ecc } from './ecc.js'
import { keyOutputScript, parseRedeemScript, toBytes, toHex } from './script.js'
import { hashToTxid } from './spend.js'
import type { NodeTx } from './backend.js'
import { closeRequestMessage } from '../../core/channel/close-request.js'
import type { MerchantLink } from '../../core/scheme/index.js'
import { bitcoinChannel } from './channel.js'

/** sha256 of the close request message of `channelId` on `caip2`: what the payer's key signs. */
export function closeRequestDigest(caip2: string, channelId: string): Uint8Array {
  return createHash('sha256').update(closeRequestMessage(caip2, channelId)).digest()
}

/**
 * Signs a close request with the payer's channel key.
 * @param key - the payer's key (a bip32 node or any secp256k1 signer returning 64-byte r‖s)
 * @returns 128 hex digits (r‖s, low S)
 */
export function signBitcoinCloseRequest(key: { sign(hash: Uint8Array): Uint8Array }, caip2: string, channelId: string): string {
  return toHex(key.sign(closeRequestDigest(caip2, channelId)))
}

/** Whether `signature` (128 hex digits, low S) is `payer`'s (hex pubkey) on the close request of `channelId`. */
export function verifyBitcoinCloseRequest(payer: string, caip2: string, channelId: string, signature: unknown): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) return false
  try {
    return ecc.verify(closeRequestDigest(caip2, channelId), toBytes(payer), Buffer.from(signature, 'hex'), true)
  } catch {
    return false
  }
}

/** An HTTP answer of the close endpoint. */
export interface CloseAnswer {
  status: 200 | 403 | 409 | 503
  body: Record<string, unknown>
}

/**
 * The payee's side of `POST <endpoint>/close` on a Bitcoin channel it knows (the
 * caller answered 404 for others): checks the payer's signature, then countersigns
 * and broadcasts the best payment ({@link BitcoinChannelManager.closeAsPayee}).
 * Never throws for a refusal; unexpected errors propagate (HTTP 500).
 */
export async function answerBitcoinCloseRequest(m: BitcoinChannelManager, channel: ChannelRecord, signature: unknown): Promise<CloseAnswer> {
  const refuse = (status: CloseAnswer['status'], reason: string, error: string): CloseAnswer => ({ status, body: { error, reason } })
  if (!verifyBitcoinCloseRequest(channel.payer, channel.network, channel.id, signature)) {
    return refuse(403, 'bad_signature', 'The close request is not signed by the channel\'s payer.')
  }
  const c = m.store.channels.get(channel.network, channel.id) ?? channel
  if (c.state === 'closed' && c.closeTx) return { status: 200, body: { channelId: c.id, transaction: c.closeTx, redeemed: c.redeemed.toString() } }
  if (c.state !== 'open') return refuse(409, 'channel_state', `Channel ${short(c.id)} is ${c.state}; there is nothing to close.`)
  if (!m.store.vouchers.latest(c.network, c.id, 0n)) return refuse(409, 'nothing_to_close', `Channel ${short(c.id)} has no payment to close with.`)
  try {
    const r = await m.closeAsPayee(c)
    return { status: 200, body: { channelId: c.id, transaction: r.tx.hash, redeemed: r.redeemed.toString(), fee: r.tx.fee.toString() } }
  } catch (err) {
    if (err instanceof ChannelStateError) return refuse(409, 'close_refused', err.shortMessage)
    if (err instanceof NetworkError) return refuse(503, 'node_unreachable', err.shortMessage)
    throw err
  }
}

/** Outcome of a payer's cooperative close of a Bitcoin channel. Amounts in satoshis. */
export interface BitcoinCloseOutcome {
  channelId: string
  result: 'closed'
  /** The close transaction's id. */
  transaction: string
  /** The close's output to the payee. */
  paidToPayee: bigint
  /** The close's change output to the payer (0 when it was dust and went to the fee). */
  refundedToPayer: bigint
  /** Deposit minus the close's outputs. */
  fee: bigint
}

/**
 * The payer's `channels close` on a Bitcoin channel: asks the bound merchant endpoint
 * to close with its best payment, waits until its own node shows the transaction
 * spending the deposit, and marks the channel closed with what that paid the payee.
 * @param post - the transport's POST to the merchant ({@link MerchantLink.post}; families import no transport)
 * @param waitMs - how long to wait for the merchant's transaction to reach our node (default 30 s)
 * @returns what the close paid each side, read from the transaction on the node
 * @throws {ChannelStateError} not open; no endpoint; the merchant refused, was unreachable or its
 *   transaction does not close the channel — the message says to wait for the expiry and `collect`
 * @throws {NetworkError} our node unreachable
 */
export async function requestBitcoinClose(
  m: BitcoinChannelManager, c: ChannelRecord, post: MerchantLink['post'], onProgress?: (s: string) => void, waitMs = 30_000,
): Promise<BitcoinCloseOutcome> {
  if (c.direction !== 'outbound') throw new ChannelStateError('Only the payer asks the merchant to close; the payee closes with `channels close` directly.')
  if (c.state === 'closed') throw new ChannelStateError(`Channel ${short(c.id)} is closed already${c.closeTx ? ` (tx ${c.closeTx})` : ''}.`)
  if (c.state === 'expired') {
    throw new ChannelStateError(`Channel ${short(c.id)} is past its expiry; take the refund with \`channels collect ${short(c.id)}\`.`)
  }
  if (c.state !== 'open') throw new ChannelStateError(`Channel ${short(c.id)} is ${c.state}; there is nothing to close.`)
  let reason = 'no merchant endpoint is bound to the channel'
  if (c.endpoint) {
    onProgress?.(`Asking ${c.endpoint} to close channel ${short(c.id)}…`)
    const signature = signBitcoinCloseRequest(await m.signer(), c.network, c.id)
    try {
      const r = await post(`${c.endpoint.replace(/\/$/, '')}/close`, {}, JSON.stringify({ channelId: c.id, signature }))
      const txid = r.json.transaction
      if (r.status === 200 && typeof txid === 'string' && /^[0-9a-f]{64}$/.test(txid)) {
        onProgress?.(`The merchant broadcast ${txid}; checking it on the node…`)
        const closed = await closeOf(m, c, txid, waitMs)
        if (closed && closed !== 'unknown') {
          m.recordClose(c, closed.paidToPayee, txid)
          return closed
        }
        reason = closed === 'unknown'
          ? `the merchant's transaction ${txid} has not reached this node in ${Math.round(waitMs / 1000)} s (\`channels sync\` marks the channel closed once it does)`
          : `the merchant's transaction ${txid} does not spend the channel's deposit`
      } else {
        const why = typeof r.json.reason === 'string' ? ` (${r.json.reason})` : ''
        reason = `the merchant answered ${r.status}${why}: ${String(r.json.error ?? 'no reason given')}`
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err
      reason = err.shortMessage
    }
  }
  const { expiry } = bitcoinChannel(c).data
  const expiryTime = new Date(expiry * 1000).toISOString()
  throw new ChannelStateError(`Channel ${short(c.id)} was not closed: ${reason}.`, {
    metaMessages: [
      `A Bitcoin channel's payer cannot close it alone: wait for the expiry (${expiryTime}), then take the refund with \`channels collect ${short(c.id)}\`.`,
      'Until then the merchant may still close it with your best payment.',
    ],
    data: { reason, expiry },
  })
}

/**
 * The merchant's close `txid` as our node shows it (polled for `waitMs`): its outcome when
 * it spends the channel's deposit, undefined when it does not, `unknown` when the node
 * does not know it.
 */
async function closeOf(m: BitcoinChannelManager, c: ChannelRecord, txid: string, waitMs: number): Promise<BitcoinCloseOutcome | 'unknown' | undefined> {
  const deposit = depositOf(c)
  const deadline = Date.now() + waitMs
  let t: NodeTx | undefined
  for (;;) {
    t = await m.backend.getTransaction(txid)
    if (t || Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 500))
  }
  if (!t) return 'unknown'
  if (!t.tx.ins.some((i) => hashToTxid(i.hash) === deposit.txid && i.index === deposit.vout)) return undefined
  const { payeePubkey, payerPubkey } = parseRedeemScript(bitcoinChannel(c).data.redeemScript)
  const paying = (pubkey: Uint8Array) => {
    const script = toHex(keyOutputScript(pubkey))
    return t!.tx.outs.filter((o) => toHex(o.script) === script).reduce((s, o) => s + o.value, 0n)
  }
  const total = t.tx.outs.reduce((s, o) => s + o.value, 0n)
  return { channelId: c.id, result: 'closed', transaction: txid, paidToPayee: paying(payeePubkey), refundedToPayer: paying(payerPubkey), fee: deposit.value - total }
}

