/**
 * Our `channel` scheme as an x402 client plugin (issue 13 §2, DESIGN §14): a
 * `SchemeNetworkClient` that `@x402/core`'s `x402Client` (and so an unmodified
 * `@x402/fetch` `wrapFetchWithPayment` or `@x402/axios`) pays `channel` 402s with, over
 * this wallet's channels, by the rules of `channels buy` (core/transports/http402/payment.ts):
 *
 * - the voucher is committed to the wallet's SQLite database before it leaves;
 * - its cumulative amount is `max(previous, charged + price)`, `charged` being what the
 *   merchant last reported (credit left by a request it did not charge pays the next one);
 * - a channel is opened only with `autoOpen` (deposit `max(minDeposit, deposit ??
 *   depositRequests × price)`), and again once when the channel cannot pay one more request;
 * - a receipt (`PAYMENT-RESPONSE`) records the merchant's `charged`; a corrective 402
 *   (`extra.channelState`) reaches the scheme's `onPaymentResponse` hook, which adopts the
 *   merchant's state only for a voucher this wallet signed ({@link resync}) and then asks the
 *   transport to retry (`{recovered: true}`: `wrapFetchWithPayment` retries once with a fresh payload).
 *
 * The chain family is reached only through its {@link X402Payer} (core/scheme/buyer.ts).
 * Not done here, unlike `buy`: budgets and the spending history (the scheme is not told the
 * URL requested, only the resource URL the 402 claims), payments through a hub, and families whose
 * `accepted` entry differs from the one offered (Bitcoin: a payee key per channel).
 */
import type { PaymentPayloadContext, PaymentPayloadResult, PaymentRequirements, SchemeClientHooks, SchemeNetworkClient } from '@x402/core/types'
import type { PaymentResponseContext } from '@x402/core/client'
import type { ChannelRecord, VoucherRecord } from '../core/store/index.js'
import type { X402Payer } from '../core/scheme/buyer.js'
import { SCHEME, type ChannelRequirement, type ChannelStateWire } from '../core/scheme/x402.js'
import { InsufficientFundsError, PaymentRefusedError, PriceTooHighError } from '../core/errors.js'
import { formatAmount } from '../core/units.js'
import { payloadToWire, type PaymentResponse } from '../core/transports/http402/protocol.js'
import { acceptEntry, applyReceipt, channelDeposit, channelPayload, endpointOf, nextAmount, resync } from '../core/transports/http402/payment.js'

/** How a {@link ChannelSchemeClient} pays. Amounts in base units of the entry's asset (wei, token base units). */
export interface ChannelClientOptions {
  /** Highest price paid for one request (`buy --max-price`), base units of `asset`; x402's spend controls may lower it further. */
  maxPrice: bigint
  /**
   * What `maxPrice` and `deposit` count, as a 402 entry's `asset` names it (EVM: an ERC-20 token's address);
   * default the network's native coin. An entry in another asset is refused (PriceTooHighError), as `buy` does.
   */
  asset?: string
  /** Open a channel when none can pay (`buy --yes`). Default false: such a 402 is refused with InsufficientFundsError. */
  autoOpen?: boolean
  /** Deposit of a channel opened here (raised to the merchant's `minDeposit`). Default: `depositRequests × price`. */
  deposit?: bigint
  /** Requests a default deposit pays for (default 1000, as `buy.depositRequests`). */
  depositRequests?: bigint
  /** Progress lines (channel opening, resynchronization). */
  onProgress?: (line: string) => void
}

/** What the client sent, to read its answer by: the voucher and the channel it was on. */
interface Sent {
  network: string
  channelId: string
  voucher: VoucherRecord
  endpoint?: string
}

/** Payments whose answer is still awaited, at most this many (the oldest is forgotten first). */
const MAX_SENT = 1000

/**
 * The `channel` scheme for `x402Client.register(network, scheme)`: see the module's comment.
 * @example
 * const client = new x402Client().register('eip155:31337', new ChannelSchemeClient(await pcm.x402Payer(), { maxPrice: 5000n, autoOpen: true }))
 */
export class ChannelSchemeClient implements SchemeNetworkClient {
  readonly scheme = SCHEME
  readonly schemeHooks: SchemeClientHooks
  /** The resource URL each 402 names, by the requirements object x402 then hands to createPaymentPayload. */
  private readonly resources = new WeakMap<object, string>()
  private readonly sent = new Map<string, Sent>()
  /** Opening is one at a time, so two payments at once do not open two channels to one merchant. */
  private opening: Promise<unknown> = Promise.resolve()

  constructor(readonly payer: X402Payer, readonly options: ChannelClientOptions) {
    this.schemeHooks = {
      onBeforePaymentCreation: async (ctx) => {
        const url = ctx.paymentRequired.resource?.url
        if (typeof url === 'string') this.resources.set(ctx.selectedRequirements, url)
      },
      onPaymentResponse: (ctx) => this.answered(ctx),
    }
  }

  /** The CAIP-2 network this scheme pays on (`x402Client.register`'s first argument). */
  get network(): `${string}:${string}` {
    return this.payer.network.caip2 as `${string}:${string}`
  }

  /**
   * Pays one request of `requirements` (hostile: the merchant's 402 entry) with a voucher committed before it returns.
   * @param context.maxAmountPerPayment - x402's spend cap (base units), applied on top of `maxPrice`
   * @returns `{x402Version: 2, payload: {type: "open" | "voucher", channelId, voucher}}` (the voucher's wire form)
   * @throws {PriceTooHighError} above `maxPrice` or the spend cap, or in another asset than `asset` · {PaymentRefusedError} an entry this wallet cannot pay ·
   *   {InsufficientFundsError} no channel can pay and `autoOpen` is off, or the wallet cannot fund one · {NetworkError}
   */
  async createPaymentPayload(x402Version: number, requirements: PaymentRequirements, context?: PaymentPayloadContext): Promise<PaymentPayloadResult> {
    const payer = this.payer
    if (x402Version !== 2) throw new PaymentRefusedError(`The channel scheme pays x402 version 2 only, not ${x402Version}.`)
    if (requirements.scheme !== SCHEME || requirements.network !== payer.network.caip2) {
      throw new PaymentRefusedError(`This scheme pays \`${SCHEME}\` on ${payer.network.caip2}, not \`${requirements.scheme}\` on ${requirements.network}.`)
    }
    if (!requirements.extra || typeof requirements.extra !== 'object') throw new PaymentRefusedError('The merchant\'s `channel` entry has no `extra`.')
    // checkEntry normalizes payTo in place: a copy, so that x402 echoes the entry as the merchant sent it.
    const entry = structuredClone(requirements) as unknown as ChannelRequirement
    const spendCap = context?.maxAmountPerPayment !== undefined && /^\d+$/.test(context.maxAmountPerPayment) ? BigInt(context.maxAmountPerPayment) : undefined
    const limit = spendCap !== undefined && spendCap < this.options.maxPrice ? spendCap : this.options.maxPrice
    const counted = payer.asset(this.options.asset)
    let charged
    try {
      charged = payer.asset(entry.asset)
    } catch {
      throw new PaymentRefusedError(`The merchant's 402 names an asset this wallet cannot read on ${payer.network.caip2}: ${entry.asset}.`)
    }
    if (charged.id.toLowerCase() !== counted.id.toLowerCase()) {
      throw new PriceTooHighError(`The merchant charges in ${charged.symbol ?? charged.id}; maxPrice counts ${counted.symbol ?? counted.id}.`, {
        data: { assets: [charged.id], maxPriceAsset: counted.id },
      })
    }
    const price = acceptEntry(payer, entry, limit, spendCap !== undefined && spendCap < this.options.maxPrice ? 'the spend cap' : 'maxPrice')
    let endpoint: string | undefined
    try {
      endpoint = endpointOf(entry, this.resources.get(requirements))
    } catch {
      endpoint = undefined // a relative endpoint and no resource URL: needed only to open a channel
    }

    let opened = false
    const open = async (why: string): Promise<ChannelRecord> => {
      opened = true
      if (!this.options.autoOpen) {
        throw new InsufficientFundsError(`No open channel to ${entry.payTo} can pay ${this.show(entry, price)}.`, price, {
          metaMessages: ['Pass autoOpen: true to open one (deposit: the `deposit` option), or open it with `channels open`.'],
        })
      }
      if (!endpoint) throw new PaymentRefusedError(`The merchant's channel endpoint "${entry.extra.endpoint}" is not a URL, and its 402 names no resource URL to resolve it against.`)
      const { deposit } = await channelDeposit(payer, entry, price, this.options)
      this.say(`${why}; opening a channel to ${entry.payTo} with a deposit of ${this.show(entry, deposit)}…`)
      const c = await payer.open(entry, deposit, endpoint, (tx) => this.say(`Open transaction ${tx} sent; ${payer.openWait}…`), this.options.onProgress)
      this.say(`Channel ${c.id} is open.`)
      return c
    }
    let channel = payer.payable(entry, price, endpoint ?? '')
    if (!channel) {
      // One opening at a time; a payment that waited for another may find its channel.
      const turn = this.opening.then(async () => payer.payable(entry, price, endpoint ?? '') ?? open(`No channel to ${entry.payTo} can pay ${this.show(entry, price)}`))
      this.opening = turn.catch(() => undefined)
      channel = await turn
    }
    let voucher: VoucherRecord
    try {
      voucher = await payer.createVoucher(channel, nextAmount(price))
    } catch (err) {
      // The channel cannot cover one more request: open a fresh one if allowed (once).
      if (!(err instanceof InsufficientFundsError) || opened || !this.options.autoOpen) throw err
      channel = await open(`Channel ${channel.id} cannot pay ${this.show(entry, price)} more`)
      voucher = await payer.createVoucher(channel, nextAmount(price))
    }
    this.remember({ network: channel.network, channelId: channel.id, voucher, endpoint })
    return { x402Version: 2, payload: payloadToWire(channelPayload(payer, channel, voucher)) }
  }

  /**
   * The merchant's answer to a payment (x402's `onPaymentResponse`, hostile input): a receipt
   * records its `charged`; a 402 with `extra.channelState` about the channel paid on is a
   * corrective one, adopted only for a voucher this wallet signed, and then the request is
   * retried (`{recovered: true}`); a 402 on a channel the merchant closed on chain is retried
   * on a new channel when `autoOpen` allows.
   */
  private async answered(ctx: PaymentResponseContext): Promise<void | { recovered: true }> {
    const sent = this.take(ctx.paymentPayload.payload)
    if (!sent) return
    const payer = this.payer
    const channel = payer.store.channels.get(sent.network, sent.channelId)
    if (!channel) return
    if (ctx.settleResponse) {
      await applyReceipt(payer, channel, sent.voucher, ctx.settleResponse as unknown as PaymentResponse, sent.endpoint, (s) => this.say(s))
      return
    }
    if (!ctx.paymentRequired) return
    const entry = ctx.paymentRequired.accepts?.find((a) => a.scheme === SCHEME && a.network === payer.network.caip2)
    const state = entry?.extra?.channelState as ChannelStateWire | undefined
    if (state && typeof state === 'object' && state.channelId === channel.id) {
      const notResynced = resync(payer, channel, sent.voucher, state)
      if (notResynced === undefined) {
        this.say(`The merchant's records differ (it reports ${String(state.charged)} charged); retrying from its last voucher, which this wallet signed.`)
        return { recovered: true }
      }
      this.say(`The merchant sent its view of channel ${channel.id}, which was not used: ${notResynced}.`)
    }
    // A merchant's redemption service closes channels it finds worth redeeming: pay on a new one.
    if (this.options.autoOpen && payer.stillOpen && !(await payer.stillOpen(channel))) {
      this.say(`Channel ${channel.id} was closed on chain (by the merchant); retrying on a new channel.`)
      return { recovered: true }
    }
  }

  private remember(s: Sent): void {
    if (this.sent.size >= MAX_SENT) this.sent.delete(this.sent.keys().next().value!)
    this.sent.set(sentKey(s.channelId, s.voucher.lane, s.voucher.nonce), s)
  }

  /** The payment a payload (as this client made it) carried, forgotten once its answer is read. */
  private take(payload: Record<string, unknown>): Sent | undefined {
    const v = payload?.voucher as { channelId?: unknown; lane?: unknown; nonce?: unknown } | undefined
    if (!v || typeof v.channelId !== 'string') return undefined
    const key = sentKey(v.channelId, v.lane, v.nonce)
    const s = this.sent.get(key)
    this.sent.delete(key)
    return s
  }

  private show(entry: ChannelRequirement, x: bigint): string {
    return formatAmount(x, this.payer.asset(entry.asset))
  }

  private say(line: string): void {
    this.options.onProgress?.(line)
  }
}

function sentKey(channelId: string, lane: unknown, nonce: unknown): string {
  return `${channelId.toLowerCase()}:${String(lane)}:${String(nonce)}`
}
