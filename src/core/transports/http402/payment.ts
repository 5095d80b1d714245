/**
 * One payment over a channel, as the buyer makes it (DESIGN §6): the rules `channels buy`
 * (client.ts) and the x402 client plugin (src/x402, issue 13 §2) share, so that both pay
 * alike. The HTTP exchange, progress and budgets stay with each caller.
 *
 * - An entry is paid only when the family accepts it and its price is within the caller's limit.
 * - A channel opened for it gets `max(minDeposit, deposit or depositRequests × price)`.
 * - The next voucher's cumulative amount is `max(previous amount, charged + price)`, where
 *   `charged` is what the merchant last reported it charged: credit left by a request it did not
 *   charge (its handler failed) pays for the next one. It is committed before it is sent.
 * - A receipt's `charged` is recorded for the voucher it answers; a corrective 402 is believed
 *   only for a voucher this wallet itself signed ({@link resync}).
 *
 * Amounts are bigint base units (wei, token base units, satoshis).
 */
import type { ChannelRecord, VoucherRecord } from '../../store/index.js'
import type { X402Payer } from '../../scheme/buyer.js'
import type { ChannelPayload, ChannelRequirement, ChannelStateWire } from '../../scheme/x402.js'
import { PaymentRefusedError, PriceTooHighError } from '../../errors.js'
import { formatAmount, parseBaseUnits } from '../../units.js'
import { adoptionConflict } from '../../channel/acknowledge.js'
import { DEFAULT_ENDPOINT_PATH, type PaymentResponse } from './protocol.js'

/** Requests a default deposit pays for at the 402's price (config `buy.depositRequests`). */
export const DEFAULT_DEPOSIT_REQUESTS = 1000n

/**
 * Checks an entry this wallet is about to pay, before anything is opened or stored: its price
 * against `maxPrice`, then the family's own checks (which normalize `entry.payTo` in place).
 * @param maxPrice - highest price paid for one request, base units
 * @param limitName - how the limit is named in the refusal (default `--max-price`)
 * @returns the price, base units
 * @throws {PriceTooHighError} above `maxPrice` (exit 3) · {PaymentRefusedError} an entry the family cannot pay · {UsageError} an unreadable amount
 * @example acceptEntry(payer, { ...entry, amount: '1000' }, 5000n) // 1000n
 */
export function acceptEntry(payer: X402Payer, entry: ChannelRequirement, maxPrice: bigint, limitName = '--max-price'): bigint {
  const price = parseBaseUnits(entry.amount, 'price')
  if (price > maxPrice) {
    const show = (x: bigint) => formatAmount(x, payer.asset(entry.asset))
    throw new PriceTooHighError(`The price ${show(price)} is above ${limitName} ${show(maxPrice)}.`, {
      data: { price: price.toString(), maxPrice: maxPrice.toString() },
      metaMessages: [`Raise ${limitName} to pay it.`],
    })
  }
  payer.checkEntry(entry)
  return price
}

/**
 * The merchant's channel endpoint: `extra.endpoint` (default `/.well-known/channels`) resolved against `base`.
 * @param base - the URL bought (buy), or the resource's URL as the 402 names it (x402 plugin)
 * @returns an absolute http(s) URL
 * @throws {PaymentRefusedError} not an http(s) URL (nothing is opened)
 */
export function endpointOf(entry: ChannelRequirement, base: URL | string | undefined): string {
  let u: URL | undefined
  try {
    u = new URL(entry.extra.endpoint || DEFAULT_ENDPOINT_PATH, base)
  } catch {
    /* refused below */
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new PaymentRefusedError(`The merchant's channel endpoint "${entry.extra.endpoint}" is not a URL.`)
  }
  return u.href
}

/** How a channel opened for a purchase is funded. Base units. */
export interface DepositOptions {
  /** Deposit asked for (raised to the merchant's `minDeposit`). Undefined: `depositRequests × price` (Bitcoin: plus the close fee). */
  deposit?: bigint
  /** Requests a default deposit pays for (default {@link DEFAULT_DEPOSIT_REQUESTS}). */
  depositRequests?: bigint
}

/**
 * The deposit of a channel opened to pay `entry` at `price`: `max(minDeposit, deposit)`, the
 * deposit defaulting to the family's `defaultDeposit` for `depositRequests` requests.
 * @returns the deposit (base units) and where it came from: `given` (`o.deposit`), `requests` or `minimum` (the merchant's)
 * @throws {UsageError} an unreadable `minDeposit`
 */
export async function channelDeposit(payer: X402Payer, entry: ChannelRequirement, price: bigint, o: DepositOptions): Promise<{ deposit: bigint; basis: 'given' | 'requests' | 'minimum'; requests: bigint }> {
  const minDeposit = parseBaseUnits(entry.extra.minDeposit ?? '0', 'minDeposit')
  const requests = o.depositRequests ?? DEFAULT_DEPOSIT_REQUESTS
  const wanted = o.deposit ?? (await payer.defaultDeposit(entry, price, requests))
  const deposit = wanted > minDeposit ? wanted : minDeposit
  return { deposit, basis: o.deposit !== undefined ? 'given' : wanted >= minDeposit ? 'requests' : 'minimum', requests }
}

/**
 * The next voucher's cumulative amount for one request at `price` (base units), given the
 * previous voucher's amount and what the merchant last reported it charged: credit left by a
 * request the merchant did not charge pays for the next one.
 * @example nextAmount(1000n)(3000n, 2000n) // 3000n (the credit of an uncharged request) · nextAmount(1000n)(3000n, 3000n) // 4000n
 */
export function nextAmount(price: bigint): (previous: bigint, charged: bigint) => bigint {
  return (prev, charged) => (prev > charged + price ? prev : charged + price)
}

/**
 * The `PAYMENT-SIGNATURE` payload for a committed voucher on `c`: the first voucher of a channel
 * announces it (`open`; the paywall treats both alike), with the family's extra fields (Bitcoin: deposit and script).
 */
export function channelPayload(payer: X402Payer, c: ChannelRecord, voucher: VoucherRecord): ChannelPayload {
  const type = voucher.lane === 0n && voucher.nonce === 1n ? 'open' : 'voucher'
  return { type, channelId: c.id, voucher, ...payer.announce(c, voucher) }
}

/**
 * Records what a receipt (`PAYMENT-RESPONSE`, hostile wire input) says of a voucher this wallet
 * sent on `c`: the merchant's `charged`; in-band reconciliation when it asks for it; the channel
 * bound to the merchant's `endpoint` (for sync and close) if it was not yet.
 * @param say - progress lines
 */
export async function applyReceipt(payer: X402Payer, c: ChannelRecord, voucher: VoucherRecord, receipt: PaymentResponse, endpoint: string | undefined, say: (s: string) => void): Promise<void> {
  const charged = receiptCharged(receipt)
  if (charged !== undefined) payer.acknowledge(c, voucher, charged)
  // In-band reconciliation: the merged voucher goes with the next payment (it never fails this one).
  const reconcile = receipt.extra && 'reconcile' in receipt.extra ? receipt.extra.reconcile : undefined
  if (reconcile && payer.reconcile) say(`The merchant asks to merge lanes: ${await payer.reconcile(c, reconcile)}.`)
  if (!c.endpoint && endpoint) {
    payer.store.channels.update(c.network, c.id, { endpoint })
    say(`Bound channel ${c.id} to the merchant's endpoint ${endpoint} (for sync and close).`)
  }
}

/** The receipt's `charged`, base units, or undefined when it has none that parses. */
function receiptCharged(r: PaymentResponse): bigint | undefined {
  try {
    return parseBaseUnits(r.extra?.charged ?? '0', 'charged')
  } catch {
    return undefined
  }
}

/**
 * Applies a corrective 402: accepts the merchant's `charged` and last voucher only if
 * that voucher is one this wallet signed (for this channel, chain and contract, on the
 * lane just paid) and fits the lane's history ({@link adoptionConflict}).
 * @param mine - the voucher the merchant refused
 * @param state - `extra.channelState` of the 402 (hostile wire input)
 * @returns undefined when something changed (so a retry can succeed), else why not
 */
export function resync(payer: X402Payer, c: ChannelRecord, mine: VoucherRecord, state: ChannelStateWire): string | undefined {
  let charged: bigint
  try {
    charged = parseBaseUnits(state.charged, 'charged')
  } catch {
    return 'its channel state has an unreadable `charged`'
  }
  if (!state.voucher) return 'its channel state carries no voucher'
  let theirs
  try {
    theirs = payer.fromWire(state.voucher)
  } catch (err) {
    return `its channel state carries an unreadable voucher (${(err as Error).message})`
  }
  if (!payer.signedByPayer(c, theirs)) return 'its channel state carries a voucher this wallet did not sign for this channel'
  if (theirs.lane !== mine.lane) return `its channel state is about lane ${theirs.lane}, not ${mine.lane}`
  // The merchant's `charged` is believed only as far as a voucher this wallet signed
  // authorizes it; its nonce may be below ours (we crashed after it was served, before
  // the receipt) or above (our database was restored from an older copy).
  if (charged > theirs.amount) return `it claims ${charged} charged, more than its voucher's ${theirs.amount}`
  const conflict = adoptionConflict(payer.store, c, theirs)
  if (conflict) return `its voucher ${theirs.nonce} is not adopted: ${conflict}`
  return payer.acknowledge(c, theirs, charged) ? undefined : 'its channel state changes nothing here'
}
