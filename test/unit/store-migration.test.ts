/**
 * Issue 10, migration 4 (channels get `family` and one JSON `data` column) on databases made by
 * the release before it: test/fixtures/store-v3-afdfac1-{payer,payee}.db, written by real
 * commands on a devnet (scripts/make-store-fixture.mjs), with the JSON dump of every row as that
 * release's Store read it and what its binary printed about them. Each home is copied, opened by
 * this Store (the migration runs) and read back row by row against the dump mapped to the new
 * shape; then this binary, on the copied home, prints what the old one printed.
 *
 * Migration 5 (issue 11 §2, funds that never block) adds the columns reserved, queued, pending_tx,
 * pending_raw and next_lane: a v3 row reads with `reserved: 0, queued: 0, nextLane: 0` and no
 * pending top-up, and `status <id>` shows the old "reserved" (signed, not acknowledged) as
 * `unacknowledged` (text: `unacked`) beside the new `reserved` (set aside by `reserve`, 0 here).
 *
 * Migration 9 (issue 13 §3) adds the tables budgets and purchases: empty on a v3 home, and the
 * fresh-schema comparison covers their definitions and indexes. Migration 10 (issue 13 §2) rebuilds
 * purchases so that an x402 `exact` purchase has no channel: a v9 database's rows are kept to the byte.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/index.js';
import { MIGRATIONS } from '../../src/core/store/schema.js';
import { evmChannel } from '../../src/families/evm/channel.js';
import { bitcoinChannel } from '../../src/families/bitcoin/channel.js';
import { cliEnv, runBin } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/anvil.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
const NAME = 'store-v3-afdfac1';
const dump = JSON.parse(readFileSync(join(FIXTURES, `${NAME}.json`), 'utf8'));
const ROLES = ['payer', 'payee'] as const;

/** The funds columns of migration 5 as a v3 row reads after it (JSON): nothing reserved, queued or allocated. */
const V5_FUNDS = { reserved: '0', queued: '0', nextLane: '0' };

/** A v3 channel as the old Store read it (JSON, bigints as strings) in the v4 shape (family tag, family fields in `data`) plus migration 5's columns. */
function toV4(c: Record<string, any>): Record<string, unknown> {
  const { contract, settleDelay, salt, expiry, bitcoin, ...v3 } = c;
  const common = { ...v3, ...V5_FUNDS };
  if (c.network.startsWith('bip122:')) {
    expect(settleDelay).toBe(0); // what v3 stored on Bitcoin: nothing is lost by dropping it
    expect(salt).toBeUndefined();
    return { ...common, family: 'bitcoin', data: { ...bitcoin, depositAddress: contract, expiry } };
  }
  expect(bitcoin).toBeUndefined();
  expect(expiry).toBeUndefined();
  return { ...common, family: 'evm', data: { contract, settleDelay, ...(salt === undefined ? {} : { salt }) } };
}

/**
 * A v3 voucher as the old Store read it in this release's tagged shape (the rows are not
 * migrated: the store tags them by their network's namespace): an EVM voucher gains
 * `family: 'evm'`; a Bitcoin payment, which v3 kept in the EVM shape with its transaction in
 * `signature`, is `{family: 'bitcoin', channelId, lane, nonce, amount, paymentTx}` and its
 * EVM-only fields must have held their "none" values.
 */
function voucherToV4(v: Record<string, any>): Record<string, unknown> {
  if (!v.network.startsWith('bip122:')) return { ...v, family: 'evm' };
  const { secretHash, timeLockMin, timeLockMax, minSettleAt, merges, signature, ...rest } = v;
  expect({ secretHash, timeLockMin, timeLockMax, minSettleAt, merges }).toStrictEqual({ secretHash: '0x' + '0'.repeat(64), timeLockMin: '0', timeLockMax: '0', minSettleAt: '0', merges: [] });
  return { ...rest, family: 'bitcoin', paymentTx: signature };
}

/** A value as JSON has it: bigints as decimal strings, undefined fields gone (as in the dump). */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x)));

const homes: string[] = [];
/** A temporary CHANNELS_HOME holding a copy of the fixture database of `role`. */
function homeWith(role: (typeof ROLES)[number]): string {
  const home = mkdtempSync(join(tmpdir(), `channels-v3-${role}-`));
  homes.push(home);
  copyFileSync(join(FIXTURES, `${NAME}-${role}.db`), join(home, 'channels.db'));
  return home;
}
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** The channels table's definition (whitespace collapsed), its columns and the database's indexes. */
function schemaOf(db: Database.Database) {
  return {
    sql: (db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name").all() as { sql: string }[])
      .map((r) => ({ ...r, sql: r.sql.replace(/\s+/g, ' ') })),
    columns: db.prepare('PRAGMA table_info(channels)').all(),
    foreignKeys: db.prepare('PRAGMA foreign_key_list(vouchers)').all(),
  };
}

describe('migration 4 on databases of the v3 release (afdfac1)', () => {
  it('the fixture is what it claims: user_version 3, both families and directions, the rows of the dump', () => {
    expect(dump.userVersion).toBe(3);
    const all = ROLES.flatMap((r) => dump.homes[r].channels as any[]);
    const kinds = new Set(all.map((c) => `${c.network.split(':')[0]} ${c.direction}`));
    expect([...kinds].sort()).toEqual(['bip122 inbound', 'bip122 outbound', 'eip155 inbound', 'eip155 outbound']);
    expect(all.some((c) => c.salt && c.settleAt && c.state === 'settling')).toBe(true);
    expect(all.some((c) => c.bitcoin?.refundTx && c.bitcoin.p2sh)).toBe(true);
    for (const role of ROLES) {
      // On a copy: a WAL database opened even read-only gets -wal and -shm files beside it.
      const db = new Database(join(homeWith(role), 'channels.db'), { readonly: true, fileMustExist: true });
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(3);
        expect((db.prepare('SELECT count(*) AS n FROM channels').get() as { n: number }).n).toBe(dump.homes[role].channels.length);
        expect((db.prepare('SELECT count(*) AS n FROM vouchers').get() as { n: number }).n).toBe(dump.homes[role].vouchers.length);
      } finally {
        db.close();
      }
    }
  });

  describe.each(ROLES)('the %s home', (role) => {
    let store: Store;
    let expected: Record<string, unknown>[];
    beforeAll(() => {
      store = Store.open(homeWith(role)); // migrates
      expected = (dump.homes[role].channels as Record<string, any>[]).map(toV4);
    });
    afterAll(() => store.close());

    it('is at user_version 5, with foreign keys on and none broken', () => {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(MIGRATIONS.length).toBe(10); // 5: funds (issue 11 §2); 6: the vouchers_merging index (issue 11 §3); 7: secrets of hash-locked vouchers; 8: expired vouchers and locked_payments (issue 12); 9: budgets and purchases (issue 13 §3); 10: purchases of x402 exact (issue 13 §2)
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(store.db.pragma('foreign_key_check')).toEqual([]);
    });

    it('reads every channel as the dump, mapped to the v4 shape, to the value', () => {
      const actual = store.channels.list().map(asJson);
      expect(actual).toStrictEqual(expected);
      for (const c of expected) expect(asJson(store.channels.get(c.network as string, c.id as string))).toStrictEqual(c);
    });

    it("each channel's data passes its family's schema (the accessors' check)", () => {
      for (const c of store.channels.list()) {
        const typed = c.family === 'evm' ? evmChannel(c) : bitcoinChannel(c);
        expect(typed).toBe(c);
      }
      const evm = store.channels.list().find((c) => c.family === 'evm')!;
      expect(() => bitcoinChannel(evm)).toThrowError(/is a channel of the evm family, not bitcoin/);
    });

    it('reads every voucher as the dump', () => {
      const vouchers = (dump.homes[role].channels as any[]).flatMap((c) => store.vouchers.list(c.network, c.id)).map(asJson);
      expect(vouchers).toStrictEqual(dump.homes[role].vouchers.map(voucherToV4));
    });

    it('stores the family fields in data and none of the v3 columns', () => {
      const cols = (store.db.prepare('PRAGMA table_info(channels)').all() as { name: string }[]).map((c) => c.name);
      for (const gone of ['contract', 'settle_delay', 'salt', 'expiry', 'bitcoin']) expect(cols).not.toContain(gone);
      expect(cols).toEqual(expect.arrayContaining(['family', 'data']));
      const raw = store.db.prepare('SELECT id, family, data FROM channels').all() as { id: string; family: string; data: string }[];
      for (const r of raw) expect({ family: r.family, data: JSON.parse(r.data) }).toStrictEqual({ family: expected.find((c) => c.id === r.id)!.family, data: expected.find((c) => c.id === r.id)!.data });
    });

    it('has migration 9\'s budgets and purchases, empty, and they take rows (issue 13 §3)', () => {
      expect(store.db.prepare('SELECT (SELECT count(*) FROM budgets) AS budgets, (SELECT count(*) FROM purchases) AS purchases').get()).toEqual({ budgets: 0, purchases: 0 });
      const c = store.channels.list()[0];
      const id = store.purchases.insert({
        network: c.network, asset: c.asset, assetId: `${c.network}/slip44:60`, url: 'https://shop.example/joke', origin: 'https://shop.example', scheme: 'channel',
        price: 10n ** 30n, fee: 0n, spent: 10n ** 30n, channelId: c.id, lane: 0n, nonce: 1n,
      });
      expect(store.purchases.get(id)).toMatchObject({ price: 10n ** 30n, status: 'pending', channelId: c.id });
      expect(store.purchases.spent(`${c.network}/slip44:60`, 'https://shop.example', undefined)).toBe(10n ** 30n); // beyond SQLite's integers, summed exactly
      expect(() => store.db.prepare("UPDATE purchases SET status = 'lost' WHERE id = ?").run(id)).toThrowError(/CHECK constraint failed/);
      expect(() => store.db.prepare("UPDATE purchases SET receipt = '{not json' WHERE id = ?").run(id)).toThrowError(/CHECK constraint failed/);
      store.budgets.set({ network: c.network, assetId: `${c.network}/slip44:60`, origin: '*', period: 'week', amount: 5n });
      expect(() => store.db.prepare("UPDATE budgets SET period = 'month'").run()).toThrowError(/CHECK constraint failed/);
      store.db.exec('DELETE FROM purchases; DELETE FROM budgets;');
    });

    it('has the schema of a database created fresh by this release', () => {
      const fresh = Store.open(mkdtempSync(join(tmpdir(), 'channels-fresh-')));
      try {
        expect(schemaOf(store.db)).toStrictEqual(schemaOf(fresh.db));
      } finally {
        fresh.close();
      }
    });
  });

  it('refuses a v4 row with an unknown family or data that is not a JSON object (CHECK constraints)', () => {
    const store = Store.open(mkdtempSync(join(tmpdir(), 'channels-check-')));
    try {
      const row = { network: 'eip155:1', id: '0x01', family: 'evm', direction: 'outbound', payer: 'a', payee: 'b', asset: 'c', deposit: 1n, redeemed: 0n, charged: 0n, state: 'open', keyName: 'k', data: { contract: '0x' + '0'.repeat(40), settleDelay: 1 } } as const;
      expect(() => store.channels.insert({ ...row, family: 'solana' as never })).toThrowError(/Cannot store a solana channel/); // the repository's check
      expect(() => store.channels.insert({ ...row, id: '0x02', data: 'text' as never })).toThrowError(/CHECK constraint failed/);
      expect(store.channels.insert({ ...row, id: '0x03' }).data).toEqual(row.data);
      // The table's own CHECK, below the repository: a row written by other SQL
      expect(() => store.db.prepare("UPDATE channels SET family = 'solana' WHERE id = '0x03'").run()).toThrowError(/CHECK constraint failed/);
      expect(store.channels.get('eip155:1', '0x03')!.data).toStrictEqual(row.data);
      // Data that is an object but not the family's: the accessor says which field, once read.
      store.channels.insert({ ...row, id: '0x04', data: { contract: 'nowhere', settleDelay: 1 } });
      expect(() => evmChannel(store.channels.get('eip155:1', '0x04')!)).toThrowErrorMatchingInlineSnapshot(`[Store.ChannelDataError: Channel 0x04… has damaged evm data: contract: must be an address.]`);
    } finally {
      store.close();
    }
  });
});

/**
 * What this release prints less what it adds to v3's `--json` (additive only): every channel
 * object gains `assetId`, the CAIP-19 id of its asset on its network, which is checked here
 * and then removed, so the rest must equal v3's output field for field.
 */
function v3Shape(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(v3Shape);
  if (typeof json !== 'object' || json === null) return json;
  const o = { ...(json as Record<string, unknown>) };
  if ('channelId' in o && 'deposit' in o) { // a channel's status, not a voucher
    expect(o.assetId, JSON.stringify(o)).toMatch(new RegExp(`^${String(o.network)}/slip44:\\d+$`));
    delete o.assetId;
  }
  if ('unacknowledged' in o) { // status <id> since migration 5: v3's "reserved" is now "unacknowledged"; nothing is reserved or pending
    // Since migration 7 it also shows `conditional` (hash-locked, unredeemed): none in a v3 store.
    expect({ reserved: o.reserved, pendingTx: o.pendingTx, conditional: o.conditional }, JSON.stringify(o)).toStrictEqual({ reserved: '0', pendingTx: null, conditional: '0' });
    o.reserved = o.unacknowledged;
    delete o.unacknowledged;
    delete o.pendingTx;
    delete o.conditional;
  }
  for (const k of Object.keys(o)) o[k] = v3Shape(o[k]);
  return o;
}

/**
 * `status <id>` as text less what migration 5 changed: the `unacked` row (v3's "reserved") goes back
 * into the `reserved` row, whose new value (set aside by `reserve`) must be nothing.
 */
function v3Text(text: string): string {
  const lines = text.split('\n');
  const unacked = lines.findIndex((l) => l.startsWith('unacked '));
  const reserved = lines.findIndex((l) => l.startsWith('reserved '));
  expect(unacked, text).toBeGreaterThan(reserved);
  expect(reserved, text).toBeGreaterThan(-1);
  expect(lines[reserved], text).toMatch(/^reserved\s+0 \S+$/);
  lines[reserved] = 'reserved' + lines[unacked].slice('reserved'.length);
  lines.splice(unacked, 1);
  return lines.join('\n');
}

describe('this binary on a home of the v3 release prints what that release printed', () => {
  describe.each(ROLES)('the %s home', (role) => {
    const home = homeWith(role);
    const env = cliEnv({ CHANNELS_HOME: home });
    delete env.CHANNELS_RPC_URL;
    const printed = (dump.homes[role].printed ?? {}) as Record<string, any>;

    it('config import of the devnet networks (the old home had them)', async () => {
      const file = join(home, 'networks.json');
      writeFileSync(file, JSON.stringify({ networks: dump.networks }));
      const r = await runBin(['config', 'import', file, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
    });

    it.each(['devnet', 'regtest'])('network %s: status --json, list --offline --json, and status <id> (JSON and table)', async (network) => {
      const status = await runBin(['status', '--network', network, '--json'], env);
      expect(status.code, status.stderr).toBe(0);
      expect(v3Shape(status.json)).toStrictEqual(printed[network].status);
      const list = await runBin(['list', '--offline', '--network', network, '--json'], env);
      expect(list.code, list.stderr).toBe(0);
      expect(v3Shape(list.json)).toStrictEqual(printed[network].list);
      const ids = Object.keys(printed[network].channels);
      expect(ids.length).toBe(printed[network].status.channels.length);
      for (const id of ids) {
        const one = await runBin(['status', id, '--network', network, '--json'], env);
        expect(v3Shape(one.json), one.stderr).toStrictEqual(printed[network].channels[id].json);
        const text = await runBin(['status', id, '--network', network], env);
        expect(v3Text(text.stdout)).toBe(printed[network].channels[id].text);
      }
    }, 120_000);
  });
});

describe('migration 10 (issue 13 §2): purchases of x402 exact', () => {
  it('keeps a v9 database\'s purchases as they were, indexes included, and takes exact rows without a channel', () => {
    const home = mkdtempSync(join(tmpdir(), 'channels-v9-'));
    try {
      const db = new Database(join(home, 'channels.db'));
      db.pragma('foreign_keys = OFF');
      for (const m of MIGRATIONS.slice(0, 9)) db.exec(m);
      db.pragma('user_version = 9');
      db.prepare(`INSERT INTO purchases (network, asset, asset_id, url, origin, scheme, hub, price, fee, spent, channel_id, lane, nonce, status, receipt, error, created_at, updated_at)
        VALUES ('eip155:31337', '0x0000000000000000000000000000000000000000', 'eip155:31337/slip44:60', 'https://shop.example/joke', 'https://shop.example', 'channel',
        'http://hub', '1000', '11', '1011', '0xab', 3, 7, 'paid', '{"success":true}', NULL, 1800000000, 1800000001)`).run();
      const before = db.prepare('SELECT * FROM purchases').all();
      db.close();
      const store = Store.open(home); // migrates
      try {
        expect(store.db.pragma('user_version', { simple: true })).toBe(10);
        expect(store.db.prepare('SELECT id, network, asset, asset_id, url, origin, scheme, hub, price, fee, spent, channel_id, lane, nonce, status, receipt, error, created_at, updated_at FROM purchases').all()).toEqual(before);
        expect(store.purchases.get(1)).toMatchObject({ scheme: 'channel', hub: 'http://hub', spent: 1011n, channelId: '0xab', lane: 3n, nonce: 7n, status: 'paid' });
        expect(store.purchases.get(1)!.authorization).toBeUndefined();
        const indexes = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'purchases' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);
        expect(indexes).toEqual(['purchases_spending', 'purchases_time']);
        const authorization = { from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: '1000', validAfter: '0', validBefore: '1800000060', nonce: `0x${'5c'.repeat(32)}` };
        const id = store.purchases.insert({
          network: 'eip155:31337', asset: '0x5FbDB2315678afecb367f032d93F642f64180aa3', assetId: 'eip155:31337/erc20:0x5FbDB2315678afecb367f032d93F642f64180aa3',
          url: 'https://shop.example/joke', origin: 'https://shop.example', scheme: 'exact', price: 1000n, fee: 0n, spent: 1000n, authorization,
        });
        expect(store.purchases.get(id)).toMatchObject({ scheme: 'exact', authorization, status: 'pending' });
        expect(store.purchases.get(id)!.channelId).toBeUndefined();
        // A scheme the record does not know is refused.
        expect(() => store.db.prepare("UPDATE purchases SET scheme = 'upto' WHERE id = ?").run(id)).toThrowError(/CHECK constraint failed/);
      } finally {
        store.close();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
