/**
 * The wallet database: one SQLite file (`<home>/channels.db`) through better-sqlite3,
 * WAL journal, `synchronous=FULL` (a committed voucher survives power loss),
 * `foreign_keys=ON`, migrations keyed by `PRAGMA user_version` (DESIGN §7).
 *
 * A database newer than this binary, a corrupt file or a read-only one raises a
 * {@link StoreError}; it is never silently re-created.
 */
import Database from 'better-sqlite3'
import { StoreError } from '../errors.js'
import { MIGRATIONS } from './schema.js'

export type Db = Database.Database

/**
 * Opens (creating if missing) and migrates the database at `path`.
 * @throws {StoreError} newer schema than this binary, corrupt or read-only file
 */
export function openDatabase(path: string): Db {
  let db: Db
  try {
    db = new Database(path, { timeout: 60_000 })
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 60000')
  } catch (err) {
    throw new StoreError(`Cannot open the wallet database ${path}.`, {
      details: (err as Error).message,
      metaMessages: ['Check that the file is a channels database and that you may write to it.'],
      cause: err,
    })
  }
  migrate(db, path)
  return db
}

function migrate(db: Db, path: string): void {
  let version: number
  try {
    version = db.pragma('user_version', { simple: true }) as number
  } catch (err) {
    db.close()
    throw new StoreError(`The wallet database ${path} is unreadable or corrupt.`, { cause: err })
  }
  if (version > MIGRATIONS.length) {
    db.close()
    throw new StoreError(`The wallet database ${path} has schema version ${version}; this channels knows up to ${MIGRATIONS.length}.`, {
      metaMessages: ['Upgrade channels; refusing to touch a newer database.'],
    })
  }
  if (version === MIGRATIONS.length) return
  // Foreign keys are off while migrations run, so that one can rebuild a table others refer to
  // (SQLite's 12-step ALTER, https://sqlite.org/lang_altertable.html#otheralter); they are
  // checked before the commit instead, and turned on again whatever happens.
  db.pragma('foreign_keys = OFF')
  try {
    db.transaction(() => {
      // re-read inside the write lock: another process may have migrated meanwhile
      const current = db.pragma('user_version', { simple: true }) as number
      for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v])
      const broken = db.pragma('foreign_key_check') as unknown[]
      if (broken.length) throw new Error(`${broken.length} row(s) break a foreign key after the migration, e.g. ${JSON.stringify(broken[0])}`)
      db.pragma(`user_version = ${MIGRATIONS.length}`)
    }).immediate()
  } catch (err) {
    db.close()
    throw new StoreError(`Cannot migrate the wallet database ${path}.`, { details: (err as Error).message, cause: err })
  }
  db.pragma('foreign_keys = ON')
}
