/**
 * Our `channel` scheme as an x402 server plugin (issue 13 §2, DESIGN §14): the
 * `SchemeNetworkServer` an `x402ResourceServer` (and so an unmodified `@x402/express`
 * `paymentMiddleware`) builds `channel` 402 entries with, beside the local
 * {@link ChannelFacilitator} that judges the payments.
 *
 * - Its 402 entry is the paywall's (`channels serve`): `payTo` this wallet, the asset, and in
 *   `extra` the family's terms (`contract`, `minDeposit`, `minSettleDelay`, `endpoint`).
 * - Payment flow `authorization`: x402 verifies before the handler (the facilitator commits
 *   the voucher and the charge) and settles after it succeeded; when it fails (status ≥ 400) or
 *   throws, x402's `onVerifiedPaymentCanceled` hook gives the price back.
 * - `dynamicExtraFields: ['channelState']`: a corrective 402 adds `extra.channelState` (the
 *   merchant's view of the refused voucher's channel, with the payer's own last voucher), and a
 *   payer echoing it is still matched to the entry.
 *
 * Prices are base units of the payee's asset: `"1000"`, `1000` or `{amount: "1000", asset}`;
 * x402's money strings (`"$0.01"`) name US dollars, which this scheme does not convert.
 */
import type {
  AssetAmount, Network, PaymentFlowConfig, PaymentPayload, PaymentRequirements, Price, SchemeNetworkServer,
  SchemePaymentRequiredContext, SchemeServerHooks,
} from '@x402/core/types'
import { SCHEME, type ChannelRequirement } from '../core/scheme/x402.js'
import { UsageError } from '../core/errors.js'
import { parseBaseUnits } from '../core/units.js'
import type { ChannelFacilitator } from './facilitator.js'

/** How a {@link ChannelSchemeServer} describes its entries. */
export interface ChannelServerOptions {
  /**
   * `extra.endpoint`: where this merchant's channel endpoint is (voucher delivery, cooperative
   * close; absolute URL or path). Default `/.well-known/channels`, as `channels serve`.
   */
  endpoint?: string
}

/**
 * The `channel` scheme for `x402ResourceServer.register(network, scheme)`, paired with the
 * facilitator the resource server was made with: see the module's comment.
 * @example
 * const server = new x402ResourceServer(facilitator).register(facilitator.network, new ChannelSchemeServer(facilitator))
 */
export class ChannelSchemeServer implements SchemeNetworkServer {
  readonly scheme = SCHEME
  /** The scheme has one way to move funds (a voucher), x402's plumbing name for it. */
  readonly defaultAssetTransferMethod = 'default'
  readonly paymentFlows: Readonly<Record<string, PaymentFlowConfig>> = { default: { supported: ['authorization'], default: 'authorization' } }
  readonly dynamicExtraFields = ['channelState']
  readonly schemeHooks: SchemeServerHooks

  constructor(readonly facilitator: ChannelFacilitator, readonly options: ChannelServerOptions = {}) {
    this.schemeHooks = {
      // The handler failed or threw after verify committed the charge: give the price back (once).
      onVerifiedPaymentCanceled: async (ctx) => void this.facilitator.refund(ctx.paymentPayload as PaymentPayload),
    }
  }

  /** The CAIP-2 network of the payee (`x402ResourceServer.register`'s first argument). */
  get network(): Network {
    return this.facilitator.network
  }

  /**
   * A route's price as the scheme's amount and asset.
   * @param price - base units of the payee's asset: a decimal string, a safe integer, or `{amount, asset}` naming that asset
   * @returns `{amount, asset}`: a decimal string of base units and the payee's asset (EVM: the zero address for the native coin)
   * @throws {UsageError} another network or asset, a money string (`"$0.01"`), or not a whole number of base units
   * @example await scheme.parsePrice('1000', 'eip155:31337') // { amount: '1000', asset: '0x0000000000000000000000000000000000000000' }
   */
  async parsePrice(price: Price, network: Network): Promise<AssetAmount> {
    if (network !== this.network) throw new UsageError(`This channel scheme is paid on ${this.network}, not ${network}.`)
    const asset = this.offer(0n).asset
    if (typeof price === 'object' && price !== null) {
      if (price.asset.toLowerCase() !== asset.toLowerCase()) throw new UsageError(`This channel scheme is paid in ${asset}, not ${price.asset}.`)
      return { amount: parseBaseUnits(price.amount, 'price').toString(), asset }
    }
    if (typeof price === 'number' && !Number.isSafeInteger(price)) throw new UsageError(`Invalid price ${price}: a whole number of base units (below 2^53; larger as a string).`)
    const text = String(price)
    if (!/^\d+$/.test(text)) {
      throw new UsageError(`Invalid price "${text}": the channel scheme's price is a whole number of base units of ${asset} ("1000" or {amount: "1000", asset}); money strings such as "$0.01" are US dollars, which it does not convert.`)
    }
    return { amount: parseBaseUnits(text, 'price').toString(), asset }
  }

  /**
   * The entry offered for one request: the route's amount, `payTo` this wallet (a vacant `payTo` is
   * filled in), the payee's asset, and the family's terms in `extra` (over the route's own `extra`).
   * @throws {UsageError} a `payTo` or asset the payee does not take (its payments could not be accepted)
   */
  async enhancePaymentRequirements(paymentRequirements: PaymentRequirements): Promise<PaymentRequirements> {
    const offer = this.offer(parseBaseUnits(paymentRequirements.amount, 'price'))
    const payTo = paymentRequirements.payTo?.trim() ?? ''
    if (payTo !== '' && payTo.toLowerCase() !== offer.payTo.toLowerCase()) {
      throw new UsageError(`The route pays ${payTo}, but this channel scheme's wallet is ${offer.payTo}: set payTo to it (or leave it empty).`)
    }
    if (paymentRequirements.asset && paymentRequirements.asset.toLowerCase() !== offer.asset.toLowerCase()) {
      throw new UsageError(`The route is priced in ${paymentRequirements.asset}, but this channel scheme's wallet takes ${offer.asset}.`)
    }
    return { ...paymentRequirements, payTo: offer.payTo, asset: offer.asset, extra: { ...paymentRequirements.extra, ...offer.extra } }
  }

  /**
   * A 402 answering a refused payment: `extra.channelState` on our entries when the facilitator
   * refused a voucher on one of our channels (the corrective 402 of DESIGN §6 point 4).
   */
  async enrichPaymentRequiredResponse(ctx: SchemePaymentRequiredContext): Promise<PaymentRequirements[] | void> {
    const state = ctx.paymentPayload && this.facilitator.channelStateFor(ctx.paymentPayload)
    if (!state) return
    return ctx.requirements.map((r) => (r.scheme === SCHEME && r.network === this.network ? { ...r, extra: { ...r.extra, channelState: state } } : r))
  }

  /** The payee's entry for `price` (base units), with this server's endpoint. */
  private offer(price: bigint): ChannelRequirement {
    return this.facilitator.payee.requirement(price, this.options.endpoint ? { endpoint: this.options.endpoint } : {})
  }
}
