/**
 * Issue 9 §3.6 (second half) and §3.7, with the real binary against a real
 * `channels serve --price 1000` on a real anvil:
 *
 * - The default deposit of a channel opened by `buy` scales with the price:
 *   `max(the 402's minDeposit, buy.depositRequests × price)` (default 1000 requests),
 *   instead of a fixed 0.1 ETH; `config set buy.deposit 0.01eth` still fixes it, and
 *   `config set buy.deposit auto` goes back to the scaled default. A wallet whose
 *   config.json stores the old default keeps working (and keeps its value).
 * - `open` without `--url`, then `buy` from that merchant: the channel is used and its
 *   endpoint bound (the 402's `extra.endpoint` resolved against the URL), so the payer's
 *   `close` can ask the merchant.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWallet, readConfig, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

const PRICE = 1000n;
let chain: Chain;
let shop: TestWallet;
let serve: Serve;
let dearShop: TestWallet;
let dearServe: Serve;

/** The tests' payers: each a fresh home, funded, made side by side before the tests. */
const PAYERS = ['fresh', 'dear', 'fifty', 'fixed', 'legacy', 'flag', 'binder'] as const;
let payers: Record<(typeof PAYERS)[number], TestWallet>;

/** The funded payer with a fresh home made for the test that names it. */
function newPayer(name: (typeof PAYERS)[number]): TestWallet {
  return payers[name];
}

/** `buy --yes` from `url`; returns the channel it opened and that channel's status. */
async function buyOpening(w: TestWallet, url: string) {
  const r = await w.run(['buy', url, '--max-price', '5000', '--yes', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.json.opened).not.toBeNull();
  const status = await w.run(['status', r.json.opened.channelId, '--json']);
  expect(status.code).toBe(0);
  return { bought: r.json, status: status.json };
}

beforeAll(async () => {
  chain = await startChain();
  const made = await Promise.all(['shop', 'dearshop', ...PAYERS].map((name) => makeWallet(name, chain.anvil.rpcUrl)));
  await Promise.all(made.map((w) => chain.fund(w.address)));
  [shop, dearShop] = made;
  payers = Object.fromEntries(PAYERS.map((name, i) => [name, made[i + 2]!])) as typeof payers;
  [serve, dearServe] = await Promise.all([
    startServe(shop, ['--price', String(PRICE)]),
    // A merchant whose minimum deposit (5,000,000 wei) is above 1000 × its price.
    startServe(dearShop, ['--price', String(PRICE), '--min-deposit', '5000000']),
  ]);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await dearServe?.stop();
  await chain?.stop();
});

describe('the default deposit of a channel opened by buy', { timeout: 240_000 }, () => {
  it('a fresh wallet opens 1000 × the price (1,000,000 wei), not 0.1 ETH', async () => {
    const w = newPayer('fresh');
    expect(readConfig(w.home).buy.deposit).toBeUndefined();
    const { bought, status } = await buyOpening(w, `${serve.url}/weather`);
    expect(status.deposit).toBe(String(1000n * PRICE));
    expect(bought.paid).toBe(String(PRICE));
  });

  it('the merchant\'s minDeposit when it is higher (5,000,000 wei)', async () => {
    const w = newPayer('dear');
    const { status } = await buyOpening(w, `${dearServe.url}/weather`);
    expect(status.deposit).toBe('5000000');
  });

  it('config set buy.depositRequests 500 opens 500 × the price', async () => {
    const w = newPayer('fifty');
    const set = await w.run(['config', 'set', 'buy.depositRequests', '500', '--json']);
    expect(set.code, set.stdout).toBe(0);
    expect(readConfig(w.home).buy.depositRequests).toBe(500);
    const { status } = await buyOpening(w, `${serve.url}/weather`);
    expect(status.deposit).toBe(String(500n * PRICE));
  });

  // Parsing rows run in process (test/helpers/in-process.ts); the first also through the binary, for its exit code.
  it.each([['0', 'binary'], ['-3', 'in process'], ['1.5', 'in process'], ['ten', 'in process']])('config set buy.depositRequests %s is refused (exit 2, %s) and writes nothing', async (v, via) => {
    const w = shop; // any wallet: nothing may change
    const before = readFileSync(join(w.home, 'config.json'), 'utf8');
    const args = ['config', 'set', 'buy.depositRequests', v, '--json'];
    const r = via === 'binary' ? await w.run(args) : await runInProcess(args, w.env);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toContain(`"${v}"`);
    expect(readFileSync(join(w.home, 'config.json'), 'utf8')).toBe(before);
  });

  it('config set buy.deposit 0.01eth opens 0.01 ETH; auto goes back to the scaled default', async () => {
    const w = newPayer('fixed');
    expect((await w.run(['config', 'set', 'buy.deposit', '0.01eth'])).code).toBe(0);
    const first = await buyOpening(w, `${serve.url}/weather`);
    expect(first.status.deposit).toBe('10000000000000000');

    const unset = await w.run(['config', 'set', 'buy.deposit', 'auto', '--json']);
    expect(unset.code, unset.stdout).toBe(0);
    expect(unset.json.value).toBeNull();
    expect(readConfig(w.home).buy.deposit).toBeUndefined();
    expect((await w.run(['config', 'get', 'buy.deposit', '--json'])).json.value).toBeNull();
    // A second merchant, so that the 0.01 ETH channel to the first is not reused.
    const second = await buyOpening(w, `${dearServe.url}/weather`);
    expect(second.status.deposit).toBe('5000000');
  });

  it('a wallet whose config.json stores the old defaults loads, keeps them, and buys with them', async () => {
    const w = newPayer('legacy');
    const file = join(w.home, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    // What conf wrote into every config.json before the deposit became optional.
    config.buy = { autoOpen: false, deposit: '100000000000000000', maxPrice: '10000000000000', settleDelay: 86400, bitcoinDeposit: '1000000', bitcoinMaxPrice: '10000', bitcoinExpiry: 604800 };
    writeFileSync(file, JSON.stringify(config, null, '\t'));
    const list = await w.run(['config', 'list', '--json']);
    expect(list.code, list.stdout).toBe(0);
    const { status } = await buyOpening(w, `${serve.url}/weather`);
    expect(status.deposit).toBe('100000000000000000');
  });

  it('--deposit still wins over everything', async () => {
    const w = newPayer('flag');
    const r = await w.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '2000000', '--yes', '--json']);
    expect(r.code, r.stdout).toBe(0);
    const status = await w.run(['status', r.json.opened.channelId, '--json']);
    expect(status.json.deposit).toBe('2000000');
  });
});

describe('open without --url, then buy: the merchant endpoint is bound', { timeout: 240_000 }, () => {
  it('buy pays on the opened channel and binds the endpoint; status shows it; close asks the merchant', async () => {
    const w = newPayer('binder');
    const opened = await w.run(['open', serve.payTo, '0.001eth', '--settle-delay', '3600', '--json']);
    expect(opened.code, opened.stdout + opened.stderr).toBe(0);
    expect(opened.json.endpoint).toBeNull();
    const id = opened.json.channelId;

    const r = await w.run(['buy', `${serve.url}/weather`, '--max-price', '5000']);
    expect(r.code, r.stderr).toBe(0);
    const endpoint = `${serve.url}/.well-known/channels`;
    expect(r.stderr).toContain(`Bound channel ${id} to the merchant's endpoint ${endpoint}`);

    const status = await w.run(['status', id, '--json']);
    expect(status.json).toMatchObject({ endpoint, vouchers: 1, spent: String(PRICE), charged: String(PRICE) });
    expect((await w.run(['list', '--json'])).json.channels).toHaveLength(1); // no second channel was opened

    // A second purchase keeps the binding and says nothing about it.
    const again = await w.run(['buy', `${serve.url}/joke`, '--max-price', '5000']);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('Bound channel');

    // The point of the binding: the payer's close asks the merchant, who redeems and closes at once.
    const closed = await w.run(['close', id, '--json']);
    expect(closed.code, closed.stdout + closed.stderr).toBe(0);
    expect(closed.json.result).toBe('closed');
  });
});
