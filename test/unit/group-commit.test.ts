/**
 * Group commit (src/core/store/group-commit.ts): units queued in one event-loop turn
 * share one transaction, each in its own savepoint, and settle after the COMMIT.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/index.js';
import { groupCommit } from '../../src/core/store/group-commit.js';

let home: string;
let store: Store;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'channels-gc-'));
  store = Store.open(home);
  store.db.exec('CREATE TABLE t (x INTEGER NOT NULL)');
});
afterEach(() => {
  store.close();
  rmSync(home, { recursive: true, force: true });
});

const rows = () => (store.db.prepare('SELECT x FROM t ORDER BY x').all() as { x: number }[]).map((r) => r.x);
/** What another connection (another process) sees: only committed rows. */
const committed = () => {
  const other = new Database(join(home, 'channels.db'), { readonly: true });
  try {
    return (other.prepare('SELECT x FROM t ORDER BY x').all() as { x: number }[]).map((r) => r.x);
  } finally {
    other.close();
  }
};

describe('groupCommit', () => {
  it('runs units in order in one transaction; a throwing unit is undone alone and rejects', async () => {
    const seen: number[][] = [];
    const insert = (x: number) => () => {
      store.db.prepare('INSERT INTO t (x) VALUES (?)').run(x);
      seen.push(rows());
      return x;
    };
    const a = groupCommit(store, insert(1));
    const b = groupCommit(store, () => {
      insert(2)();
      throw new Error('refused');
    });
    const c = groupCommit(store, insert(3));
    await expect(a).resolves.toBe(1);
    await expect(b).rejects.toThrow('refused');
    await expect(c).resolves.toBe(3);
    expect(seen).toEqual([[1], [1, 2], [1, 3]]);
    expect(committed()).toEqual([1, 3]);
  });

  it('settles a unit only once its writes are visible to other connections', async () => {
    const x = await groupCommit(store, () => store.db.prepare('INSERT INTO t (x) VALUES (7)').run().changes);
    expect(x).toBe(1);
    expect(committed()).toEqual([7]);
  });

  it('commits with synchronous=NORMAL only inside the group: the connection stays FULL for every other write', async () => {
    const full = store.db.pragma('synchronous', { simple: true });
    const inside: unknown[] = [];
    for (let i = 0; i < 3; i++) await groupCommit(store, () => inside.push(store.db.pragma('synchronous', { simple: true })));
    expect(inside).toEqual([1, 1, 1]); // the first group too
    await groupCommit(store, () => store.db.prepare('INSERT INTO t (x) VALUES (1)').run());
    await expect(groupCommit(store, () => { throw new Error('no'); })).rejects.toThrow('no');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(full);
    expect(full).toBe(2);
  });

  it('later turns get their own transaction', async () => {
    await groupCommit(store, () => store.db.prepare('INSERT INTO t (x) VALUES (1)').run());
    await expect(groupCommit(store, () => { throw new Error('no'); })).rejects.toThrow('no');
    await groupCommit(store, () => store.db.prepare('INSERT INTO t (x) VALUES (2)').run());
    expect(committed()).toEqual([1, 2]);
  });
});

describe('commits that do not wait for the disk', () => {
  it('groupCommit(durable: false) settles at COMMIT, before the durable units of its group, its writes committed', async () => {
    const order: string[] = [];
    const insert = (x: number) => () => store.db.prepare('INSERT INTO t (x) VALUES (?)').run(x);
    const durable = groupCommit(store, insert(1)).then(() => order.push('durable'));
    const relaxed = groupCommit(store, insert(2), { durable: false }).then(() => {
      order.push('relaxed');
      return committed();
    });
    expect(await relaxed).toEqual([1, 2]); // one transaction, committed when the relaxed unit settles
    await durable;
    expect(order).toEqual(['relaxed', 'durable']);
    await expect(groupCommit(store, () => { throw new Error('no'); }, { durable: false })).rejects.toThrow('no');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('Store.relaxed commits alone with synchronous=NORMAL and gives the connection back FULL; inside a transaction it is a savepoint of it', () => {
    const inside: unknown[] = [];
    for (let i = 0; i < 2; i++) store.relaxed(() => inside.push(store.db.pragma('synchronous', { simple: true })));
    expect(inside).toEqual([1, 1]); // NORMAL inside, each time
    expect(store.relaxed(() => store.db.prepare('INSERT INTO t (x) VALUES (1)').run().changes)).toBe(1);
    expect(committed()).toEqual([1]);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(() => store.relaxed(() => {
      store.db.prepare('INSERT INTO t (x) VALUES (2)').run();
      throw new Error('no');
    })).toThrow('no');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(() => store.immediate(() => {
      store.relaxed(() => store.db.prepare('INSERT INTO t (x) VALUES (3)').run());
      throw new Error('outer');
    })).toThrow('outer');
    expect(committed()).toEqual([1]);
  });
});

describe('groupCommit on a database closed before its turn', () => {
  it('rejects the queued units (no uncaught exception, nothing hangs)', async () => {
    const queued = groupCommit(store, () => store.db.prepare('INSERT INTO t (x) VALUES (1)').run());
    store.close();
    await expect(queued).rejects.toThrow(/not open/);
  });
});
