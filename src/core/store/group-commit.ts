/**
 * Group commit: many small write transactions share one `BEGIN IMMEDIATE … COMMIT`
 * and one fsync of the WAL. The paywall's throughput is bound by fsyncs, not by CPU:
 * with one commit per paid request it could never serve more requests per second
 * than the disk syncs, however many connections are waiting.
 *
 * Each queued unit of work runs inside its own savepoint, in arrival order, and sees
 * the writes of the units before it, exactly as if each had its own transaction; one
 * that throws is rolled back alone and its promise rejects with its error. Units
 * queued during one event-loop turn go together.
 *
 * Durability is that of `synchronous=FULL` (DESIGN §7), with the fsync off the event
 * loop: the shared transaction commits with `synchronous=NORMAL` (WAL frames written,
 * not synced; a checkpoint still syncs), then the WAL file is fdatasync'ed on the
 * libuv thread pool, and every promise settles only after an fdatasync that began
 * after its COMMIT returned. So "committed before served" holds for each unit, now
 * "on disk before served", while the process keeps parsing and verifying the next
 * requests instead of blocking in fsync. fdatasyncs coalesce: the units committed
 * while one runs share the next. Other writes of the connection keep `FULL`.
 */
import { closeSync, fdatasync, openSync } from 'node:fs'
import type { Store } from './index.js'

interface Unit {
  fn: () => unknown
  resolve(value: unknown): void
  reject(err: unknown): void
  /** Settled at COMMIT, without waiting for the WAL's fdatasync (`o.durable: false`). */
  relaxed: boolean
}

const queues = new WeakMap<Store, Unit[]>()

/**
 * Runs `fn` in a write transaction shared with the other units queued in this
 * event-loop turn, and resolves with its result once that transaction is on disk.
 * @param fn - synchronous; may throw to refuse (only its own writes are undone)
 * @param o.durable - false: settle at COMMIT, before the WAL's fdatasync — for a write that a later durable commit of
 *   the same connection covers before anything depending on it leaves the process (the WAL is synced as a whole, in
 *   order: a later commit on disk means this one is); a killed process keeps it either way. Default true.
 * @returns what `fn` returned, after COMMIT and the WAL's fdatasync
 * @throws what `fn` threw, or the store error that prevented the COMMIT or the sync
 * @example
 * const charged = await groupCommit(store, () => { store.vouchers.insert(net, v, { price }); return 1000n })
 * // → 1000n, once the voucher is on disk
 */
export function groupCommit<T>(store: Store, fn: () => T, o: { durable?: boolean } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let queue = queues.get(store)
    if (!queue) {
      queue = []
      queues.set(store, queue)
      setImmediate(() => flush(store))
    }
    queue.push({ fn, resolve: resolve as (value: unknown) => void, reject, relaxed: o.durable === false })
  })
}

/** Prepared statements and the WAL sync state of one connection. */
interface Committer {
  /** Set the connection's `synchronous` (calls, not prepared statements: SQLite applies this pragma when it compiles it,
   * so a statement prepared once did not set NORMAL on its first run — the first group synced inline). */
  normal: { run(): unknown }
  full: { run(): unknown }
  /** fd of `<db>-wal`: SQLite keeps that file while the connection is open. */
  wal?: number
  syncing: boolean
  /** Settled by the next fdatasync: units whose COMMIT has returned. */
  waiting: { resolve(): void; reject(err: unknown): void }[]
}

const committers = new WeakMap<Store, Committer>()

function committerOf(store: Store): Committer {
  let c = committers.get(store)
  if (!c) {
    const sync = String(store.db.pragma('synchronous', { simple: true }))
    c = { normal: { run: () => store.db.pragma('synchronous = NORMAL') }, full: { run: () => store.db.pragma(`synchronous = ${sync}`) }, syncing: false, waiting: [] }
    committers.set(store, c)
  }
  return c
}

function flush(store: Store): void {
  const queue = queues.get(store)!
  queues.delete(store)
  const outcomes: { ok: boolean; value: unknown }[] = []
  let c: Committer
  try {
    c = committerOf(store)
    c.normal.run() // for this transaction's COMMIT: no fsync inside the write lock (settable outside transactions only)
  } catch (err) {
    // e.g. the database was closed with units queued (a paywall shutting down): they fail, the process does not
    for (const unit of queue) unit.reject(err)
    return
  }
  try {
    if (queue.length === 1) {
      // alone: its own transaction, no savepoint needed
      const [unit] = queue
      try {
        outcomes.push({ ok: true, value: store.immediate(unit.fn) })
      } catch (err) {
        return unit.reject(err)
      }
    } else {
      store.immediate(() => {
        for (const unit of queue) {
          try {
            // a transaction inside a transaction is a savepoint in better-sqlite3
            outcomes.push({ ok: true, value: store.db.transaction(unit.fn)() })
          } catch (err) {
            outcomes.push({ ok: false, value: err })
          }
        }
      })
    }
  } catch (err) {
    for (const unit of queue) unit.reject(err)
    return
  } finally {
    c.full.run()
  }
  const settleOne = (unit: Unit, i: number) => (outcomes[i].ok ? unit.resolve(outcomes[i].value) : unit.reject(outcomes[i].value))
  if (!outcomes.some((o) => o.ok)) return queue.forEach(settleOne) // nothing was written
  queue.forEach((unit, i) => unit.relaxed && settleOne(unit, i))
  const durable = queue.filter((unit) => !unit.relaxed)
  if (!durable.length) return
  c.waiting.push({ resolve: () => queue.forEach((unit, i) => !unit.relaxed && settleOne(unit, i)), reject: (err) => durable.forEach((unit) => unit.reject(err)) })
  if (!c.syncing) syncWal(store, c)
}

/** fdatasyncs the WAL for every unit committed so far; those committed meanwhile wait for the next one. */
function syncWal(store: Store, c: Committer): void {
  const batch = c.waiting.splice(0)
  try {
    c.wal ??= openSync(`${store.db.name}-wal`, 'r')
  } catch (err) {
    for (const w of batch) w.reject(err)
    return
  }
  c.syncing = true
  fdatasync(c.wal, (err) => {
    c.syncing = false
    for (const w of batch) (err ? w.reject(err) : w.resolve())
    if (c.waiting.length) syncWal(store, c)
    else if (!store.db.open && c.wal !== undefined) {
      closeSync(c.wal)
      c.wal = undefined
    }
  })
}
