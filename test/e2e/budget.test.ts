/**
 * Issue 13 §3: budgets and the record of spending, with the real binary against a real anvil and
 * two real `channels serve` (two origins, 1000 wei per request). A budget of an origin or of every
 * origin (`*`) stops `buy` at its limit with exit 3, naming the limit, the period, what was spent
 * in it and what remains, and the refused buy changes nothing in the payer's database; `--per day`
 * counts the last 24 h only (rows are backdated in the payer's DB file to move the window: the
 * test cannot wait a day); ten `buy` processes at once against a limit of four purchases' worth never get
 * more than four through (the check runs in the transaction that allocates the voucher's nonce);
 * `history` lists every paid request with its receipt and its totals are what the merchants charged.
 * Purchases through a hub (price + fee) are in test/e2e/hub-buy.test.ts; here, a hostile hub (a small
 * real HTTP server posing as a merchant that lists it, and as the hub) refuses the payment: nothing was
 * paid, and the purchase is recorded refused, counting nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Wallet } from 'ethers';
import { encodePaymentRequiredHeader } from '@x402/core/http';
import { makeWallet, startChain, startServe, type Chain, type RunResult, type Serve, type TestWallet } from '../helpers/cli.js';

const PRICE = 1000n;
const DEPOSIT = 10n ** 15n;

let chain: Chain;
let payer: TestWallet;
let shops: TestWallet[];
let serves: Serve[];
/** The two merchants' origins (`http://127.0.0.1:<port>`). */
let origins: string[];

/** Every row of the payer's channels, vouchers, purchases, budgets and locked_payments tables, as text. */
function dbState(home: string): string {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify(['channels', 'vouchers', 'purchases', 'budgets', 'locked_payments'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
  } finally {
    db.close();
  }
}

/** Runs `sql` on the payer's database file (the test's own hand on it: backdating rows). */
function onPayerDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(join(payer.home, 'channels.db'), { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const buy = (shop: number, path = '/joke', extra: string[] = []) =>
  payer.run(['buy', `${serves[shop].url}${path}`, '--max-price', '5000', '--json', ...extra]);

function ok(r: RunResult): void {
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** What the payer's `budget list --json` says of `origin`'s budget for `period`. */
async function use(origin: string, period: string): Promise<any> {
  const r = await payer.run(['budget', 'list', '--json']);
  ok(r);
  return r.json.budgets.find((b: any) => b.origin === origin && b.period === period);
}

/** The merchant's `charged` on its one inbound channel from the payer. */
async function chargedBy(shop: number): Promise<bigint> {
  const list = await shops[shop].run(['status', '--json']);
  ok(list);
  const mine = list.json.channels.filter((c: any) => c.payer === payer.address);
  expect(mine).toHaveLength(1);
  const one = await shops[shop].run(['status', mine[0].channelId, '--json']);
  ok(one);
  return BigInt(one.json.charged);
}

beforeAll(async () => {
  chain = await startChain();
  const [p, a, b] = await Promise.all([makeWallet('payer', chain.anvil.rpcUrl), makeWallet('shopA', chain.anvil.rpcUrl), makeWallet('shopB', chain.anvil.rpcUrl)]);
  [payer, shops] = [p, [a, b]];
  for (const w of [payer, ...shops]) await chain.fund(w.address, '1');
  serves = await Promise.all(shops.map((w) => startServe(w, ['--price', PRICE.toString(), '--watch-interval', '3600'])));
  origins = serves.map((s) => new URL(s.url).origin);
  // One channel to each merchant, opened by a first purchase, before any budget.
  for (const shop of [0, 1]) ok(await buy(shop, '/joke', ['--yes', '--deposit', DEPOSIT.toString()]));
}, 120_000);

afterAll(async () => {
  await Promise.all((serves ?? []).map((s) => s.stop()));
  await chain?.stop();
});

describe('budgets', () => {
  it('budget set takes an origin (normalized) or *, and refuses anything else with exit 2, storing nothing', async () => {
    const before = dbState(payer.home);
    // (Each form parseOrigin refuses is in test/unit/spending.test.ts; here the exit code and that nothing is stored.)
    for (const bad of ['localhost:4021', `${origins[0]}/joke`]) {
      const r = await payer.run(['budget', 'set', bad, '1000', '--json']);
      expect({ bad, code: r.code }).toEqual({ bad, code: 2 });
      expect(r.json.error.message).toMatch(/^Invalid origin/);
    }
    const zero = await payer.run(['budget', 'set', origins[0], '0', '--json']);
    expect(zero.code).toBe(2);
    const unit = await payer.run(['budget', 'set', origins[0], '5sat', '--json']);
    expect(unit.code).toBe(2);
    expect(dbState(payer.home)).toBe(before);
    // Normalized: upper case and the default port go.
    const r = await payer.run(['budget', 'set', 'HTTPS://API.Example.com:443/', '0.01eth', '--per', 'day', '--json']);
    ok(r);
    expect(r.json).toEqual({ network: 'eip155:31337', assetId: 'eip155:31337/slip44:60', origin: 'https://api.example.com', period: 'day', limit: (10n ** 16n).toString(), spent: '0', remaining: (10n ** 16n).toString() });
    const gone = await payer.run(['budget', 'remove', 'https://api.example.com', '--json']);
    ok(gone);
    expect(gone.json).toEqual({ origin: 'https://api.example.com', removed: 1 });
    expect((await payer.run(['budget', 'remove', 'https://api.example.com', '--json'])).code).toBe(2);
    expect(dbState(payer.home)).toBe(before);
  }, 60_000);

  it('an origin\'s budget stops buy at its limit: exit 3 naming the limit, the period, what was spent and what remains; the refused buy changes nothing', async () => {
    // Shop A: 1000 spent by the purchase that opened the channel.
    const set = await payer.run(['budget', 'set', origins[0], '2500', '--json']);
    ok(set);
    expect({ spent: set.json.spent, remaining: set.json.remaining }).toEqual({ spent: '1000', remaining: '1500' });
    ok(await buy(0));
    const before = dbState(payer.home);
    const r = await buy(0);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error).toMatchObject({
      name: 'Buy.BudgetExceededError', code: 'BUDGET_EXCEEDED',
      data: { origin: origins[0], period: 'total', limit: '2500', spent: '2000', remaining: '500', cost: '1000', assetId: 'eip155:31337/slip44:60' },
    });
    expect(r.json.error.message).toBe(`Over budget: this purchase costs 1,000 wei, but the budget of ${origins[0]} is 2,500 wei in total; 2,000 wei spent so far, 500 wei remains.`);
    expect(dbState(payer.home)).toBe(before);
    // The same for people, on stderr.
    const text = await payer.run(['buy', `${serves[0].url}/joke`, '--max-price', '5000']);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain('500 wei remains');
    expect(dbState(payer.home)).toBe(before);
    // The other origin has no budget: it still buys.
    ok(await buy(1));
  }, 60_000);

  it('--per day counts the last 24 h only (the purchases are backdated in the DB file to move the window); --per week counts them', async () => {
    // Shop B: 2000 spent so far (the opening purchase and the last test's).
    ok(await payer.run(['budget', 'set', origins[1], '2000', '--per', 'day']));
    expect(await use(origins[1], 'day')).toMatchObject({ spent: '2000', remaining: '0' });
    const refused = await buy(1);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.json.error.data).toMatchObject({ origin: origins[1], period: 'day', limit: '2000', spent: '2000', remaining: '0' });
    expect(refused.json.error.message).toContain('2,000 wei per rolling day (the last 24 h); 2,000 wei spent in the last 24 h, 0 ETH remains');
    // A day and a second ago, the two purchases leave the window.
    const moved = onPayerDb((db) => db.prepare('UPDATE purchases SET created_at = created_at - 86401 WHERE origin = ?').run(origins[1]).changes);
    expect(moved).toBe(2);
    expect(await use(origins[1], 'day')).toMatchObject({ spent: '0', remaining: '2000' });
    ok(await buy(1));
    expect(await use(origins[1], 'day')).toMatchObject({ spent: '1000', remaining: '1000' });
    // A week still counts them: 3000 spent of 3500, so the next 1000 is refused by the week, not the day.
    ok(await payer.run(['budget', 'set', origins[1], '3500', '--per', 'week']));
    const weekly = await buy(1);
    expect(weekly.code, weekly.stdout + weekly.stderr).toBe(3);
    expect(weekly.json.error.data).toMatchObject({ origin: origins[1], period: 'week', limit: '3500', spent: '3000', remaining: '500' });
    ok(await payer.run(['budget', 'remove', origins[1], '--per', 'week']));
    expect(await use(origins[1], 'week')).toBeUndefined();
    expect(await use(origins[1], 'day')).toMatchObject({ spent: '1000' });
  }, 60_000);

  it('* limits every origin together, and an origin\'s own budget applies beside it', async () => {
    // Spent so far: 2000 at A, 3000 at B (two of them a day old): 5000 in all.
    ok(await payer.run(['budget', 'set', '*', '6500']));
    ok(await payer.run(['budget', 'set', origins[0], '10000']));
    ok(await buy(0)); // 6000 in all
    const b = await buy(1); // B's day allows it (1000 of 2000), * does not
    expect(b.code, b.stdout + b.stderr).toBe(3);
    expect(b.json.error.data).toMatchObject({ origin: '*', period: 'total', limit: '6500', spent: '6000', remaining: '500' });
    expect(b.json.error.message).toContain('the budget of every origin (*) is 6,500 wei in total');
    // * with room, the origin's own budget full: refused by the origin's.
    ok(await payer.run(['budget', 'set', '*', '1eth']));
    ok(await payer.run(['budget', 'set', origins[0], '3000']));
    const a = await buy(0);
    expect(a.code, a.stdout + a.stderr).toBe(3);
    expect(a.json.error.data).toMatchObject({ origin: origins[0], limit: '3000', spent: '3000', remaining: '0' });
    const list = await payer.run(['budget', 'list', '--json']);
    ok(list);
    expect(list.json.budgets[0]).toMatchObject({ origin: '*', period: 'total', limit: (10n ** 18n).toString(), spent: '6000' }); // * first
    expect(list.json.budgets.slice(1).map((x: any) => [x.origin, x.period, x.limit, x.spent]).sort()).toEqual([
      [origins[0], 'total', '3000', '3000'], [origins[1], 'day', '2000', '1000'],
    ].sort());
  }, 60_000);

  it('ten buy processes at once against a limit of four purchases\' worth: no more than four pass, and what they paid is what the merchant charged', async () => {
    // On one channel, concurrent purchases sign vouchers of the same amount (each counts the others' in-flight credit as
    // its own: buy's rule max(previous, charged + price)); the merchant takes one and corrects the others, and buy
    // accepts one correction per purchase, so a purchase may end refused (exit 4) whatever the budget. What the budget
    // guarantees: at most four purchases count at any time. The exact four are checked through a hub, where each
    // purchase has a lane of its own (test/e2e/hub-buy.test.ts).
    ok(await payer.run(['budget', 'remove', '*']));
    ok(await payer.run(['budget', 'set', origins[0], (3000n + 4n * PRICE).toString()]));
    const chargedBefore = await chargedBy(0);
    const counted = () => onPayerDb((db) => (db.prepare("SELECT count(*) AS n FROM purchases WHERE origin = ? AND spent != '0'").get(origins[0]) as { n: number }).n);
    const countedBefore = counted();
    const results = await Promise.all(Array.from({ length: 10 }, () => buy(0)));
    const passed = results.filter((r) => r.code === 0);
    const overBudget = results.filter((r) => r.code === 3);
    const corrected = results.filter((r) => r.code === 4);
    expect(passed.length + overBudget.length + corrected.length, results.map((r) => r.stdout + r.stderr).join('\n')).toBe(10);
    expect(passed.length).toBeGreaterThan(0);
    expect(passed.length).toBeLessThanOrEqual(4);
    expect(overBudget.length).toBeGreaterThan(0);
    for (const r of overBudget) expect(r.json.error.code).toBe('BUDGET_EXCEEDED');
    for (const r of corrected) expect(r.json.error.message).toMatch(/^The merchant refused the payment/);
    for (const r of passed) expect(r.json.paid).toBe(PRICE.toString());
    expect(await chargedBy(0)).toBe(chargedBefore + BigInt(passed.length) * PRICE);
    expect(counted()).toBe(countedBefore + passed.length);
    expect(await use(origins[0], 'total')).toMatchObject({ spent: (3000n + BigInt(passed.length) * PRICE).toString() });
  }, 120_000);
});

describe('history', () => {
  it('lists every paid request with its receipt, newest first; a request the merchant did not charge counts nothing; the totals are what the merchants charged', async () => {
    ok(await payer.run(['budget', 'remove', origins[0]]));
    const failed = await buy(0, '/no-such-resource');
    expect(failed.code, failed.stdout + failed.stderr).toBe(1); // the resource's 404
    expect(failed.json.paid).toBe('0');
    const h = await payer.run(['history', '--json']);
    ok(h);
    const rows: any[] = h.json.purchases;
    expect(rows.map((p) => p.id)).toEqual([...rows.map((p) => p.id)].sort((x, y) => y - x));
    expect(rows[0]).toMatchObject({ url: `${serves[0].url}/no-such-resource`, status: 'not_charged', spent: '0', price: '1000', receipt: { success: false, errorReason: 'resource_failed' } });
    for (const p of rows) {
      expect(p).toMatchObject({ scheme: 'channel', hub: null, fee: '0', network: 'eip155:31337', assetId: 'eip155:31337/slip44:60' });
      expect(p.origin).toBe(new URL(p.url).origin);
      // Each row names the voucher it paid with, as the merchant's receipt does.
      if (p.status === 'paid') {
        expect(p.spent).toBe('1000');
        expect(p.receipt).toMatchObject({ success: true, payer: payer.address, extra: { channelId: p.channelId, lane: p.lane, nonce: p.nonce } });
      } else if (p.status === 'refused') {
        expect(p.spent).toBe('0'); // a corrective 402 of a concurrent buy: its retry is a purchase of its own
        expect(p.receipt).toBeNull();
      } else expect(p.status).toBe('not_charged');
    }
    for (const [shop, origin] of origins.entries()) {
      const total = h.json.totals.find((t: any) => t.origin === origin);
      const charged = await chargedBy(shop);
      expect(BigInt(total.spent)).toBe(charged);
      expect(BigInt(total.spent)).toBe(BigInt(rows.filter((p) => p.origin === origin && p.status === 'paid').length) * PRICE);
      expect(total.purchases).toBe(rows.filter((p) => p.origin === origin).length);
    }
    // --origin, --since: B's two backdated purchases are older than a day.
    const b = await payer.run(['history', '--origin', origins[1], '--since', '1d', '--json']);
    ok(b);
    expect(b.json.purchases.length).toBe(rows.filter((p) => p.origin === origins[1]).length - 2);
    expect(b.json.purchases.every((p: any) => p.origin === origins[1])).toBe(true);
    expect((await payer.run(['history', '--since', 'last tuesday'])).code).toBe(2);
    // For people: amounts with the symbol, a totals table.
    const text = await payer.run(['history', '--origin', origins[0]]);
    ok(text);
    expect(text.stdout).toMatch(/not_charged/);
    expect(text.stdout).toMatch(new RegExp(`${origins[0].replace(/\./g, '\\.')}\\s+${Number(await chargedBy(0)).toLocaleString('en-US')} wei\\s+\\d+\\n`));
  }, 60_000);
});

describe('through a hub that refuses the payment', () => {
  const merchantKey = Wallet.createRandom();
  const hubKey = Wallet.createRandom();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hub/') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ network: 'eip155:31337', address: hubKey.address, feeBase: '5', feePpm: '0', minLock: 60, margin: 10 }));
      }
      if (req.url === '/hub/lock' && req.method === 'POST') {
        req.resume();
        res.writeHead(403, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: 'no route to the payee', reason: 'no_route' }));
      }
      if (req.url === '/item') {
        res.writeHead(402, {
          'payment-required': encodePaymentRequiredHeader({
            x402Version: 2, error: 'Payment required', resource: { url: `${base}/item` },
            accepts: [{
              scheme: 'channel', network: 'eip155:31337', amount: PRICE.toString(), asset: '0x0000000000000000000000000000000000000000', payTo: merchantKey.address,
              maxTimeoutSeconds: 60, extra: { hubs: [{ endpoint: `${base}/hub`, address: hubKey.address }], payToPubkey: merchantKey.signingKey.compressedPublicKey },
            }],
          } as never),
        });
        return void res.end();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ok(await payer.run(['open', hubKey.address, '100000', '--settle-delay', '3600']));
  }, 60_000);

  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('the refused purchase is recorded refused with the hub and its fee, and counts nothing against the budget', async () => {
    ok(await payer.run(['budget', 'set', base, (PRICE + 5n).toString()]));
    for (let i = 0; i < 2; i++) { // the second fits the budget only if the first counts nothing
      const r = await payer.run(['buy', `${base}/item`, '--max-price', '5000', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.json.error.message).toBe('The hub refused the payment: no route to the payee');
    }
    const h = await payer.run(['history', '--origin', base, '--json']);
    ok(h);
    expect(h.json.purchases).toHaveLength(2);
    for (const p of h.json.purchases) {
      expect(p).toMatchObject({ url: `${base}/item`, hub: `${base}/hub`, price: '1000', fee: '5', spent: '0', status: 'refused', error: 'The hub refused the payment: no route to the payee', receipt: null });
    }
    expect(h.json.totals).toEqual([{ origin: base, asset: '0x0000000000000000000000000000000000000000', assetId: 'eip155:31337/slip44:60', spent: '0', purchases: 2 }]);
    expect(await use(base, 'total')).toMatchObject({ spent: '0', remaining: (PRICE + 5n).toString() });
  }, 60_000);
});
