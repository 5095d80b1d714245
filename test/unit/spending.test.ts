/**
 * Issue 13 §3, the rules of budgets and the record of spending (core/spending): the rolling
 * windows' arithmetic, origins and `--since` as typed, what a purchase counts after the merchant's
 * answer, and the budget check on a real SQLite store (a temporary file): its window boundary,
 * `*` beside an origin's budget, one asset's budget against another asset's purchases, and a
 * refusal inside a transaction storing nothing. The commands and `buy` are in test/e2e/budget.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/index.js';
import { BudgetExceededError, checkBudgets, listBudgets, parseOrigin, removeBudget, setBudget, windowStart } from '../../src/core/spending/budget.js';
import { SpendingLedger, parseSince, purchaseHistory, spentAfter } from '../../src/core/spending/history.js';
import { evmNativeAsset, erc20Asset } from '../../src/families/evm/asset.js';
import { ExitCode } from '../../src/core/errors.js';

const NET = 'eip155:31337';
const ETH = evmNativeAsset(NET);
const TOKEN = erc20Asset(NET, '0x5FbDB2315678afecb367f032d93F642f64180aa3', { symbol: 'USDC', decimals: 6 });
const SHOP = 'https://shop.example';
const OTHER = 'http://127.0.0.1:4021';
const NOW = 1_800_000_000;

/** What `fn` throws (undefined when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
const DAY = 86_400;

describe('windowStart', () => {
  it.each([
    ['day', NOW, NOW - DAY],
    ['week', NOW, NOW - 7 * DAY],
    ['total', NOW, undefined],
  ] as const)('%s at %i starts after %s', (period, now, start) => {
    expect(windowStart(period, now)).toBe(start);
  });
});

describe('parseOrigin', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['HTTPS://API.Example.COM:443/', 'https://api.example.com'],
    ['http://127.0.0.1:4021', 'http://127.0.0.1:4021'],
    ['http://[::1]:80', 'http://[::1]'],
    ['https://xn--bcher-kva.example', 'https://xn--bcher-kva.example'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
    ['*', '*'],
  ])('%s → %s', (text, origin) => {
    expect(parseOrigin(text)).toBe(origin);
  });

  it.each([
    ['localhost:4021', /not an http\(s\) URL origin/],
    ['api.example.com', /not an http\(s\) URL origin/],
    ['ftp://example.com', /not an http\(s\) URL origin/],
    ['file:///etc/passwd', /not an http\(s\) URL origin/],
    ['', /not an http\(s\) URL origin/],
    ['https://api.example.com/weather', /not a path, query or credentials; did you mean https:\/\/api\.example\.com\?/],
    ['https://api.example.com/?', /did you mean/],
    ['https://api.example.com?q=1', /did you mean/],
    ['https://api.example.com/#top', /did you mean/],
    ['https://user:pw@api.example.com', /did you mean/],
    ['**', /not an http\(s\) URL origin/],
  ])('refuses %j (exit 2)', (text, message) => {
    expect(thrown(() => parseOrigin(text))).toMatchObject({ name: 'UsageError', exitCode: ExitCode.usage, message: expect.stringMatching(message) });
  });

  it('refuses * where one origin is needed (history --origin)', () => {
    expect(() => parseOrigin('*', { all: false })).toThrowErrorMatchingInlineSnapshot(`[UsageError: Invalid origin "*": name one origin, e.g. https://api.example.com.]`);
  });
});

describe('parseSince', () => {
  it.each([
    ['90s', NOW - 90],
    ['30m', NOW - 1800],
    ['24h', NOW - DAY],
    ['7d', NOW - 7 * DAY],
    ['2w', NOW - 14 * DAY],
    ['2026-11-30', Date.UTC(2026, 10, 30) / 1000],
    ['2026-11-30T12:00:00Z', Date.UTC(2026, 10, 30, 12) / 1000],
    ['2026-11-30T12:00:00+01:00', Date.UTC(2026, 10, 30, 11) / 1000],
  ])('%s → %i', (text, t) => {
    expect(parseSince(text, NOW)).toBe(t);
  });

  it.each(['yesterday', '24', 'h', '-1d', '1.5h', '2026-13-45', 'Tue, 01 Dec 2026 00:00:00 GMT', ''])('refuses %j (exit 2)', (text) => {
    expect(() => parseSince(text, NOW)).toThrowError(/^Invalid --since/);
  });
});

describe('spentAfter: what a purchase counts once answered', () => {
  const direct = { price: 1000n, fee: 0n, hub: undefined };
  const routed = { price: 1000n, fee: 11n, hub: 'http://127.0.0.1:4030' };
  const exact = { price: 1000n, fee: 0n, hub: undefined, scheme: 'exact' as const };
  it.each([
    ['direct', direct, 'pending', 1000n],
    ['direct', direct, 'paid', 1000n],
    ['direct', direct, 'not_charged', 0n],
    ['direct', direct, 'refused', 0n],
    ['routed', routed, 'pending', 1011n],
    ['routed', routed, 'paid', 1011n],
    ['routed', routed, 'not_charged', 11n],
    ['routed', routed, 'refused', 1011n],
    // x402 exact: the merchant holds a signed authorization it can redeem until validBefore, whatever it answered.
    ['exact', exact, 'pending', 1000n],
    ['exact', exact, 'paid', 1000n],
    ['exact', exact, 'not_charged', 1000n],
    ['exact', exact, 'refused', 1000n],
  ] as const)('%s, %s → %s', (_kind, p, status, spent) => {
    expect(spentAfter(p, status)).toBe(spent);
  });
});

describe('budgets on a real store', () => {
  const home = mkdtempSync(join(tmpdir(), 'channels-spending-'));
  const store = Store.open(home);
  afterAll(() => {
    store.close();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    store.db.exec('DELETE FROM purchases; DELETE FROM budgets;');
  });

  /** A purchase recorded `age` seconds before NOW, counting `spent`. */
  function bought(origin: string, spent: bigint, age: number, asset = ETH): void {
    store.purchases.insert({
      network: NET, asset: asset === ETH ? '0x0000000000000000000000000000000000000000' : '0x5FbDB2315678afecb367f032d93F642f64180aa3', assetId: asset.id,
      url: `${origin}/x`, origin, scheme: 'channel', price: spent, fee: 0n, spent, channelId: '0x01', lane: 0n, nonce: 1n, createdAt: NOW - age,
    });
  }
  const check = (origin: string, cost: bigint, asset = ETH) => checkBudgets(store, { asset, origin, cost, now: NOW });

  it('a rolling day counts what is younger than 24 h: a purchase exactly a day old is out, one a second younger is in', () => {
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'day', amount: 3000n });
    bought(SHOP, 1000n, DAY); // out of the window
    bought(SHOP, 1000n, DAY - 1); // in
    bought(SHOP, 1000n, 0); // in
    expect(() => check(SHOP, 1000n)).not.toThrow(); // 2000 + 1000 ≤ 3000
    expect(() => check(SHOP, 1001n)).toThrowError(BudgetExceededError);
    expect(listBudgets(store, NET, NOW).map((b) => [b.spent, b.remaining])).toEqual([[2000n, 1000n]]);
  });

  it('a week and a total count further back', () => {
    bought(SHOP, 1000n, 3 * DAY);
    bought(SHOP, 1000n, 30 * DAY);
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'week', amount: 1500n });
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'total', amount: 2500n });
    expect(listBudgets(store, NET, NOW).map((b) => [b.period, b.spent, b.remaining])).toEqual([['week', 1000n, 500n], ['total', 2000n, 500n]]);
    expect(() => check(SHOP, 500n)).not.toThrow();
    expect(() => check(SHOP, 501n)).toThrowError(BudgetExceededError);
  });

  it('the refusal names the budget with least left: its limit, period, spent and remaining; exit 3', () => {
    bought(SHOP, 4000n, 60);
    bought(OTHER, 5000n, 60);
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'day', amount: 6000n });
    setBudget(store, { network: NET, asset: ETH, origin: '*', period: 'total', amount: 10_000n });
    const err = thrown(() => check(SHOP, 1500n)) as BudgetExceededError; // SHOP: 4000 + 1500 ≤ 6000; *: 9000 + 1500 > 10000
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err!.exitCode).toBe(ExitCode.priceAboveMax);
    expect(err!.data).toEqual({ origin: '*', period: 'total', limit: '10000', spent: '9000', remaining: '1000', cost: '1500', assetId: ETH.id });
    expect(err!.shortMessage).toBe('Over budget: this purchase costs 1,500 wei, but the budget of every origin (*) is 10,000 wei in total; 9,000 wei spent so far, 1,000 wei remains.');
    // Both over: the one with less left.
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'day', amount: 4200n });
    expect(() => check(SHOP, 1500n)).toThrowError(/budget of https:\/\/shop\.example is 4,200 wei per rolling day \(the last 24 h\); 4,000 wei spent in the last 24 h, 200 wei remains/);
    // Another origin is not under SHOP's budget, only under *.
    expect(() => check(OTHER, 1000n)).not.toThrow();
  });

  it('a budget in one asset says nothing of another asset\'s purchases', () => {
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'total', amount: 1000n });
    bought(SHOP, 10n ** 9n, 60, TOKEN);
    expect(() => check(SHOP, 1000n)).not.toThrow(); // the token purchase does not count in ETH
    expect(() => check(SHOP, 10n ** 12n, TOKEN)).not.toThrow(); // no budget in the token
    setBudget(store, { network: NET, asset: TOKEN, origin: SHOP, period: 'total', amount: 2n * 10n ** 9n });
    expect(() => check(SHOP, 10n ** 9n + 1n, TOKEN)).toThrowError(/1,000 USDC spent so far, 1,000 USDC remains/);
    expect(removeBudget(store, { asset: TOKEN, origin: SHOP })).toEqual({ origin: SHOP, removed: 1 });
    expect(listBudgets(store, NET).map((b) => b.assetId)).toEqual([ETH.id]);
  });

  it('a refusal inside the voucher\'s transaction stores nothing (the ledger\'s record), a pass records the purchase', () => {
    setBudget(store, { network: NET, asset: ETH, origin: SHOP, period: 'total', amount: 2500n });
    const ledger = new SpendingLedger(store, { network: NET, asset: ETH, assetAddress: '0x0000000000000000000000000000000000000000', url: new URL(`${SHOP}/joke?x=1`), price: 1000n });
    const v = (nonce: bigint) => ({ channelId: '0xab', lane: 0n, nonce });
    const id1 = store.immediate(() => ledger.record(v(1n)));
    const id2 = store.immediate(() => ledger.record(v(2n)));
    const count = () => (store.db.prepare('SELECT count(*) AS n FROM purchases').get() as { n: number }).n;
    expect(() => store.immediate(() => {
      store.db.prepare("INSERT INTO budgets VALUES ('x', 'y', 'z', 'day', '1', 0, 0)").run(); // stands for the voucher's insert
      ledger.record(v(3n));
    })).toThrowError(BudgetExceededError);
    expect(count()).toBe(2);
    expect(store.db.prepare("SELECT count(*) AS n FROM budgets WHERE network = 'x'").get()).toEqual({ n: 0 }); // rolled back with it
    expect(store.purchases.get(id1)).toMatchObject({ url: `${SHOP}/joke?x=1`, origin: SHOP, status: 'pending', spent: 1000n, channelId: '0xab', lane: 0n, nonce: 1n });
    // The merchant did not charge the second: it no longer counts, so a third fits.
    ledger.answer(id2, { status: 'not_charged', receipt: { success: false, errorReason: 'resource_failed' } });
    expect(store.purchases.get(id2)).toMatchObject({ status: 'not_charged', spent: 0n, receipt: { success: false, errorReason: 'resource_failed' } });
    expect(() => store.immediate(() => ledger.record(v(3n)))).not.toThrow();
    ledger.answer(id1, { status: 'paid', receipt: { success: true } });
    const h = purchaseHistory(store, { network: NET });
    expect(h.purchases.map((p) => [p.nonce, p.status, p.spent])).toEqual([[3n, 'pending', 1000n], [2n, 'not_charged', 0n], [1n, 'paid', 1000n]]);
    expect(h.totals).toEqual([{ origin: SHOP, asset: '0x0000000000000000000000000000000000000000', assetId: ETH.id, spent: 2000n, count: 3 }]);
  });

  it('an exact purchase (issue 13 §2) is checked and recorded in one transaction: scheme exact, no channel, its authorization; refused over budget, nothing stored', () => {
    setBudget(store, { network: NET, asset: TOKEN, origin: SHOP, period: 'day', amount: 2500n });
    const ledger = new SpendingLedger(store, { network: NET, asset: TOKEN, assetAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3', url: new URL(`${SHOP}/joke`), price: 1000n });
    const auth = (n: number) => ({ from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: '1000', validAfter: '0', validBefore: '1800000060', nonce: `0x${String(n).padStart(64, '0')}` });
    const id1 = ledger.recordExact(auth(1));
    const id2 = ledger.recordExact(auth(2));
    const count = () => (store.db.prepare('SELECT count(*) AS n FROM purchases').get() as { n: number }).n;
    expect(thrown(() => ledger.recordExact(auth(3)))).toBeInstanceOf(BudgetExceededError);
    expect(count()).toBe(2);
    const p = store.purchases.get(id1)!;
    expect(p).toMatchObject({ scheme: 'exact', status: 'pending', spent: 1000n, authorization: auth(1) });
    expect(p.channelId).toBeUndefined();
    expect(p.lane).toBeUndefined();
    // A refusal does not give the budget back: the authorization can still be redeemed until validBefore.
    ledger.answer(id2, { status: 'refused', error: 'invalid_exact_evm_payload_signature' });
    expect(store.purchases.get(id2)).toMatchObject({ status: 'refused', spent: 1000n });
    expect(thrown(() => ledger.recordExact(auth(3)))).toBeInstanceOf(BudgetExceededError);
    // The table keeps the schemes apart: an exact row without its authorization, or a channel row without its voucher, is refused.
    expect(() => store.db.prepare("UPDATE purchases SET authorization = NULL WHERE id = ?").run(id1)).toThrowError(/CHECK constraint failed/);
    expect(() => store.db.prepare("UPDATE purchases SET channel_id = '0x01', lane = 0, nonce = 1 WHERE id = ?").run(id1)).toThrowError(/CHECK constraint failed/);
    expect(purchaseHistory(store, { network: NET }).totals).toEqual([{ origin: SHOP, asset: '0x5FbDB2315678afecb367f032d93F642f64180aa3', assetId: TOKEN.id, spent: 2000n, count: 2 }]);
  });
});
