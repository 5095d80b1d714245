/**
 * Hash-time-locked payments through a hub (issue 12, DESIGN §11): one row per payment and per
 * role this wallet plays in it (`payer`, `hub`, `payee`; table `locked_payments`, schema.ts).
 * The vouchers themselves stay in the voucher repository; a row names them by channel and lane
 * and records what the vouchers cannot: the secret once known, the state of the payment, and
 * whether each conditional voucher was replaced by an unconditional one (simplified).
 * Amounts are bigint base units; times are unix seconds.
 */
import type { Db } from './db.js'
import { StatementCache } from './statements.js'

export type LockRole = 'payer' | 'hub' | 'payee'
/** `pending`: vouchers signed, secret not confirmed · `fulfilled`: the payee revealed the secret · `refused` · `expired`: the time lock passed unfulfilled. */
export type LockState = 'pending' | 'fulfilled' | 'refused' | 'expired'

export interface LockedPayment {
  network: string
  /** sha256 of the secret, 0x hex. */
  hash: string
  role: LockRole
  /** The final payee's address. */
  payee: string
  /** What the payee receives, base units. */
  amount: bigint
  /** What the hub keeps, base units. */
  fee: bigint
  /** The conditional voucher received (hub, payee): channel, lane, timeLockMax. */
  inChannel?: string
  inLane?: bigint
  inNonce?: bigint
  inTimeLock?: number
  /** The conditional voucher signed (payer, hub). */
  outChannel?: string
  outLane?: bigint
  outNonce?: bigint
  outTimeLock?: number
  secret?: string
  encryptedSecret?: string
  /** Payer: the hub's URL. */
  hub?: string
  state: LockState
  inUnlocked: boolean
  outUnlocked: boolean
  /** Payee: paid for one request already. */
  spent: boolean
  error?: string
  createdAt: number
  updatedAt: number
}

interface Row {
  network: string
  hash: string
  role: LockRole
  payee: string
  amount: string
  fee: string
  in_channel: string | null
  in_lane: bigint | null
  in_nonce: bigint | null
  in_time_lock: bigint | null
  out_channel: string | null
  out_lane: bigint | null
  out_nonce: bigint | null
  out_time_lock: bigint | null
  secret: string | null
  encrypted_secret: string | null
  hub: string | null
  state: LockState
  in_unlocked: bigint
  out_unlocked: bigint
  spent: bigint
  error: string | null
  created_at: bigint
  updated_at: bigint
}

const num = (x: bigint | null) => (x === null ? undefined : Number(x))

function fromRow(r: Row): LockedPayment {
  return {
    network: r.network, hash: r.hash, role: r.role, payee: r.payee, amount: BigInt(r.amount), fee: BigInt(r.fee),
    inChannel: r.in_channel ?? undefined, inLane: r.in_lane ?? undefined, inNonce: r.in_nonce ?? undefined, inTimeLock: num(r.in_time_lock),
    outChannel: r.out_channel ?? undefined, outLane: r.out_lane ?? undefined, outNonce: r.out_nonce ?? undefined, outTimeLock: num(r.out_time_lock),
    secret: r.secret ?? undefined, encryptedSecret: r.encrypted_secret ?? undefined, hub: r.hub ?? undefined, state: r.state,
    inUnlocked: r.in_unlocked === 1n, outUnlocked: r.out_unlocked === 1n, spent: r.spent === 1n, error: r.error ?? undefined,
    createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  }
}

/** The fields a row changes after it is written. */
export type LockFields = Partial<Pick<LockedPayment,
  'outChannel' | 'outLane' | 'outNonce' | 'outTimeLock' | 'secret' | 'state' | 'inUnlocked' | 'outUnlocked' | 'spent' | 'error'>>

const COLUMNS: Record<keyof LockFields, string> = {
  outChannel: 'out_channel', outLane: 'out_lane', outNonce: 'out_nonce', outTimeLock: 'out_time_lock', secret: 'secret', state: 'state',
  inUnlocked: 'in_unlocked', outUnlocked: 'out_unlocked', spent: 'spent', error: 'error',
}

export class LockedPaymentRepository {
  private readonly sql: StatementCache

  constructor(db: Db) {
    this.sql = new StatementCache(db)
  }

  /** Inserts a payment; the (network, hash, role) key refuses a second one with the same hash (a replay). @throws {SqliteError} SQLITE_CONSTRAINT_PRIMARYKEY */
  insert(p: Omit<LockedPayment, 'inUnlocked' | 'outUnlocked' | 'spent' | 'createdAt' | 'updatedAt'> & Partial<Pick<LockedPayment, 'spent'>>): void {
    const t = Math.floor(Date.now() / 1000)
    this.sql.get(
      `INSERT INTO locked_payments (network, hash, role, payee, amount, fee, in_channel, in_lane, in_nonce, in_time_lock, out_channel, out_lane,
         out_nonce, out_time_lock, secret, encrypted_secret, hub, state, spent, error, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      p.network, p.hash, p.role, p.payee, p.amount.toString(), p.fee.toString(), p.inChannel ?? null, p.inLane ?? null, p.inNonce ?? null, p.inTimeLock ?? null,
      p.outChannel ?? null, p.outLane ?? null, p.outNonce ?? null, p.outTimeLock ?? null, p.secret ?? null, p.encryptedSecret ?? null, p.hub ?? null, p.state,
      p.spent ? 1 : 0, p.error ?? null, t, t,
    )
  }

  get(network: string, hash: string, role: LockRole): LockedPayment | undefined {
    const r = this.sql.get('SELECT * FROM locked_payments WHERE network = ? AND hash = ? AND role = ?').safeIntegers(true).get(network, hash.toLowerCase(), role) as Row | undefined
    return r && fromRow(r)
  }

  /** Changes `fields` of a payment. @returns whether the row exists */
  update(network: string, hash: string, role: LockRole, fields: LockFields): boolean {
    const keys = (Object.keys(fields) as (keyof LockFields)[]).filter((k) => fields[k] !== undefined)
    if (keys.length === 0) return this.get(network, hash, role) !== undefined
    const values = keys.map((k) => {
      const v = fields[k]
      return typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'bigint' ? v : v
    })
    const set = keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')
    return this.sql.get(`UPDATE locked_payments SET ${set}, updated_at = ? WHERE network = ? AND hash = ? AND role = ?`)
      .run(...values, Math.floor(Date.now() / 1000), network, hash.toLowerCase(), role).changes === 1
  }

  /** The lanes of `channel` this role's payments were signed on (a pool reused lane by lane). */
  lanesOf(network: string, role: LockRole, channel: string): bigint[] {
    const rows = this.sql.get('SELECT DISTINCT out_lane AS lane FROM locked_payments WHERE network = ? AND role = ? AND out_channel = ? AND out_lane IS NOT NULL ORDER BY out_lane')
      .safeIntegers(true).all(network, role, channel) as { lane: bigint }[]
    return rows.map((r) => r.lane)
  }

  /**
   * Whether a payment of this role still holds `lane` of `channel`: pending (claimed, its voucher maybe not
   * yet signed or answered), or fulfilled but its unconditional voucher not yet taken by the receiver
   * (which still holds the lane's conditional voucher as its latest and would refuse a new one).
   */
  holds(network: string, role: LockRole, channel: string, lane: bigint): boolean {
    return this.sql.get(`SELECT 1 FROM locked_payments WHERE network = ? AND role = ? AND out_channel = ? AND out_lane = ?
        AND (state = 'pending' OR (state = 'fulfilled' AND out_unlocked = 0)) LIMIT 1`)
      .get(network, role, channel, lane) !== undefined
  }

  /** Marks pending the payments whose voucher (signed or received) is `channel`/`lane`/`nonce` expired. @returns how many */
  expireVoucher(network: string, channel: string, lane: bigint, nonce: bigint): number {
    return this.sql.get(`UPDATE locked_payments SET state = 'expired', updated_at = ? WHERE network = ? AND state = 'pending'
        AND ((out_channel = ? AND out_lane = ? AND out_nonce = ?) OR (in_channel = ? AND in_lane = ? AND in_nonce = ?))`)
      .run(Math.floor(Date.now() / 1000), network, channel, lane, nonce, channel, lane, nonce).changes
  }

  /** Payments of a role, newest first; `states` filters. */
  list(network: string, role: LockRole, states?: readonly LockState[]): LockedPayment[] {
    const rows = this.sql.get('SELECT * FROM locked_payments WHERE network = ? AND role = ? ORDER BY created_at DESC, hash')
      .safeIntegers(true).all(network, role) as Row[]
    const all = rows.map(fromRow)
    return states ? all.filter((p) => states.includes(p.state)) : all
  }
}
