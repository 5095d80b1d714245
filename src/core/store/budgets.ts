/**
 * Budgets (issue 13 §3; table `budgets`, schema.ts): limits on what `buy` spends, per origin or
 * for every origin (`*`), in one asset of one network, over a rolling window. The rules (what
 * counts, the windows) are in core/spending/budget.ts; this repository only persists.
 * Amounts are bigint base units; times are unix seconds.
 */
import type { Db } from './db.js'
import { StatementCache } from './statements.js'

/** A budget's window: the last 24 h, the last 7 days, or all time. */
export type BudgetPeriod = 'day' | 'week' | 'total'

export interface Budget {
  /** CAIP-2 id of the network. */
  network: string
  /** CAIP-19 id of what the limit counts. */
  assetId: string
  /** A URL origin (`https://api.example.com`), or `*`: every origin together. */
  origin: string
  period: BudgetPeriod
  /** The limit, base units. */
  amount: bigint
  createdAt: number
  updatedAt: number
}

interface Row {
  network: string
  asset_id: string
  origin: string
  period: BudgetPeriod
  amount: string
  created_at: number
  updated_at: number
}

const fromRow = (r: Row): Budget => ({
  network: r.network, assetId: r.asset_id, origin: r.origin, period: r.period, amount: BigInt(r.amount), createdAt: r.created_at, updatedAt: r.updated_at,
})

export class BudgetRepository {
  private readonly sql: StatementCache

  constructor(db: Db) {
    this.sql = new StatementCache(db)
  }

  /** Sets (inserts or replaces) the budget of `origin` for `period` in `assetId`. */
  set(b: Pick<Budget, 'network' | 'assetId' | 'origin' | 'period' | 'amount'>): void {
    const t = Math.floor(Date.now() / 1000)
    this.sql.get(
      `INSERT INTO budgets (network, asset_id, origin, period, amount, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (asset_id, origin, period) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at`,
    ).run(b.network, b.assetId, b.origin, b.period, b.amount.toString(), t, t)
  }

  /** Removes the budgets of `origin` in `assetId` (of `period` only, when given). @returns how many */
  remove(assetId: string, origin: string, period?: BudgetPeriod): number {
    if (period) return this.sql.get('DELETE FROM budgets WHERE asset_id = ? AND origin = ? AND period = ?').run(assetId, origin, period).changes
    return this.sql.get('DELETE FROM budgets WHERE asset_id = ? AND origin = ?').run(assetId, origin).changes
  }

  /** The budgets of a network, `*` first, then by origin and period (day, week, total). */
  list(network: string): Budget[] {
    return (this.sql.get(`SELECT * FROM budgets WHERE network = ?
        ORDER BY origin != '*', origin, CASE period WHEN 'day' THEN 0 WHEN 'week' THEN 1 ELSE 2 END`).all(network) as Row[]).map(fromRow)
  }

  /** The budgets a purchase from `origin` in `assetId` falls under: the origin's own and the global ones (`*`). */
  applying(assetId: string, origin: string): Budget[] {
    return (this.sql.get("SELECT * FROM budgets WHERE asset_id = ? AND origin IN (?, '*')").all(assetId, origin) as Row[]).map(fromRow)
  }
}
