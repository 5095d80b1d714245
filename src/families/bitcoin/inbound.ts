/**
 * The payee's side of a Bitcoin channel (two1 merchant: "verify and save the
 * payment"), and the chain half of `sync` for Bitcoin channels.
 *
 * A payment pays for a request when: the channel's deposit is confirmed and pays the
 * redeem script whose payee key is ours, with enough time left before the expiry; the
 * payment passes every rule of `verifyPaymentTransaction` (payer signature
 * SIGHASH_ALL, the deposit as sole input through the IF branch, final, outputs,
 * dust, fee floor and cap); its payee amount is above the last one and at least
 * `charged + price`. The payment and the new `charged` are committed in one write
 * transaction before the handler runs.
 */
import { Transaction, script as bscript } from 'bitcoinjs-lib'
import type { BitcoinChannelManager } from './manager.js'
import { depositAddress, depositOf, MAX_PAYEE_INDEX, SAT } from './manager.js'
import { bitcoinChannel, type BitcoinChannelData } from './channel.js'
import { StaleChannelStateError, type ChannelFields, type ChannelRecord } from '../../core/store/index.js'
import type { SyncReport } from '../../core/channel/sync.js'
import { InvalidVoucherError } from '../../core/errors.js'
import { VoucherRefusedError, storeLearned, type LearnedChannel, type VoucherCheck } from '../../core/channel/accept.js'
import { groupCommit } from '../../core/store/group-commit.js'
import { voucherOfFamily, type BitcoinPayment } from '../../core/channel/voucher.js'
import { idMatchesPrefix, short } from '../../core/channel/reader.js'
import { IllegalTransitionError, isTerminal, type ChannelEvent, type ChannelState } from '../../core/channel/state.js'
import { keyOutputScript, parseRedeemScript, toBytes, toHex } from './script.js'
import { depositScriptPubkey, hashToTxid, SEQUENCE_FINAL } from './spend.js'
import { verifyPaymentTransaction } from './transactions.js'
import { PaymentTransactionError } from './errors.js'
import { ChannelStateError, NotFoundError } from '../../core/errors.js'
import { DEFAULT_MAX_FEE_RATE, DEFAULT_MIN_FEE_RATE } from './verify.js'

/** Payee's policy for Bitcoin channels. Amounts in satoshis, times in seconds. */
export interface BitcoinAcceptPolicy {
  /** Least time between now and the channel's expiry when it is first seen (default 4 days, DESIGN §6). */
  minExpirySeconds: number
  /** Payments stop being accepted this long before the expiry; the watcher closes then. */
  closeMargin: number
  /** Smallest deposit accepted. */
  minDeposit: bigint
  /** Confirmations the deposit needs (default 1). */
  minConf: number
  /** Fee floor and cap of the close, sat/vB. */
  minFeeRate?: number
  maxFeeRate?: number
}

/** What an `open` payload adds: the deposit and the script, so the payee can check and later spend it. */
export interface BitcoinOpenPayload {
  /** The deposit transaction, hex. */
  depositTx: string
  /** Index of the channel output. */
  vout: number
  /** The two1 redeem script, hex. */
  redeemScript: string
}

const nowSeconds = () => Math.floor(Date.now() / 1000)


/**
 * The channel a payment names: the stored one, or one learned from its `open` payload
 * (checked against the node) but NOT stored — the caller stores it together with the
 * payment, so a refused first payment leaves nothing behind.
 * @param payeeIndex - for a new channel: the index of the payee key it pays (the 402's
 *   `extra.payeeIndex`, echoed by the payer; 0 = the base key). It must be one the
 *   merchant has offered (≤ {@link BitcoinChannelManager.nextPayeeIndex}) and its key the
 *   redeem script's payee.
 * @throws {VoucherRefusedError} not for us, wrong script or outpoint, too small, expiry too soon, unconfirmed
 */
export async function learnBitcoinChannel(
  m: BitcoinChannelManager, channelId: string, open: BitcoinOpenPayload | undefined, policy: BitcoinAcceptPolicy, payeeIndex = 0,
): Promise<LearnedChannel<BitcoinChannelData>> {
  const known = m.store.channels.get(m.network.caip2, channelId)
  if (known) return { ...bitcoinChannel(known), stored: true }
  if (!open) throw new VoucherRefusedError(`Channel ${short(channelId)} is unknown here; its first payment must carry the deposit (type "open").`, 'unknown_channel')
  if (!Number.isInteger(payeeIndex) || payeeIndex < 0 || payeeIndex > MAX_PAYEE_INDEX) {
    throw new VoucherRefusedError(`The payment names payee index ${payeeIndex}; an index is an integer from 0 to ${MAX_PAYEE_INDEX}.`, 'bad_payee_index')
  }
  if (payeeIndex > m.nextPayeeIndex()) {
    throw new VoucherRefusedError(`The payment names payee index ${payeeIndex}, which this merchant has not offered.`, 'wrong_payee')
  }
  let script: ReturnType<typeof parseRedeemScript>
  let tx: Transaction
  try {
    script = parseRedeemScript(open.redeemScript)
    tx = Transaction.fromHex(open.depositTx)
  } catch (err) {
    throw new VoucherRefusedError(`The channel's script or deposit does not decode: ${(err as Error).message}`, 'bad_open')
  }
  const ours = await m.payeePubkey(payeeIndex)
  if (toHex(script.payeePubkey) !== ours) {
    throw new VoucherRefusedError(`The redeem script pays ${toHex(script.payeePubkey)}, not this merchant's payee key of index ${payeeIndex} (${ours}).`, 'wrong_payee')
  }
  if ('0x' + tx.getId() !== channelId) throw new VoucherRefusedError('The deposit transaction is not the channel\'s (its txid differs from the channel id).', 'wrong_outpoint')
  const out = tx.outs[open.vout]
  const redeem = toBytes(open.redeemScript)
  const p2wsh = depositScriptPubkey(redeem, false)
  const p2sh = depositScriptPubkey(redeem, true)
  const isP2sh = out !== undefined && toHex(out.script) === toHex(p2sh)
  if (!out || (toHex(out.script) !== toHex(p2wsh) && !isP2sh)) {
    throw new VoucherRefusedError(`Output ${open.vout} of the deposit does not pay the redeem script (P2WSH or P2SH).`, 'wrong_script')
  }
  if (out.value < policy.minDeposit) throw new VoucherRefusedError(`The deposit of ${out.value} sat is below the ${policy.minDeposit} sat this merchant needs.`, 'deposit_too_small')
  const left = script.expiry - nowSeconds()
  if (left < policy.minExpirySeconds) {
    throw new VoucherRefusedError(`The channel expires in ${left} s; this merchant needs at least ${policy.minExpirySeconds} s.`, 'expiry_too_soon')
  }
  const status = await m.backend.outputStatus(tx.getId(), open.vout)
  if (!status.unspent) throw new VoucherRefusedError('The deposit output is spent or unknown to the node.', 'deposit_spent')
  if (status.confirmations < policy.minConf) {
    throw new VoucherRefusedError(`The deposit has ${status.confirmations} confirmations; ${policy.minConf} are needed.`, 'unconfirmed')
  }
  const t = nowSeconds()
  return {
    network: m.network.caip2, id: channelId, family: 'bitcoin', direction: 'inbound', payer: toHex(script.payerPubkey), payee: ours, asset: SAT,
    deposit: out.value, pendingDeposit: 0n, reserved: 0n, queued: 0n, nextLane: 0n, redeemed: 0n, charged: 0n, state: 'open',
    keyName: m.config.key(m.keyName).name, openTx: tx.getId(), createdAt: t, updatedAt: t, stored: false,
    data: {
      depositAddress: depositAddress(redeem, isP2sh, m.params), expiry: script.expiry, redeemScript: open.redeemScript.toLowerCase(), depositVout: open.vout, depositTx: open.depositTx.toLowerCase(), p2sh: isP2sh, closeFee: '0',
      ...(payeeIndex ? { payeeIndex } : {}),
    },
  }
}

/**
 * Verifies and commits a payment paying `price` for one request.
 * @param price - satoshis charged for this request (0n for a pure top-up)
 * @param payeeIndex - the payee key index the payment's `accepted` entry names (see {@link learnBitcoinChannel}); used for a new channel only
 * @throws {VoucherRefusedError} for every rule above (reason = the verifier's rule), or the channel is being closed; nothing is stored then
 */
export async function acceptBitcoinPayment(
  m: BitcoinChannelManager, v: BitcoinPayment, open: BitcoinOpenPayload | undefined, price: bigint, policy: BitcoinAcceptPolicy, payeeIndex = 0,
): Promise<{ channel: ChannelRecord; charged: bigint }> {
  const channel = await learnBitcoinChannel(m, v.channelId, open, policy, payeeIndex)
  if (channel.direction !== 'inbound') throw new VoucherRefusedError('That channel is one this wallet pays on.', 'wrong_direction')
  if (channel.state !== 'open') throw new VoucherRefusedError(`Channel ${short(channel.id)} is ${channel.state}.`, 'channel_state')
  if (v.lane !== 0n) throw new VoucherRefusedError('Bitcoin channels have one lane (0).', 'lane')
  if (channel.data.expiry - policy.closeMargin <= nowSeconds()) {
    throw new VoucherRefusedError(`Channel ${short(channel.id)} is too close to its expiry; the merchant is closing it.`, 'expiring')
  }
  const b = bitcoinChannel(channel).data
  let payeeAmount: bigint
  try {
    payeeAmount = verifyPaymentTransaction({
      redeemScript: b.redeemScript, deposit: depositOf(channel), paymentTx: v.paymentTx, p2sh: b.p2sh,
      minFeeRate: policy.minFeeRate ?? DEFAULT_MIN_FEE_RATE, maxFeeRate: policy.maxFeeRate ?? DEFAULT_MAX_FEE_RATE, dustRelayFee: m.params.dustRelayFee,
    }).payeeAmount
  } catch (err) {
    if (err instanceof PaymentTransactionError) throw new VoucherRefusedError(`Payment refused: ${err.shortMessage}`, err.code.toLowerCase())
    throw err
  }
  if (payeeAmount !== v.amount) throw new VoucherRefusedError(`The payment pays ${payeeAmount} sat, not the ${v.amount} it states.`, 'amount_mismatch')

  const closing = () => new VoucherRefusedError(`Channel ${short(channel.id)} is being closed.`, 'channel_state')
  if (m.isClosing(channel.id)) throw closing()
  const r = await groupCommit(m.store, () => {
    if (m.isClosing(channel.id)) throw closing() // a close started since: its best payment is read already
    const ch = storeLearned(m.store, channel) // a new channel is stored with its first payment, or not at all
    if (ch.state !== 'open') throw new VoucherRefusedError(`Channel ${short(ch.id)} is ${ch.state}.`, 'channel_state')
    const last = m.store.vouchers.latest(ch.network, ch.id, 0n)
    if (last && v.nonce <= last.nonce) {
      throw new VoucherRefusedError(`Nonce ${v.nonce} is not above the last accepted ${last.nonce}.`, 'nonce_too_low', { channel: ch, last })
    }
    if (last && v.amount <= last.amount) {
      throw new VoucherRefusedError(`The payment's ${v.amount} sat is not above the last one's ${last.amount} sat.`, 'amount_not_increased', { channel: ch, last })
    }
    if (v.amount < ch.charged + price) {
      throw new VoucherRefusedError(`The payment covers ${v.amount} sat; ${ch.charged + price} is due (charged ${ch.charged} + price ${price}).`, 'amount_too_low', { channel: ch, last })
    }
    m.store.vouchers.insert(ch.network, v, { price })
    const charged = ch.charged + price
    m.store.channels.update(ch.network, ch.id, { charged })
    return { channel: { ...ch, charged }, charged }
  })
  if (!channel.stored) m.notePayeeIndex(channel.data.payeeIndex ?? 0) // committed: the next 402 offers a fresh key
  return r
}

export { bitcoinPayment } from '../../core/channel/voucher.js'

/**
 * The chain half of `sync` for a Bitcoin channel: the deposit confirmed (opening →
 * open), spent by the refund (→ closed, nothing redeemed) or by a payment (→ closed,
 * redeemed = its payee output), or past its expiry (open → expired, payer side).
 * @throws {NetworkError} node unreachable
 */
export async function syncBitcoinChannel(m: BitcoinChannelManager, c: ChannelRecord): Promise<SyncReport> {
  const changes: string[] = []
  const warnings: string[] = []
  const b = bitcoinChannel(c).data
  const txid = c.id.slice(2)
  // Each change is events of the state machine (DESIGN §3) applied to the state `c` was read in;
  // one the table forbids, or on a row another process moved meanwhile, is a warning and
  // leaves the row as it is (the paywall's `list` must not fail on it).
  const move = (from: ChannelState, events: readonly [ChannelEvent, ...ChannelEvent[]], fields: ChannelFields, what: string) => {
    try {
      m.store.channels.transition(c.network, c.id, events, fields, from)
      changes.push(what)
    } catch (err) {
      if (!(err instanceof IllegalTransitionError || err instanceof StaleChannelStateError)) throw err
      warnings.push(`${what} not recorded, the channel is left as it is: ${err.shortMessage}`)
    }
  }
  if (isTerminal(c.state)) return { channelId: c.id, stateBefore: c.state, state: c.state, changes, warnings }
  const out = await m.backend.outputStatus(txid, b.depositVout)
  if (out.unspent) {
    if (c.state === 'opening' && out.confirmations > 0) move('opening', ['confirm'], {}, 'opening → open')
    else if (c.state === 'opening') warnings.push('the deposit is not mined yet; run sync again later')
    const now = m.store.channels.get(c.network, c.id)!.state
    if (now === 'open' && c.direction === 'outbound' && (await m.backend.chainInfo()).medianTime >= b.expiry) {
      move('open', ['expire'], {}, 'open → expired (the refund can be collected)')
    }
  } else {
    const depositTx = await m.backend.getTransaction(txid)
    if (!depositTx) {
      if (c.state === 'opening' && c.direction === 'outbound') {
        // Stored but never broadcast (a crash or a dead node at open), or dropped: send it again.
        try {
          await m.backend.broadcast(b.depositTx)
          changes.push('the deposit was not on the node; broadcast it again')
        } catch (err) {
          if (!(err instanceof ChannelStateError)) throw err
          move('opening', ['fail'], {}, `opening → failed (the node refuses the deposit: ${err.shortMessage})`)
        }
      } else if (c.state === 'opening') warnings.push('the node does not know the deposit; run sync again later')
    } else {
      const candidates = [b.refundTx, c.closeTx, ...m.store.vouchers.list(c.network, c.id).map((v) => voucherOfFamily(v, 'bitcoin').paymentTx)]
        .filter((x): x is string => !!x)
        .map((hex) => (hex.length === 64 ? hex : safeTxid(hex)))
        .filter((x): x is string => !!x)
      let fromHeight = 0
      if (depositTx.blockhash) fromHeight = await m.backend.blockHeight(depositTx.blockhash)
      const spender = await m.backend.findSpender(txid, b.depositVout, candidates, fromHeight)
      if (!spender) warnings.push('the deposit is spent in the mempool; run sync again once it is mined')
      else {
        const payeeScript = toHex(depositPayeeScript(c))
        const paid = spender.tx.outs.filter((o) => toHex(o.script) === payeeScript).reduce((s, o) => s + o.value, 0n)
        const isRefund = spender.tx.ins[0]!.sequence !== SEQUENCE_FINAL
        // A spend in a block means the deposit was mined (confirm); the refund is valid only
        // after the expiry (expire, then collect); a payment spending it is the payee's close.
        const closing: [ChannelEvent, ...ChannelEvent[]] = !isRefund ? ['close'] : c.state === 'expired' ? ['collect'] : ['expire', 'collect']
        move(c.state, c.state === 'opening' ? ['confirm', ...closing] : closing, { redeemed: isRefund ? 0n : paid, closeTx: spender.tx.getId() },
          `${c.state} → closed (${isRefund ? 'refunded to the payer' : `the payee closed with ${paid} sat`} in ${spender.tx.getId()})`)
      }
    }
  }
  return { channelId: c.id, stateBefore: c.state, state: m.store.channels.get(c.network, c.id)!.state, changes, warnings }
}

function safeTxid(hex: string): string | undefined {
  try {
    return Transaction.fromHex(hex).getId()
  } catch {
    return undefined
  }
}

/** The payee's P2WPKH output script (payments pay it by default). */
function depositPayeeScript(c: ChannelRecord): Uint8Array {
  return keyOutputScript(parseRedeemScript(bitcoinChannel(c).data.redeemScript).payeePubkey)
}

/**
 * `voucher check` for a Bitcoin payment (either side): the payer's signature and every
 * rule of `verifyPaymentTransaction`, the deposit still unspent on the node and the
 * expiry not reached; on the payee's side it must also pay more than the stored best.
 * `redeemable` is what closing with it pays the payee, satoshis.
 * @throws {NetworkError} node unreachable; an invalid payment is `{valid: false}`
 */
export async function checkBitcoinVoucher(m: BitcoinChannelManager, c: ChannelRecord, v: BitcoinPayment): Promise<VoucherCheck> {
  const own = c.direction === 'outbound'
  const bad = (reason: string): VoucherCheck => ({ valid: false, reason, own, redeemable: 0n, delta: 0n })
  if (v.channelId !== c.id) return bad(`the payment is for channel ${short(v.channelId)}, not ${short(c.id)}`)
  const b = bitcoinChannel(c).data
  let amount: bigint
  try {
    amount = verifyPaymentTransaction({ redeemScript: b.redeemScript, deposit: depositOf(c), paymentTx: v.paymentTx, p2sh: b.p2sh, dustRelayFee: m.params.dustRelayFee }).payeeAmount
  } catch (err) {
    return bad(err instanceof PaymentTransactionError ? err.shortMessage : (err as Error).message)
  }
  if (amount !== v.amount) return bad(`it pays ${amount} sat, not the ${v.amount} it states`)
  const out = await m.backend.outputStatus(c.id.slice(2), b.depositVout)
  if (!out.unspent) return bad('the deposit is spent (the channel is closed or refunded)')
  if ((await m.backend.chainInfo()).medianTime >= b.expiry) return bad('the channel is past its expiry; the payer can take the refund')
  const stored = m.store.vouchers.latest(c.network, c.id, 0n)
  const delta = amount - (stored?.amount ?? 0n)
  if (!own && stored && amount <= stored.amount) return { valid: false, reason: `not above the stored payment (${stored.amount} sat)`, own, redeemable: amount, delta }
  return { valid: true, own, redeemable: amount, delta }
}

/**
 * The `open` data of a channel read from one of its payments: the deposit outpoint
 * is the payment's input, the redeem script is the last item of its witness (P2WSH)
 * or scriptSig (P2SH), and the deposit transaction comes from the node
 * (`getrawtransaction`; the node needs `-txindex` once the deposit is mined).
 * What `voucher add` uses when the payee has not seen the channel yet.
 * @throws {VoucherRefusedError} the payment does not decode or the node does not know the deposit
 */
export async function openFromPayment(m: BitcoinChannelManager, v: BitcoinPayment): Promise<BitcoinOpenPayload> {
  let tx: Transaction
  try {
    tx = Transaction.fromHex(v.paymentTx)
  } catch {
    throw new VoucherRefusedError('The payment transaction does not decode.', 'malformed')
  }
  const input = tx.ins[0]
  if (!input) throw new VoucherRefusedError('The payment has no input.', 'malformed')
  const chunks = input.witness.length ? input.witness : (bscript.decompile(input.script) ?? []).filter((c): c is Uint8Array => c instanceof Uint8Array)
  const redeem = chunks.at(-1)
  if (!redeem) throw new VoucherRefusedError('The payment carries no redeem script.', 'wrong_script')
  const txid = hashToTxid(input.hash)
  const deposit = await m.backend.getTransaction(txid)
  if (!deposit) throw new VoucherRefusedError(`The node does not know the deposit ${txid} (it needs -txindex once the deposit is mined).`, 'unknown_channel')
  return { depositTx: deposit.hex, vout: input.index, redeemScript: toHex(redeem) }
}

/**
 * `voucher add` on a Bitcoin channel (payee side, Lotus `PaychVoucherAdd`): checks the
 * payment like `voucher check` and stores it. A payee that has not seen the channel
 * learns it from the payment and the node, and stores it with the payment or not at all.
 * @param prefix - the channel id or prefix the user gave
 * @returns what the payment adds over the stored one, satoshis
 * @throws {InvalidVoucherError} refused, not ours to add, or adding less than `minDelta`
 */
export async function addBitcoinVoucher(b: BitcoinChannelManager, prefix: string, v: BitcoinPayment, minDelta: bigint): Promise<bigint> {
  let c
  try {
    c = { ...bitcoinChannel(b.channel(prefix)), stored: true }
  } catch (err) {
    if (!(err instanceof NotFoundError) || !idMatchesPrefix(prefix, v.channelId)) throw err
    try {
      c = await learnBitcoinChannel(b, v.channelId, await openFromPayment(b, v), { minExpirySeconds: 0, closeMargin: 0, minDeposit: 0n, minConf: 1 })
    } catch (e) {
      if (e instanceof VoucherRefusedError) throw new InvalidVoucherError(`Payment refused: ${e.shortMessage}`)
      throw e
    }
  }
  if (c.direction !== 'inbound') throw new InvalidVoucherError('Payments are added on the payee\'s side; this wallet pays on that channel.')
  const check = await checkBitcoinVoucher(b, c, v)
  if (!check.valid) throw new InvalidVoucherError(`Payment refused: ${check.reason}.`)
  if (check.delta < minDelta) throw new InvalidVoucherError(`The payment adds ${check.delta}, less than --min-delta ${minDelta}.`)
  b.store.immediate(() => {
    storeLearned(b.store, c) // a channel learned from this payment is stored with it, or not at all
    const latest = b.store.vouchers.latest(c.network, c.id, 0n)
    if (latest && (v.nonce <= latest.nonce || v.amount <= latest.amount)) throw new InvalidVoucherError(`Payment refused: a payment with nonce ${latest.nonce} was stored meanwhile.`)
    b.store.vouchers.insert(c.network, v)
  })
  return check.delta
}
