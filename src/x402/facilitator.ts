/**
 * The local facilitator of our `channel` scheme (issue 13 §2): an x402 `FacilitatorClient`
 * that an `x402ResourceServer` (and so an unmodified `@x402/express` `paymentMiddleware`)
 * verifies and settles `channel` payments with, in this process, against this wallet's
 * database — no facilitator service, no transaction per request. It judges a payment as
 * `channels serve` does (DESIGN §6), through the family's {@link X402Payee} (core/scheme/seller.ts):
 *
 * - `verify`: every acceptance rule of the family (DESIGN §7), then the voucher **and the
 *   charge of the price** are committed in one transaction before it answers, so the handler
 *   runs only on a payment already stored, and two requests cannot spend one credit.
 * - `settle` (after the handler succeeded): the charge stands; the receipt says what is charged.
 * - {@link ChannelFacilitator.refund} (the scheme server's `onVerifiedPaymentCanceled` hook, when
 *   the handler failed or threw): the price is given back (`refundCharge`), as the paywall does.
 * - A refused voucher writes nothing; when it names one of our channels, its state is kept for
 *   the corrective 402 (`extra.channelState`, {@link ChannelFacilitator.channelStateFor}).
 *
 * Amounts on the wire are decimal strings of base units (wei, token base units).
 */
import { FacilitatorResponseError, type FacilitatorClient } from '@x402/core/server'
import type { Network, PaymentPayload, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from '@x402/core/types'
import type { ChannelRecord } from '../core/store/index.js'
import type { X402Payee } from '../core/scheme/seller.js'
import { SCHEME, type ChannelPayload, type ChannelRequirement, type ChannelStateWire } from '../core/scheme/x402.js'
import { refundCharge, VoucherRefusedError } from '../core/channel/accept.js'
import { ChannelsError, ExitCode } from '../core/errors.js'
import { parseBaseUnits } from '../core/units.js'
import { channelState, decodePaymentEnvelope, type ChannelReceipt } from '../core/transports/http402/protocol.js'

/** A payment verified (voucher and charge committed) and not yet settled or refunded. */
interface Pending {
  channel: ChannelRecord
  /** The price charged, base units. */
  price: bigint
  /** The channel's `charged` after this payment, base units. */
  charged: bigint
  receipt: Omit<ChannelReceipt, 'charged' | 'reconcile'>
}

/** A payment that is not one of ours to judge: x402's `invalidReason`, the message. */
type Unjudged = { invalidReason: string; invalidMessage: string }

/** Verified payments awaiting settle or refund, at most this many by default (the oldest keeps its charge). */
export const DEFAULT_MAX_PENDING = 10_000

/**
 * The `channel` facilitator of one payee on one network: pass it to `new x402ResourceServer(facilitator)`
 * and register {@link ChannelSchemeServer} (or `registerChannelScheme(server, { facilitator })`).
 * @example
 * const facilitator = new ChannelFacilitator(await pcm.x402Payee({ minDeposit: 10n ** 15n, minSettleDelay: 3600 }))
 */
export class ChannelFacilitator implements FacilitatorClient {
  /** The CAIP-2 network it accepts payments on. */
  readonly network: Network
  private readonly pending = new Map<string, Pending>()
  /** The channel state of a refused payment that names one of our channels, by the payload object x402 passes on. */
  private readonly corrective = new WeakMap<object, ChannelStateWire>()
  private readonly maxPending: number

  /**
   * @param payee - the wallet paid (`PaymentChannelManager.x402Payee(policy)`, or a family scheme's `seller`)
   * @param o.maxPending - verified payments kept for settle or refund (default {@link DEFAULT_MAX_PENDING});
   *   past it the oldest is forgotten, keeping its charge (a refund is then lost, never a payment)
   */
  constructor(readonly payee: X402Payee, o: { maxPending?: number } = {}) {
    this.network = payee.network as Network
    this.maxPending = o.maxPending ?? DEFAULT_MAX_PENDING
  }

  /** `{kinds: [{x402Version: 2, scheme: "channel", network}]}`: what `x402ResourceServer.initialize` builds its 402s from. */
  async getSupported(): Promise<SupportedResponse> {
    return { kinds: [{ x402Version: 2, scheme: SCHEME, network: this.network }], extensions: [], signers: {} }
  }

  /**
   * Verifies a payment (hostile input) for one request at `requirements.amount` and commits its
   * voucher and charge before answering `isValid: true`. A refusal writes nothing.
   * @returns `{isValid: true, payer}`, or `{isValid: false, invalidReason, invalidMessage}`: `invalid_payload`,
   *   `unsupported_scheme`, `requirements_mismatch`, `routed_unsupported`, or the family's reason for the voucher
   *   (EVM: `wrong_signer`, `bad_signature`, `unknown_channel`, `wrong_payee`, `above_deposit`, `nonce_too_low`, `amount_too_low`, …)
   * @throws {FacilitatorResponseError} the node is unreachable (x402 answers 502)
   */
  async verify(paymentPayload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
    const read = this.read(paymentPayload, requirements)
    if ('invalidReason' in read) return { isValid: false, ...read }
    const { payload, price } = read
    let accepted
    try {
      // As the paywall: the family reads the payer's echoed entry (x402 matched it to the requirements already).
      accepted = await this.payee.accept(payload, price, read.accepted)
    } catch (err) {
      if (err instanceof VoucherRefusedError) {
        const c = err.corrective
        if (c) this.corrective.set(paymentPayload, channelState(c.channel, payload.voucher.lane, c.last))
        return { isValid: false, invalidReason: err.reason, invalidMessage: err.message }
      }
      if (err instanceof ChannelsError && err.exitCode === ExitCode.networkUnreachable) throw new FacilitatorResponseError(err.shortMessage)
      throw err
    }
    const { channel, charged } = accepted
    const v = payload.voucher
    if (this.pending.size >= this.maxPending) this.pending.delete(this.pending.keys().next().value!)
    this.pending.set(pendingKey(v), {
      channel, price, charged,
      receipt: { channelId: channel.id, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString() },
    })
    return { isValid: true, payer: channel.payer }
  }

  /**
   * After the handler succeeded: the charge made by {@link verify} stands.
   * @returns `{success: true, payer, transaction: "", network, extra: {channelId, lane, nonce, amount, charged}}` (`charged`:
   *   the channel's total charged, base units; plus `reconcile` when the payee asks to merge lanes), or
   *   `success: false` with `errorReason: "unverified_payment"` for a payment {@link verify} did not accept (nothing is charged)
   */
  async settle(paymentPayload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const key = this.keyOf(paymentPayload)
    const p = key === undefined ? undefined : this.pending.get(key)
    if (!p || key === undefined) {
      return { success: false, errorReason: 'unverified_payment', errorMessage: 'This payment was not verified here (or was settled or refunded already).', transaction: '', network: requirements.network }
    }
    this.pending.delete(key)
    const reconcile = this.payee.reconcileRequest?.(p.channel)
    return {
      success: true, payer: p.channel.payer, transaction: '', network: this.network,
      extra: { ...p.receipt, charged: p.charged.toString(), ...(reconcile ? { reconcile } : {}) },
    }
  }

  /**
   * After the handler failed or threw: gives back the price {@link verify} charged (`refundCharge`),
   * once; a payment not pending here (never verified, settled or refunded already) changes nothing.
   * @returns whether a charge was given back
   */
  refund(paymentPayload: PaymentPayload): boolean {
    const key = this.keyOf(paymentPayload)
    const p = key === undefined ? undefined : this.pending.get(key)
    if (!p || key === undefined) return false
    this.pending.delete(key)
    refundCharge(this.payee, p.channel, p.price)
    return true
  }

  /** The channel state for the corrective 402 answering `paymentPayload`, when {@link verify} refused it on one of our channels. */
  channelStateFor(paymentPayload: object): ChannelStateWire | undefined {
    return this.corrective.get(paymentPayload)
  }

  /** The payload and price of a payment for `requirements`, or why it is not one this facilitator judges. */
  private read(paymentPayload: PaymentPayload, requirements: PaymentRequirements): { accepted: ChannelRequirement; payload: ChannelPayload; price: bigint } | Unjudged {
    if (requirements.scheme !== SCHEME || requirements.network !== this.network) {
      return { invalidReason: 'unsupported_scheme', invalidMessage: `This facilitator takes \`${SCHEME}\` on ${this.network}, not \`${requirements.scheme}\` on ${requirements.network}.` }
    }
    let decoded
    try {
      decoded = decodePaymentEnvelope(paymentPayload)
    } catch (err) {
      return { invalidReason: 'invalid_payload', invalidMessage: (err as Error).message }
    }
    const { accepted, payload } = decoded
    let price: bigint
    try {
      price = parseBaseUnits(requirements.amount, 'price')
    } catch (err) {
      return { invalidReason: 'requirements_mismatch', invalidMessage: (err as Error).message }
    }
    if (accepted.network !== requirements.network || accepted.amount !== requirements.amount || accepted.payTo !== requirements.payTo || !this.payee.offers(requirements as never)) {
      return { invalidReason: 'requirements_mismatch', invalidMessage: 'The payment names another network, payee or price than offered.' }
    }
    if (payload.type === 'routed') return { invalidReason: 'routed_unsupported', invalidMessage: 'This facilitator takes no payment through a hub.' }
    return { accepted, payload, price }
  }

  /** The pending key of a payload (the voucher's channel, lane and nonce), if it is a readable voucher payment. */
  private keyOf(paymentPayload: PaymentPayload): string | undefined {
    try {
      const { payload } = decodePaymentEnvelope(paymentPayload)
      return payload.type === 'routed' ? undefined : pendingKey(payload.voucher)
    } catch {
      return undefined
    }
  }
}

function pendingKey(v: { channelId: string; lane: bigint; nonce: bigint }): string {
  return `${v.channelId}:${v.lane}:${v.nonce}`
}
