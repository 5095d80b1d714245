/**
 * Budgets (issue 13 §3: "users of 402 wallets ask above all for spend limits"): a limit on what
 * `buy` spends on one origin, or on every origin together (`*`), in one asset of one network,
 * over a rolling window — `day` (the last 24 h), `week` (the last 7 days) or `total` (ever).
 *
 * What counts is the record of spending (store/purchases.ts): each paid request's price, plus
 * the hub's fee when paid through a hub, unless the merchant's receipt says a direct purchase
 * was not charged or the merchant refused it (then its voucher's credit pays the next request on
 * the channel, which counts then). A purchase whose answer never came counts: the merchant may
 * have served it.
 *
 * The check runs inside the write transaction that allocates the purchase's voucher nonce and
 * records the purchase (`BEGIN IMMEDIATE`, DESIGN §7), so two processes buying at once cannot
 * both pass a limit. Amounts are bigint base units; times are unix seconds.
 */
import { ChannelsError, ExitCode, NotFoundError, UsageError } from '../errors.js'
import { formatAmount } from '../units.js'
import type { Asset } from '../asset.js'
import type { Budget, BudgetPeriod, Store } from '../store/index.js'

export type { Budget, BudgetPeriod }

/** The periods of a budget, for flags and checks. */
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'total']

/** Seconds in a rolling window; `total` has none. */
export const PERIOD_SECONDS: Readonly<Record<Exclude<BudgetPeriod, 'total'>, number>> = { day: 86_400, week: 7 * 86_400 }

/** The origin of a global budget: every origin together. */
export const ALL_ORIGINS = '*'

/**
 * Where a budget's window starts: purchases made strictly after this unix time (seconds) count.
 * A rolling day at `now` counts what was bought in the last 86,400 s (a purchase exactly 24 h old
 * no longer counts); `total` counts everything (undefined).
 * @example windowStart('day', 1_700_086_400) // 1_700_000_000
 * @example windowStart('total', 1_700_000_000) // undefined
 */
export function windowStart(period: BudgetPeriod, now: number): number | undefined {
  return period === 'total' ? undefined : now - PERIOD_SECONDS[period]
}

/** How a period reads in a sentence. @example periodText('week') // 'per rolling week (the last 7 days)' */
export function periodText(period: BudgetPeriod): string {
  return period === 'day' ? 'per rolling day (the last 24 h)' : period === 'week' ? 'per rolling week (the last 7 days)' : 'in total'
}

/**
 * A budget's origin as typed: `*`, or a URL origin normalized by `new URL(x).origin`
 * (`HTTPS://API.Example.com:443` → `https://api.example.com`). Only an http(s) origin is one: a
 * path other than `/`, a query, a fragment or credentials are refused, since a budget never
 * applies to part of an origin.
 * @param o.all - whether `*` is accepted (a budget: yes; `history --origin`: no)
 * @throws {UsageError} anything else (exit 2), naming the origin of a URL given with a path
 * @example parseOrigin('https://API.example.com:443/') // 'https://api.example.com'
 */
export function parseOrigin(text: string, o: { all?: boolean } = { all: true }): string {
  if (text === ALL_ORIGINS) {
    if (o.all) return ALL_ORIGINS
    throw new UsageError('Invalid origin "*": name one origin, e.g. https://api.example.com.')
  }
  let u: URL | undefined
  try {
    u = new URL(text)
  } catch {
    /* refused below */
  }
  const hint = `An origin is scheme://host[:port], e.g. https://api.example.com${o.all ? ', or * for every origin' : ''}.`
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw new UsageError(`Invalid origin "${text}": not an http(s) URL origin.`, { metaMessages: [hint] })
  }
  if (u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '' || /[?#]/.test(text)) {
    throw new UsageError(`Invalid origin "${text}": a budget counts a whole origin, not a path, query or credentials; did you mean ${u.origin}?`, { metaMessages: [hint] })
  }
  return u.origin
}

/**
 * A purchase would go over a budget (issue 13 §3). Exit 3, as a price above `--max-price`.
 * `data` (base units as decimal strings): `origin`, `period`, `limit`, `spent` (in the window),
 * `remaining`, `cost` (price + fee of the refused purchase), `assetId`.
 */
export class BudgetExceededError extends ChannelsError {
  override name = 'Buy.BudgetExceededError'
  override code = 'BUDGET_EXCEEDED'
  override exitCode: ExitCode = ExitCode.priceAboveMax
}

/** A budget with what was spent in its window at a time, base units. */
export interface BudgetUse extends Budget {
  spent: bigint
  /** `amount − spent`, at least 0. */
  remaining: bigint
}

/**
 * What `budget` spent in its window at `now` (unix seconds), and what remains.
 * @example budgetUse(store, { origin: '*', period: 'day', amount: 5000n, … }) // { …, spent: 3000n, remaining: 2000n }
 */
export function budgetUse(store: Store, b: Budget, now = Math.floor(Date.now() / 1000)): BudgetUse {
  const spent = store.purchases.spent(b.assetId, b.origin === ALL_ORIGINS ? undefined : b.origin, windowStart(b.period, now))
  return { ...b, spent, remaining: b.amount > spent ? b.amount - spent : 0n }
}

/**
 * Refuses a purchase of `cost` (price + fee, base units of `asset`) from `origin` that would take
 * what one of the budgets it falls under (the origin's, `*`'s) spent in its window above the limit.
 * Run it inside the transaction that records the purchase for the check to be atomic.
 * @param now - unix seconds
 * @throws {BudgetExceededError} naming the budget with the least left: its limit, period, spent and remaining
 * @example checkBudgets(store, { asset: eth, origin: 'https://shop.example', cost: 1000n })
 * // throws "Over budget: this purchase costs 1,000 wei, but the budget of https://shop.example is 2,500 wei in total; 2,000 wei spent so far, 500 wei remains."
 */
export function checkBudgets(store: Store, p: { asset: Asset; origin: string; cost: bigint; now?: number }): void {
  const now = p.now ?? Math.floor(Date.now() / 1000)
  let worst: BudgetUse | undefined
  for (const b of store.budgets.applying(p.asset.id, p.origin)) {
    const use = budgetUse(store, b, now)
    if (use.spent + p.cost > use.amount && (!worst || use.remaining < worst.remaining)) worst = use
  }
  if (!worst) return
  const show = (x: bigint) => formatAmount(x, p.asset)
  const who = worst.origin === ALL_ORIGINS ? 'every origin (*)' : worst.origin
  const when = worst.period === 'total' ? 'so far' : worst.period === 'day' ? 'in the last 24 h' : 'in the last 7 days'
  throw new BudgetExceededError(
    `Over budget: this purchase costs ${show(p.cost)}, but the budget of ${who} is ${show(worst.amount)} ${periodText(worst.period)}; ` +
    `${show(worst.spent)} spent ${when}, ${show(worst.remaining)} remains.`,
    {
      data: {
        origin: worst.origin, period: worst.period, limit: worst.amount.toString(), spent: worst.spent.toString(),
        remaining: worst.remaining.toString(), cost: p.cost.toString(), assetId: p.asset.id,
      },
      metaMessages: [`Nothing was paid or recorded. Raise it with \`channels budget set ${worst.origin === ALL_ORIGINS ? "'*'" : worst.origin} <amount>${worst.period === 'total' ? '' : ` --per ${worst.period}`}\`, or wait for the window to move.`],
    },
  )
}

/**
 * `channels budget set`: sets the budget of `origin` (parsed with {@link parseOrigin}) for `period`
 * to `amount` base units of `asset` on `network`, replacing the one it had.
 * @returns the budget with what it has spent so far in its window
 * @throws {UsageError} a bad origin, or an amount of 0
 * @example setBudget(store, { network: 'eip155:1', asset: eth, origin: 'https://API.example.com', period: 'day', amount: 10n ** 16n })
 * // { origin: 'https://api.example.com', period: 'day', amount: 10000000000000000n, spent: 0n, remaining: 10000000000000000n, … }
 */
export function setBudget(store: Store, b: { network: string; asset: Asset; origin: string; period: BudgetPeriod; amount: bigint }): BudgetUse {
  const origin = parseOrigin(b.origin)
  if (b.amount <= 0n) throw new UsageError('A budget must be above zero; `channels budget remove` removes one.')
  store.immediate(() => store.budgets.set({ network: b.network, assetId: b.asset.id, origin, period: b.period, amount: b.amount }))
  return budgetUse(store, store.budgets.applying(b.asset.id, origin).find((x) => x.origin === origin && x.period === b.period)!)
}

/**
 * `channels budget remove`: removes the budgets of `origin` in `asset` (of `period` only, when given).
 * @returns how many were removed
 * @throws {UsageError} a bad origin · {NotFoundError} (exit 2) it had none
 * @example removeBudget(store, { asset: eth, origin: '*' }) // { origin: '*', removed: 2 }
 */
export function removeBudget(store: Store, b: { asset: Asset; origin: string; period?: BudgetPeriod }): { origin: string; removed: number } {
  const origin = parseOrigin(b.origin)
  const removed = store.immediate(() => store.budgets.remove(b.asset.id, origin, b.period))
  if (removed === 0) throw new NotFoundError(`No budget${b.period ? ` ${periodText(b.period)}` : ''} for ${origin} in ${b.asset.symbol ?? b.asset.id}.`, { metaMessages: ['`channels budget list` shows the budgets.'] })
  return { origin, removed }
}

/**
 * `channels budget list`: the budgets of `network` (`*` first), with what each spent in its window at `now` (unix
 * seconds) and what remains.
 * @example listBudgets(store, 'eip155:1') // [{ origin: '*', period: 'week', amount: 10n ** 17n, spent: 4000n, remaining: …, … }]
 */
export function listBudgets(store: Store, network: string, now = Math.floor(Date.now() / 1000)): BudgetUse[] {
  return store.budgets.list(network).map((b) => budgetUse(store, b, now))
}
