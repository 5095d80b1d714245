/**
 * The Bitcoin-family channel manager (DESIGN §5, after two1's `channels` client):
 * the same public shape as the EVM {@link ChannelManager} where the concepts match
 * (open, payableChannels, createVoucher, acknowledge, signedByPayer, closeAsPayee,
 * collect), over a two1 CLTV channel on a Bitcoin Core node.
 *
 * - A channel's id is `0x` + the deposit txid. Its "vouchers" are half-signed payment
 *   transactions: lane 0, a nonce counted by the payer, `amount` = the payee output
 *   (cumulative, satoshis), `signature` = the payment transaction (hex).
 * - Money rules: the fully signed refund is stored before the deposit is broadcast; a
 *   payment is committed (nonce + row, one `BEGIN IMMEDIATE`) before it leaves the
 *   process. Every payment leaves the same fee (`closeFee`) for the payee's close.
 */
import type { BIP32Interface } from 'bip32'
import { Transaction } from 'bitcoinjs-lib'
import type { ChannelFields, ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import { bitcoinChannel, type BitcoinChannelData } from './channel.js'
import { ChannelReader, availableOf, short } from '../../core/channel/reader.js'
import { acknowledgeVoucher } from '../../core/channel/acknowledge.js'
import { transition, canPay, type ChannelEvent, type ChannelState } from '../../core/channel/state.js'
import { bitcoinPayment, voucherOfFamily, type BitcoinPayment, type Voucher } from '../../core/channel/voucher.js'
import { ChannelStateError, InsufficientFundsError, UsageError } from '../../core/errors.js'
import { loadBitcoinChain } from '../../core/keys/wallet.js'
import { BitcoinBackend } from './backend.js'
import { buildDepositTransaction } from './deposit.js'
import { voucherFunds } from '../../core/channel/funds.js'
import { buildPaymentTransaction, buildRefundTransaction, countersignPayment, verifyPaymentTransaction } from './transactions.js'
import { buildRedeemScript, depositOutput, fundingAddressOf, keyOutputScript, toHex, toBytes } from './script.js'
export { fundingAddressOf }
import { dustRelayFeeOf, type BitcoinNetworkParams } from './networks.js'
import { closeVsize, dustThreshold, type DepositOutpoint } from './spend.js'
import { ecc } from './ecc.js'

/** The unit of Bitcoin-family amounts in records and on the wire. */
export const SAT = 'sat'

export interface BitcoinOpenRequest {
  /** Payee's compressed pubkey, hex (the 402's `payTo`). */
  payee: string
  /** Satoshis. */
  deposit: bigint
  /** Unix seconds after which the payer may take the refund. */
  expiry: number
  /** Deposit to P2SH (two1-compatible) instead of P2WSH. */
  p2sh?: boolean
  /** Merchant endpoint to bind. */
  endpoint?: string
  /** The payee key's index on the merchant's chain (the 402's `extra.payeeIndex`), kept to echo in payments. */
  payeeIndex?: number
  /** Called with the deposit txid once broadcast. */
  onSent?: (txid: string) => void
  /** Progress while waiting for the confirmation. */
  onProgress?: (message: string) => void
  /** Wait for `minConf` confirmations (default true). */
  wait?: boolean
  /** Default 1. */
  minConf?: number
  /** Give up waiting after this many ms (default 30 min); the channel stays `opening` for `sync`. */
  timeoutMs?: number
}

/** Checks a compressed secp256k1 pubkey in hex. @throws {UsageError} */
export function checkedPubkey(hex: string, what: string): string {
  const h = hex.toLowerCase()
  if (!/^0[23][0-9a-f]{64}$/.test(h) || !ecc.isPoint(Buffer.from(h, 'hex'))) {
    throw new UsageError(`Invalid ${what} "${hex}": expected a compressed public key (66 hex digits).`)
  }
  return h
}

/** Largest payee index: BIP32 indexes from 2^31 on are hardened, which a public parent cannot derive. */
export const MAX_PAYEE_INDEX = 2 ** 31 - 1

/**
 * Checks a payee index (the 402's `extra.payeeIndex`): an integer in [0, 2^31 − 1].
 * @throws {UsageError} anything else
 */
export function checkedPayeeIndex(x: unknown, what = 'payee index'): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > MAX_PAYEE_INDEX) {
    throw new UsageError(`Invalid ${what} ${JSON.stringify(x)}: expected an integer from 0 to ${MAX_PAYEE_INDEX}.`)
  }
  return x
}

/** The deposit outpoint of a Bitcoin channel. */
export function depositOf(c: ChannelRecord): DepositOutpoint {
  const b = bitcoinChannel(c).data
  return { txid: c.id.slice(2), vout: b.depositVout, value: c.deposit, txHex: b.depositTx }
}


/** Sum of a transaction's outputs, satoshis. */
const outputsTotal = (txHex: string): bigint => Transaction.fromHex(txHex).outs.reduce((s, o) => s + o.value, 0n)

/** The address of a channel's deposit output (P2WSH, or P2SH, of its redeem script). */
export function depositAddress(redeem: Uint8Array, p2sh: boolean, params: BitcoinNetworkParams): string {
  return depositOutput(redeem, { p2sh, network: params }).address
}

export class BitcoinChannelManager extends ChannelReader {
  private chainPromise?: Promise<BIP32Interface>
  private signerPromise?: Promise<BIP32Interface>
  private backendInstance?: BitcoinBackend
  /** Next payee index the paywall offers; computed from the database on first use. */
  private nextIndex?: number
  /** Closes in flight, by channel id: one close per channel, and no payment accepted meanwhile. */
  private readonly closing = new Map<string, Promise<{ tx: { hash: string; fee: bigint }; redeemed: bigint }>>()

  /** The fee every payment leaves for the payee's close, satoshis: no payment may spend it. */
  override closeReserve(c: ChannelRecord): bigint {
    return BigInt(bitcoinChannel(c).data.closeFee)
  }

  /** Address prefixes and coin type of this network. @throws {UsageError} not a Bitcoin network */
  get params(): BitcoinNetworkParams & { coinType: number } {
    const b = this.network.kind === 'bitcoin' ? this.network.bitcoin : undefined
    if (!b) throw new UsageError(`Network "${this.network.name}" is not a Bitcoin-family network.`)
    return { name: this.network.name, ...b, dustRelayFee: dustRelayFeeOf(this.network.caip2, b) }
  }

  get backend(): BitcoinBackend {
    const btc = this.network.kind === 'bitcoin' ? this.network : undefined
    this.backendInstance ??= new BitcoinBackend(this.network.caip2, this.network.rpcUrl, btc?.fallbackFeeRate, {
      cookieFile: btc?.rpcCookieFile,
    })
    return this.backendInstance
  }

  /** The unlocked external chain node m/84'/<coin>'/0'/0 (one unlock for every index). @throws {KeystoreError} */
  payeeChain(): Promise<BIP32Interface> {
    this.chainPromise ??= loadBitcoinChain(this.config, this.params.coinType, this.keyName)
    return this.chainPromise
  }

  /** The unlocked channel key at m/84'/<coin>'/0'/0/0 (payer key, and payee key of index 0). @throws {KeystoreError} */
  signer(): Promise<BIP32Interface> {
    this.signerPromise ??= this.payeeChain().then((chain) => chain.derive(0))
    return this.signerPromise
  }

  /**
   * The payee key of index `i`, m/84'/<coin>'/0'/0/<i> (unlocks once).
   * @throws {UsageError} not an index in [0, 2^31 − 1] · {@link KeystoreError}
   */
  async payeeKey(index: number): Promise<BIP32Interface> {
    checkedPayeeIndex(index)
    return index === 0 ? this.signer() : (await this.payeeChain()).derive(index)
  }

  /** The payee pubkey (hex) of index `i`; index 0 comes from config without an unlock. @throws {UsageError} {@link KeystoreError} */
  async payeePubkey(index: number): Promise<string> {
    return index === 0 ? this.pubkey() : toHex((await this.payeeKey(index)).publicKey)
  }

  /**
   * The payee index the paywall offers next: one above the highest index of an inbound
   * channel of this key on this network (1 on a fresh wallet). Indexes stay dense, so a
   * BIP84 wallet restoring the mnemonic finds the payments within its gap limit, as
   * two1's merchant handed out its wallet's next unused key. A 402 stores nothing: the
   * index moves only when a channel paying it is stored.
   */
  nextPayeeIndex(): number {
    if (this.nextIndex === undefined) {
      const keyName = this.config.key(this.keyName).name
      let max = 0
      for (const c of this.store.channels.list({ network: this.network.caip2, direction: 'inbound' })) {
        const index = c.keyName === keyName ? (bitcoinChannel(c).data.payeeIndex ?? 0) : 0
        if (index > max) max = index
      }
      this.nextIndex = max + 1
    }
    return this.nextIndex
  }

  /** Records that a stored channel uses payee index `i` (moves {@link nextPayeeIndex} past it). */
  notePayeeIndex(index: number): void {
    if (index >= this.nextPayeeIndex()) this.nextIndex = index + 1
  }

  /** Whether this process is closing channel `id` now (a payment accepted meanwhile would not be in the close). */
  isClosing(id: string): boolean {
    return this.closing.has(id)
  }

  /** Our channel pubkey (hex): recorded in config, else read by unlocking the key. */
  async pubkey(): Promise<string> {
    return this.config.key(this.keyName).bitcoinPubkeys?.[String(this.params.coinType)] ?? toHex((await this.signer()).publicKey)
  }

  /** The P2WPKH address of our channel key, where the payer's coins and change live. */
  async fundingAddress(): Promise<string> {
    return fundingAddressOf(await this.pubkey(), this.params)
  }

  /**
   * Applies state-machine events in order (DESIGN §3) to the channel as `c` was read, with
   * `fields`, in one transaction (the repository's `transition`).
   * @throws {IllegalTransitionError} @throws {StaleChannelStateError} the row moved elsewhere since `c` was read
   */
  private move(c: ChannelRecord, events: readonly [ChannelEvent, ...ChannelEvent[]], fields: ChannelFields = {}): ChannelState {
    return this.store.channels.transition(c.network, c.id, events, fields, c.state).state
  }

  // ── payer ────────────────────────────────────────────────────────────────

  /**
   * Opens an outbound channel: funds the deposit from the key's P2WPKH coins, signs
   * the refund and stores it with the channel (`opening`) before broadcasting the
   * deposit; `open` once confirmed.
   * @throws {UsageError} bad payee or expiry · {@link InsufficientFundsError} coins short (with the shortfall)
   * @throws {NetworkError} node unreachable or another chain · {@link ChannelStateError} the node refused the deposit
   */
  async open(req: BitcoinOpenRequest): Promise<ChannelRecord> {
    const payee = checkedPubkey(req.payee, 'payee')
    if (req.deposit <= 0n) throw new UsageError('The deposit must be above zero.')
    await this.backend.checkNetwork()
    const key = await this.signer()
    const payer = toHex(key.publicKey)
    if (payee === payer) throw new UsageError('The payee is this wallet\'s own key.')
    const redeemScript = buildRedeemScript({ payeePubkey: toBytes(payee), payerPubkey: key.publicKey, expiry: req.expiry })
    const p2sh = req.p2sh ?? false
    const feeRate = await this.backend.feeRate()
    const closeFee = BigInt(Math.ceil(closeVsize(redeemScript, p2sh) * feeRate))
    const payeeDust = dustThreshold(keyOutputScript(toBytes(payee)), this.params.dustRelayFee)
    if (req.deposit < closeFee + payeeDust) {
      throw new UsageError(`A deposit of ${req.deposit} sat cannot pay anything: the close fee is ${closeFee} sat and the payee's least output ${payeeDust} sat.`)
    }
    const utxos = await this.backend.utxos(toHex(keyOutputScript(key.publicKey)))
    const network = this.params
    const d = buildDepositTransaction({ payerKey: key, utxos, redeemScript, amount: req.deposit, feeRate, p2sh, network })
    const refund = buildRefundTransaction({
      redeemScript, deposit: { txid: d.txid, vout: d.vout, value: d.value, txHex: d.txHex }, p2sh, payerKey: key,
      refundAddress: await this.fundingAddress(), feeRate, network,
    })
    const address = depositAddress(redeemScript, p2sh, network)
    const record = this.store.channels.insert<BitcoinChannelData>({
      network: this.network.caip2, id: '0x' + d.txid, family: 'bitcoin', direction: 'outbound', payer, payee, asset: SAT,
      deposit: req.deposit, redeemed: 0n, charged: 0n, state: 'opening', endpoint: req.endpoint,
      keyName: this.config.key(this.keyName).name, openTx: d.txid,
      data: {
        depositAddress: address, expiry: req.expiry, redeemScript: toHex(redeemScript), depositVout: d.vout, depositTx: d.txHex, refundTx: refund.txHex, p2sh, closeFee: closeFee.toString(),
        ...(req.payeeIndex ? { payeeIndex: checkedPayeeIndex(req.payeeIndex) } : {}),
      },
    })
    try {
      await this.backend.broadcast(d.txHex)
    } catch (err) {
      if (err instanceof ChannelStateError) this.move(record, ['fail'])
      throw err
    }
    req.onSent?.(d.txid)
    if (req.wait === false) return record
    await this.waitConfirmed(record, req.minConf ?? 1, req.onProgress, req.timeoutMs)
    return this.store.channels.get(record.network, record.id)!
  }

  /**
   * Waits until the deposit has `minConf` confirmations, then marks the channel open.
   * @throws {ChannelStateError} not confirmed within `timeoutMs` (it stays `opening`; `channels sync` picks it up)
   */
  async waitConfirmed(c: ChannelRecord, minConf = 1, onProgress?: (m: string) => void, timeoutMs = 30 * 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let said = -1
    for (;;) {
      const s = await this.backend.outputStatus(c.id.slice(2), bitcoinChannel(c).data.depositVout)
      if (s.confirmations >= minConf) {
        this.move(c, ['confirm']) // from the state read when the wait began: a `list` that saw it mined first is no error
        return
      }
      if (s.confirmations !== said) onProgress?.(`Deposit ${c.id.slice(2)}: ${s.confirmations}/${minConf} confirmations…`)
      said = s.confirmations
      if (Date.now() > deadline) {
        throw new ChannelStateError(`The deposit of channel ${short(c.id)} is not confirmed after ${Math.round(timeoutMs / 1000)} s.`, {
          metaMessages: ['It stays `opening`; `channels sync` marks it open once it is mined.'],
        })
      }
      await new Promise((r) => setTimeout(r, 500))
    }
  }

  /**
   * Outbound open channels to `payee`, or bound to the merchant `endpoint` (its payee keys
   * differ per channel), that can still pay `minAvailable` and are not within `margin` s
   * of expiry, fullest first.
   */
  payableChannels(payee: string, minAvailable: bigint, margin = 0, endpoint?: string): { channel: ChannelRecord; available: bigint }[] {
    const now = Math.floor(Date.now() / 1000)
    const key = payee.toLowerCase()
    return this.store.channels
      .list({ network: this.network.caip2, direction: 'outbound', state: 'open' })
      .filter((c) => c.payee === key || (endpoint !== undefined && c.endpoint === endpoint))
      .filter((c) => bitcoinChannel(c).data.expiry - margin > now)
      .map((c) => ({ channel: c, available: availableOf(c.deposit, (this.store.vouchers.latest(c.network, c.id, 0n)?.amount ?? 0n) + c.reserved, this.closeReserve(c)) }))
      .filter((s) => s.available >= minAvailable)
      .sort((a, b) => (a.available > b.available ? -1 : a.available < b.available ? 1 : 0))
  }

  /**
   * Creates, signs and commits the next payment (the Bitcoin voucher). The payee amount
   * is `target(previous, charged)`, raised to at least previous + 1 (each payment must
   * pay more) and the payee output's dust threshold.
   * @param o.reserved - pay with funds set aside by `reserve` (as the EVM manager's `createVoucher`)
   * @param o.onCommit - runs in the payment's write transaction after its insert (buy records the purchase there); a throw refuses the payment
   * @throws {InsufficientFundsError} the deposit minus the close fee (and the reservations it may not use) cannot cover it (with the shortfall)
   * @throws {ChannelStateError} not open, or not ours to pay on
   */
  async createVoucher(
    c: ChannelRecord, target: (previous: bigint, charged: bigint) => bigint, o: { reserved?: boolean; onCommit?: (v: VoucherRecord<BitcoinPayment>) => void } = {},
  ): Promise<VoucherRecord<BitcoinPayment>> {
    if (c.direction !== 'outbound') throw new ChannelStateError('Only the payer of a channel can create payments on it.')
    const key = await this.signer()
    const network = this.params
    return this.store.immediate(() => {
      const ch = this.store.channels.get(c.network, c.id)!
      if (!canPay(ch.state)) throw new ChannelStateError(`Channel ${short(ch.id)} is ${ch.state}; it cannot pay.`)
      const b = bitcoinChannel(ch).data
      const last = this.store.vouchers.latest(ch.network, ch.id, 0n)
      const previous = last?.amount ?? 0n
      const dust = dustThreshold(keyOutputScript(toBytes(ch.payee)), network.dustRelayFee)
      let amount = target(previous, ch.charged)
      if (amount < previous) throw new UsageError(`The new amount ${amount} is below the previous payment's ${previous}.`)
      if (amount <= previous) amount = previous + 1n
      if (amount < dust) amount = dust
      const fee = BigInt(b.closeFee)
      const funds = voucherFunds({ deposit: ch.deposit, reserved: ch.reserved, closeReserve: fee }, previous, amount, o.reserved === true)
      if (funds.shortfall > 0n) {
        const shortfall = funds.shortfall
        const aside = funds.reservedAfter > 0n ? `, ${funds.reservedAfter} sat of it reserved` : ''
        throw new InsufficientFundsError(`Channel ${short(ch.id)} cannot pay ${amount} sat plus the ${fee} sat close fee (deposit ${ch.deposit}${aside}); shortfall ${shortfall}.`, shortfall, {
          metaMessages: ['Open a channel with a larger deposit (`channels open`, or `channels buy --deposit`).'],
        })
      }
      const payment = buildPaymentTransaction({
        redeemScript: b.redeemScript, deposit: depositOf(ch), p2sh: b.p2sh, payerKey: key, payeeAmount: amount, fee, network,
      })
      const voucher = bitcoinPayment(ch.id, (last?.nonce ?? 0n) + 1n, amount, payment.txHex)
      if (funds.reservedAfter !== ch.reserved) this.store.channels.update(ch.network, ch.id, { reserved: funds.reservedAfter })
      this.store.vouchers.insert(ch.network, voucher)
      const record = { ...voucher, network: ch.network, delivered: false, createdAt: Math.floor(Date.now() / 1000) }
      o.onCommit?.(record)
      return record
    })
  }

  /** Whether `v` is a payment of channel `c` signed by its payer (lane 0, the stated amount). */
  signedByPayer(c: ChannelRecord, v: Voucher): boolean {
    if (v.family !== 'bitcoin' || v.channelId !== c.id || v.lane !== 0n) return false
    try {
      const b = bitcoinChannel(c).data // throws for a channel of another family: not signed by its payer
      const r = verifyPaymentTransaction({ redeemScript: b.redeemScript, deposit: depositOf(c), paymentTx: v.paymentTx, p2sh: b.p2sh, minFeeRate: 0 })
      return r.payeeAmount === v.amount
    } catch {
      return false
    }
  }

  /** See {@link acknowledgeVoucher}. */
  acknowledge(c: ChannelRecord, v: Voucher, charged: bigint): boolean {
    return acknowledgeVoucher(this.store, c, v, charged)
  }

  /**
   * Payer: broadcasts the refund once the chain's median time past reaches the expiry
   * (two1 "refund after the lock time").
   * @throws {ChannelStateError} before the expiry (says when), not the payer, or the deposit is spent already
   */
  async collect(c: ChannelRecord): Promise<{ tx: { hash: string; fee: bigint }; refunded: bigint }> {
    if (c.direction !== 'outbound') {
      throw new ChannelStateError('On a Bitcoin channel only the payer collects (the refund); the payee closes with `channels close`.')
    }
    if (c.state !== 'open' && c.state !== 'expired') throw new ChannelStateError(`Channel ${short(c.id)} is ${c.state}; there is nothing to collect.`)
    const b = bitcoinChannel(c).data
    if (!b.refundTx) throw new ChannelStateError(`Channel ${short(c.id)} has no stored refund.`)
    const tip = await this.backend.chainInfo()
    const expiry = b.expiry
    if (tip.medianTime < expiry) {
      throw new ChannelStateError(
        `Channel ${short(c.id)} cannot be refunded yet; possible once the chain's median time past reaches ${new Date(expiry * 1000).toISOString()} (in about ${expiry - tip.medianTime} s).`,
        { data: { expiry, medianTime: tip.medianTime } },
      )
    }
    const deposit = await this.backend.outputStatus(c.id.slice(2), b.depositVout)
    if (!deposit.unspent) {
      throw new ChannelStateError(`The deposit of channel ${short(c.id)} is already spent (the payee closed, or the refund is in flight); run \`channels sync\`.`)
    }
    const hash = await this.backend.broadcast(b.refundTx)
    const refunded = outputsTotal(b.refundTx)
    this.move(c, c.state === 'open' ? ['expire', 'collect'] : ['collect'], { redeemed: 0n, closeTx: hash })
    return { tx: { hash, fee: c.deposit - refunded }, refunded }
  }

  // ── payee ────────────────────────────────────────────────────────────────

  /**
   * Payee: countersigns the best payment with the channel's payee key (its `payeeIndex`)
   * and broadcasts it (two1 merchant close). One close per channel at a time: a second
   * call while one runs (the watcher and a payer's close request) joins it, and the
   * paywall accepts no payment on the channel meanwhile ({@link isClosing}).
   * @returns the close transaction and the payee amount, satoshis
   * @throws {ChannelStateError} not the payee, not open, no payment, or the node refused it · {@link NetworkError}
   */
  closeAsPayee(c: ChannelRecord): Promise<{ tx: { hash: string; fee: bigint }; redeemed: bigint }> {
    let p = this.closing.get(c.id)
    if (!p) {
      p = this.countersignAndBroadcast(c).finally(() => this.closing.delete(c.id))
      this.closing.set(c.id, p)
    }
    return p
  }

  private async countersignAndBroadcast(c: ChannelRecord): Promise<{ tx: { hash: string; fee: bigint }; redeemed: bigint }> {
    if (c.direction !== 'inbound') throw new ChannelStateError('Only the payee closes a Bitcoin channel with a payment; the payer collects the refund after expiry.')
    const b = bitcoinChannel(c).data
    const key = await this.payeeKey(b.payeeIndex ?? 0)
    // From here to the broadcast, no payment is accepted on the channel (isClosing), so the best one read now stays the best.
    const ch = this.store.channels.get(c.network, c.id) ?? c
    transition(ch.state, 'close')
    const best = this.store.vouchers.latest(c.network, c.id, 0n)
    if (!best) throw new ChannelStateError(`No payment to close channel ${short(c.id)} with.`)
    const full = countersignPayment({
      redeemScript: b.redeemScript, deposit: depositOf(c), paymentTx: voucherOfFamily(best, 'bitcoin').paymentTx, p2sh: b.p2sh, payeeKey: key, network: this.params, minFeeRate: 0,
    })
    const hash = await this.backend.broadcast(full)
    this.store.immediate(() => {
      this.store.vouchers.markSubmitted(c.network, c.id, best.lane, best.nonce, hash)
      this.move(ch, ['close'], { redeemed: best.amount, closeTx: hash })
    })
    return { tx: { hash, fee: c.deposit - outputsTotal(full) }, redeemed: best.amount }
  }

  /**
   * Payer: records a close the payee made at our request, once the node shows it
   * (open → closed, `redeemed` = what it paid the payee).
   * @param redeemed - the close's payee output, satoshis
   * @throws {IllegalTransitionError} the channel is not open
   */
  recordClose(c: ChannelRecord, redeemed: bigint, closeTx: string): void {
    this.store.immediate(() => this.move(this.store.channels.get(c.network, c.id) ?? c, ['close'], { redeemed, closeTx }))
  }
}
