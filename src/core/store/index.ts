/**
 * The wallet store: the database plus its repositories. `immediate(fn)` runs `fn` in
 * one `BEGIN IMMEDIATE` transaction, the write lock that serializes nonce allocation
 * across processes (DESIGN §7).
 */
import { openDatabase, type Db } from './db.js'
import { ChannelRepository } from './channels.js'
import { VoucherRepository } from './vouchers.js'
import { LockedPaymentRepository } from './locks.js'
import { homePath } from '../config.js'

export class Store {
  readonly channels: ChannelRepository
  readonly vouchers: VoucherRepository
  /** Hash-time-locked payments through a hub (issue 12). */
  readonly locks: LockedPaymentRepository

  constructor(readonly db: Db) {
    this.channels = new ChannelRepository(db)
    this.vouchers = new VoucherRepository(db)
    this.locks = new LockedPaymentRepository(db)
  }

  /** Opens `<home>/channels.db`. @throws {StoreError} */
  static open(home: string): Store {
    return new Store(openDatabase(homePath(home, 'channels.db')))
  }

  /** Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws). */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  close(): void {
    this.db.close()
  }
}

export type { ChannelFields, ChannelRecord } from './channels.js'
export { StaleChannelStateError, ChannelDataError, channelOf } from './channels.js'
export type { VoucherRecord } from './vouchers.js'
export type { LockedPayment, LockRole, LockState, LockFields } from './locks.js'
