/**
 * Prepared-statement cache of one database connection. better-sqlite3 compiles SQL on
 * every `db.prepare()`, which cost more than running the statement on the paywall's
 * hot path; repositories prepare each distinct SQL text once through this cache.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'

export class StatementCache {
  private readonly statements = new Map<string, Statement>()

  constructor(private readonly db: Db) {}

  /** The prepared statement for `sql` (prepared on first use, then reused). */
  get(sql: string): Statement {
    let s = this.statements.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      // Dynamic SQL (filters, partial updates) has a bounded set of shapes; guard anyway.
      if (this.statements.size >= 256) this.statements.clear()
      this.statements.set(sql, s)
    }
    return s
  }
}
