/**
 * The wallet store: the database plus its repositories. `immediate(fn)` runs `fn` in
 * one `BEGIN IMMEDIATE` transaction, the write lock that serializes nonce allocation
 * across processes (DESIGN §7).
 */
import { openDatabase, type Db } from './db.js'
import { ChannelRepository } from './channels.js'
import { VoucherRepository } from './vouchers.js'
import { LockedPaymentRepository } from './locks.js'
import { BudgetRepository } from './budgets.js'
import { PurchaseRepository } from './purchases.js'
import { homePath } from '../config.js'

export class Store {
  readonly channels: ChannelRepository
  readonly vouchers: VoucherRepository
  /** Hash-time-locked payments through a hub (issue 12). */
  readonly locks: LockedPaymentRepository
  /** Limits on what `buy` spends (issue 13 §3). */
  readonly budgets: BudgetRepository
  /** Every paid request `buy` made (issue 13 §3). */
  readonly purchases: PurchaseRepository

  /** The connection's `synchronous` level (FULL, DESIGN §7), read on the first {@link relaxed}. */
  private syncLevel?: string

  constructor(readonly db: Db) {
    this.channels = new ChannelRepository(db)
    this.vouchers = new VoucherRepository(db)
    this.locks = new LockedPaymentRepository(db)
    this.budgets = new BudgetRepository(db)
    this.purchases = new PurchaseRepository(db)
  }

  /** Opens `<home>/channels.db`. @throws {StoreError} */
  static open(home: string): Store {
    return new Store(openDatabase(homePath(home, 'channels.db')))
  }

  /** Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws). */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  /**
   * {@link immediate} for bookkeeping that a power loss may forget at no cost (the merchant's acknowledgement of a
   * voucher already on disk): its COMMIT writes the WAL but does not wait for the disk (`synchronous=NORMAL`, DESIGN
   * §7 keeps FULL for everything else). A killed process keeps it (WAL); the next durable commit's sync covers it.
   * Inside a caller's transaction it is a savepoint of that transaction, durable as the caller's.
   */
  relaxed<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.immediate(fn)
    // Not a prepared statement: SQLite applies this pragma when it is compiled, so a prepared one run again may not.
    this.syncLevel ??= String(this.db.pragma('synchronous', { simple: true }))
    this.db.pragma('synchronous = NORMAL')
    try {
      return this.immediate(fn)
    } finally {
      this.db.pragma(`synchronous = ${this.syncLevel}`)
    }
  }

  close(): void {
    this.db.close()
  }
}

export type { ChannelFields, ChannelRecord } from './channels.js'
export { StaleChannelStateError, ChannelDataError, channelOf } from './channels.js'
export type { VoucherRecord } from './vouchers.js'
export type { LockedPayment, LockRole, LockState, LockFields } from './locks.js'
export type { Budget, BudgetPeriod } from './budgets.js'
export type { Purchase, PurchaseStatus, PurchaseScheme, ExactAuthorization, NewPurchase, PurchaseFilter } from './purchases.js'
