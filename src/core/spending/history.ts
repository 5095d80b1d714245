/**
 * The record of spending (issue 13 §3): every paid request `buy` makes is recorded in the
 * transaction of its voucher, after the budgets it falls under were checked in that same
 * transaction (budget.ts), then updated with the merchant's answer; `channels history` lists them
 * with totals per origin. Amounts are bigint base units; times are unix seconds.
 */
import { UsageError } from '../errors.js'
import type { Asset } from '../asset.js'
import type { ExactAuthorization, Purchase, PurchaseScheme, PurchaseStatus, Store } from '../store/index.js'
import { checkBudgets, parseOrigin } from './budget.js'

export type { Purchase, PurchaseStatus, ExactAuthorization }

/** Seconds per unit of a `--since` duration. */
const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 }

/**
 * `--since` as typed: a duration back from `now` (`90s`, `30m`, `24h`, `7d`, `2w`) or an ISO 8601
 * date or date-time (`2026-11-30`, midnight UTC; `2026-11-30T12:00:00Z`).
 * @param now - unix seconds
 * @returns the unix time (seconds) from which purchases are listed
 * @throws {UsageError} anything else (exit 2)
 * @example parseSince('24h', 1_700_086_400) // 1_700_000_000
 * @example parseSince('2023-11-14T22:13:20Z', 0) // 1_700_000_000
 */
export function parseSince(text: string, now: number): number {
  const d = /^(\d{1,9})\s*([smhdw])$/.exec(text.trim())
  if (d) return now - Number(d[1]) * DURATION_UNITS[d[2]]
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/
  const t = iso.test(text.trim()) ? Date.parse(text.trim()) : NaN
  if (Number.isNaN(t)) {
    throw new UsageError(`Invalid --since "${text}".`, { metaMessages: ['Use a duration back from now (30m, 24h, 7d, 2w) or an ISO date (2026-11-30, 2026-11-30T12:00:00Z).'] })
  }
  return Math.floor(t / 1000)
}

/** A purchase's voucher, as the family committed it. */
export interface PurchaseVoucher {
  channelId: string
  lane: bigint
  nonce: bigint
}

/**
 * The spending of one `buy` at one price: checks the budgets before anything is opened or paid,
 * records the purchase in its voucher's transaction (checking them again there, atomically), and
 * records the merchant's answer. `buy` (transports/http402/client.ts) makes one per paid URL.
 */
export class SpendingLedger {
  readonly origin: string
  /** What each purchase this ledger recorded counts once answered: its fee and hub (the price is `p.price`). */
  private readonly recorded = new Map<number, { fee: bigint; hub?: string; scheme: PurchaseScheme }>()

  /**
   * @param p.asset - what the price counts (the 402 entry's asset), `p.assetAddress` its name in the entry
   * @param p.price - the merchant's price per request, base units
   */
  constructor(readonly store: Store, readonly p: { network: string; asset: Asset; assetAddress: string; url: URL; price: bigint }) {
    this.origin = p.url.origin
  }

  /**
   * Before opening a channel or paying a hub: refuses a purchase of price + `fee` that a budget
   * would refuse now. Not atomic ({@link record} is): it spares a channel opened for nothing.
   * @throws {BudgetExceededError}
   */
  check(fee = 0n): void {
    checkBudgets(this.store, { asset: this.p.asset, origin: this.origin, cost: this.p.price + fee })
  }

  /**
   * Inside the voucher's write transaction, after its insert (a family's `createVoucher` `onCommit`):
   * checks the budgets and records the purchase as `pending`; a throw rolls the voucher back.
   * @param via - through a hub: its URL and fee (base units), which counts with the price
   * @returns the purchase's id
   * @throws {BudgetExceededError} (nothing is stored)
   */
  record(v: PurchaseVoucher, via?: { hub: string; fee: bigint }): number {
    const fee = via?.fee ?? 0n
    const now = Math.floor(Date.now() / 1000)
    checkBudgets(this.store, { asset: this.p.asset, origin: this.origin, cost: this.p.price + fee, now })
    const id = this.store.purchases.insert({
      network: this.p.network, asset: this.p.assetAddress, assetId: this.p.asset.id, url: this.p.url.href, origin: this.origin, scheme: 'channel',
      ...(via ? { hub: via.hub } : {}), price: this.p.price, fee, spent: this.p.price + fee, channelId: v.channelId, lane: v.lane, nonce: v.nonce, createdAt: now,
    })
    this.recorded.set(id, { fee, hub: via?.hub, scheme: 'channel' })
    return id
  }

  /**
   * An x402 `exact` purchase (issue 13 §2): before its signed authorization leaves the process, checks the
   * budgets and records it as `pending`, scheme `exact`, no channel, in one write transaction (`BEGIN
   * IMMEDIATE`), so two processes cannot both pass a limit.
   * @param a - the EIP-3009 authorization signed (its `value` is the price)
   * @returns the purchase's id
   * @throws {BudgetExceededError} (nothing is stored)
   * @example ledger.recordExact({ from: '0xf39F…', to: '0x7099…', value: '1000', validAfter: '0', validBefore: '1764521400', nonce: '0x5c…' }) // 7
   */
  recordExact(a: ExactAuthorization): number {
    return this.store.immediate(() => {
      const now = Math.floor(Date.now() / 1000)
      checkBudgets(this.store, { asset: this.p.asset, origin: this.origin, cost: this.p.price, now })
      const id = this.store.purchases.insert({
        network: this.p.network, asset: this.p.assetAddress, assetId: this.p.asset.id, url: this.p.url.href, origin: this.origin, scheme: 'exact',
        price: this.p.price, fee: 0n, spent: this.p.price, authorization: a, createdAt: now,
      })
      this.recorded.set(id, { fee: 0n, scheme: 'exact' })
      return id
    })
  }

  /**
   * The merchant's answer to purchase `id`, and what counts from then on ({@link spentAfter}).
   * Bookkeeping (`Store.relaxed`): a row a power cut leaves `pending` counts, never less.
   * @param a.receipt - the decoded PAYMENT-RESPONSE, when there was one
   * @param a.unpaid - nothing left the wallet: a hub refused the payment before the merchant was paid (counts 0)
   */
  answer(id: number, a: { status: Exclude<PurchaseStatus, 'pending'>; receipt?: unknown; error?: string; unpaid?: boolean }): void {
    const p = this.recorded.get(id)
    if (!p) return
    const { unpaid, ...answer } = a
    this.store.relaxed(() => this.store.purchases.answer(id, { ...answer, spent: unpaid ? 0n : spentAfter({ price: this.p.price, ...p }, a.status) }))
  }
}

/**
 * What a purchase counts against budgets once the merchant answered `status`, base units:
 * - paid (or no answer yet): price + fee;
 * - a direct purchase not charged (its receipt says so) or refused (a 402): 0, since its voucher's
 *   credit pays the next request on the channel (`buy`'s next voucher is max(previous, charged + price)),
 *   which counts then;
 * - through a hub, not charged: the fee only — the hub earned it, while the merchant keeps the price as
 *   an unused payment whose proof (the secret `buy --json` printed) buys one more request;
 * - through a hub, refused by the merchant: price + fee, paid through the hub all the same (refused by the hub
 *   itself, nothing was paid: {@link SpendingLedger.answer}'s `unpaid`);
 * - scheme `exact`: the price, whatever the answer: the merchant holds a signed authorization it can redeem
 *   until its `validBefore` (x402's `maxTimeoutSeconds` after signing), served or not, and no later request
 *   re-spends it.
 * @example spentAfter({ price: 1000n, fee: 11n, hub: 'http://hub' }, 'not_charged') // 11n
 * @example spentAfter({ price: 1000n, fee: 0n, scheme: 'exact' }, 'refused') // 1000n
 */
export function spentAfter(p: Pick<Purchase, 'price' | 'fee' | 'hub'> & { scheme?: PurchaseScheme }, status: PurchaseStatus): bigint {
  if (status === 'pending' || status === 'paid' || p.scheme === 'exact') return p.price + p.fee
  if (p.hub === undefined) return 0n
  return status === 'not_charged' ? p.fee : p.price + p.fee
}

/** Totals of one origin in one asset, base units. */
export interface OriginTotal {
  origin: string
  asset: string
  assetId: string
  /** What counts against budgets. */
  spent: bigint
  /** Purchases listed. */
  count: number
}

/**
 * `channels history`: the purchases on `network`, newest first, from `origin` (parsed as a budget's,
 * without `*`) and since `since` ({@link parseSince}), with totals per origin and asset.
 * @throws {UsageError} a bad origin or `since`
 * @example purchaseHistory(store, { network: 'eip155:1', since: '24h' })
 * // { purchases: [{ url: 'https://shop.example/joke', status: 'paid', spent: 1000n, … }], totals: [{ origin: 'https://shop.example', spent: 1000n, count: 1, … }] }
 */
export function purchaseHistory(store: Store, f: { network: string; origin?: string; since?: string; now?: number }): { purchases: Purchase[]; totals: OriginTotal[] } {
  const now = f.now ?? Math.floor(Date.now() / 1000)
  const origin = f.origin === undefined ? undefined : parseOrigin(f.origin, { all: false })
  const since = f.since === undefined ? undefined : parseSince(f.since, now)
  const purchases = store.purchases.list({ network: f.network, origin, since })
  const totals = new Map<string, OriginTotal>()
  for (const p of purchases) {
    const key = `${p.origin} ${p.assetId}`
    const t = totals.get(key) ?? { origin: p.origin, asset: p.asset, assetId: p.assetId, spent: 0n, count: 0 }
    t.spent += p.spent
    t.count++
    totals.set(key, t)
  }
  return { purchases, totals: [...totals.values()].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0)) }
}
