/**
 * Group commit: many small write transactions share one `BEGIN IMMEDIATE … COMMIT`,
 * hence one fsync of the WAL (`synchronous=FULL`). The paywall's throughput is bound
 * by fsyncs, not by CPU: with one commit per paid request it could never serve more
 * requests per second than the disk syncs, however many connections are waiting.
 *
 * Each queued unit of work runs inside its own savepoint, in arrival order, and sees
 * the writes of the units before it, exactly as if each had its own transaction; one
 * that throws is rolled back alone and its promise rejects with its error. Every
 * promise settles only after the shared COMMIT has returned, so "committed before
 * served" (DESIGN §7) holds for each unit. Units queued during one event-loop turn
 * (all the requests that arrived while the previous fsync blocked) go together.
 */
import type { Store } from './index.js'

interface Unit {
  fn: () => unknown
  resolve(value: unknown): void
  reject(err: unknown): void
}

const queues = new WeakMap<Store, Unit[]>()

/**
 * Runs `fn` in a write transaction shared with the other units queued in this
 * event-loop turn, and resolves with its result once that transaction is committed.
 * @param fn - synchronous; may throw to refuse (only its own writes are undone)
 * @returns what `fn` returned, after COMMIT
 * @throws what `fn` threw, or the store error that prevented the COMMIT
 * @example
 * const charged = await groupCommit(store, () => { store.vouchers.insert(net, v, { price }); return 1000n })
 * // → 1000n, once the voucher is on disk
 */
export function groupCommit<T>(store: Store, fn: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let queue = queues.get(store)
    if (!queue) {
      queue = []
      queues.set(store, queue)
      setImmediate(() => flush(store))
    }
    queue.push({ fn, resolve: resolve as (value: unknown) => void, reject })
  })
}

function flush(store: Store): void {
  const queue = queues.get(store)
  queues.delete(store)
  if (!queue?.length) return
  if (queue.length === 1) {
    // alone: its own transaction, no savepoint needed
    const [unit] = queue
    let value: unknown
    try {
      value = store.immediate(unit.fn)
    } catch (err) {
      return unit.reject(err)
    }
    return unit.resolve(value)
  }
  const outcomes: { ok: boolean; value: unknown }[] = []
  try {
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
  } catch (err) {
    for (const unit of queue) unit.reject(err)
    return
  }
  queue.forEach((unit, i) => (outcomes[i].ok ? unit.resolve(outcomes[i].value) : unit.reject(outcomes[i].value)))
}
