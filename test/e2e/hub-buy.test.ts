/**
 * Issue 12 §1 third bullet, §2 first test: `channels buy` through a hub (DESIGN §11 "HTTP 402
 * through a hub"), on a real anvil with the real binaries. Four homes: a payer, a hub (`channels
 * hub`) and two merchants (`channels serve --hub <url>`). The payer's only channel goes to the
 * hub; the hub has a channel to each merchant. Twenty purchases from the two merchants go through
 * the hub over that one channel; every hop is simplified (no conditional amount left anywhere);
 * a routed proof replayed, with a wrong secret or for an unknown payment is refused with a 402
 * and changes nothing in the merchant's database; then the payees close every channel and the
 * money adds up to the wei from chain balances and the receipts' gas. The payer's history records
 * each routed purchase with its hub and fee, and a budget counts price + fee (issue 13 §3): ten buys
 * at once against four purchases' worth get exactly four through (each payment has a lane of its own).
 *
 * The paywalls and the hub run with a long --watch-interval: their redemption services would
 * otherwise close a channel whose conditional voucher is held for a moment (its lock is within
 * redeem.margin), which is not what this test is about.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { startHub, type Hub } from '../helpers/hub.js';

const DEPOSIT = 10n ** 16n;
const FEE_BASE = 10n;
const FEE_PPM = 1000n;
/** The two merchants' prices, wei. */
const PRICES = [1000n, 2500n] as const;
/** The deposit of the payer's direct channel to shop A (the last test's). */
const DIRECT = 10n ** 15n;
const PURCHASES = 20;
/** The hub's fee for `amount`: base + ceil(amount × ppm / 10^6). */
const feeOf = (amount: bigint) => FEE_BASE + (amount * FEE_PPM + 999_999n) / 1_000_000n;
const sha256 = (hex: string) => '0x' + createHash('sha256').update(Buffer.from(hex.slice(2), 'hex')).digest('hex');
const secret32 = () => '0x' + randomBytes(32).toString('hex');

let chain: Chain;
let payer: TestWallet;
let hubWallet: TestWallet;
let shops: TestWallet[];
let hub: Hub;
let serves: Serve[];
/** The hub's channel to each shop, the payer's channel to the hub. */
let toShop: string[];
let toHub: string;
/** The payer's direct channel to shop A, and what it paid on it. */
let direct: { id: string; paid: bigint } | undefined;
/** The block before the first transaction of the test's parties, and their balances then. */
let startBlock: number;
let before: Map<string, bigint>;
/** The routed purchases: the shop, the price, and what `buy --json` said of the payment. */
const bought: { shop: number; price: bigint; hash: string; secret: string; fee: bigint }[] = [];

/** Every row of a wallet's channels, vouchers and locked_payments tables, as text. */
function dbState(home: string): string {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify({
      channels: db.prepare('SELECT * FROM channels ORDER BY network, id').all(),
      vouchers: db.prepare('SELECT * FROM vouchers ORDER BY network, channel_id, lane, nonce').all(),
      locks: db.prepare('SELECT * FROM locked_payments ORDER BY network, hash, role').all(),
    });
  } finally {
    db.close();
  }
}

/** The payer's record of spending (issue 13 §3), as text. */
function purchases(home: string): string {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify(db.prepare('SELECT * FROM purchases ORDER BY id').all());
  } finally {
    db.close();
  }
}

/** Gas paid (wei) by each address over the blocks after `from`, from the receipts. */
async function gasPaid(from: number, addresses: string[]): Promise<Map<string, bigint>> {
  const paid = new Map(addresses.map((a) => [a.toLowerCase(), 0n]));
  const latest = await chain.provider.getBlockNumber();
  for (let n = from + 1; n <= latest; n++) {
    const block = await chain.provider.getBlock(n);
    for (const hash of block!.transactions) {
      const r = (await chain.provider.getTransactionReceipt(hash))!;
      const who = r.from.toLowerCase();
      if (paid.has(who)) paid.set(who, paid.get(who)! + r.gasUsed * r.gasPrice);
    }
  }
  return paid;
}

/** The 402 a shop answers an unpaid request with, decoded. */
async function challenge(serve: Serve): Promise<any> {
  const res = await fetch(`${serve.url}/joke`);
  expect(res.status).toBe(402);
  return JSON.parse(Buffer.from(res.headers.get('payment-required')!, 'base64').toString('utf8'));
}

/** A paid request to `serve` with a routed proof built by hand: the status, the body (parsed when JSON) and the receipt. */
async function routed(serve: Serve, hash: string, secret: string): Promise<{ status: number; body: any; receipt?: any }> {
  const accepted = (await challenge(serve)).accepts[0];
  const header = Buffer.from(JSON.stringify({ x402Version: 2, accepted, payload: { type: 'routed', hash, secret } })).toString('base64');
  const res = await fetch(`${serve.url}/joke`, { headers: { 'payment-signature': header } });
  const text = await res.text();
  const receipt = res.headers.get('payment-response');
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* the joke */
  }
  return { status: res.status, body, receipt: receipt ? JSON.parse(Buffer.from(receipt, 'base64').toString('utf8')) : undefined };
}

/** `status <id> --json` of every channel of a wallet. */
async function channelsOf(w: TestWallet): Promise<any[]> {
  const list = await w.run(['status', '--json']);
  expect(list.code, list.stdout + list.stderr).toBe(0);
  const out = [];
  for (const c of list.json.channels) {
    const r = await w.run(['status', c.channelId, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    out.push(r.json);
  }
  return out;
}

beforeAll(async () => {
  chain = await startChain();
  const [p, h, a, b] = await Promise.all([
    makeWallet('payer', chain.anvil.rpcUrl), makeWallet('hub', chain.anvil.rpcUrl), makeWallet('shopA', chain.anvil.rpcUrl), makeWallet('shopB', chain.anvil.rpcUrl),
  ]);
  [payer, hubWallet, shops] = [p, h, [a, b]];
  for (const w of [payer, hubWallet, ...shops]) await chain.fund(w.address, '1');
  startBlock = await chain.provider.getBlockNumber();
  before = new Map(await Promise.all([payer, hubWallet, ...shops].map(async (w) => [w.address, await chain.balance(w.address)] as const)));
  const quiet = ['--watch-interval', '3600'];
  hub = await startHub(hubWallet, ['--fee-base', FEE_BASE.toString(), '--fee-ppm', FEE_PPM.toString(), ...quiet]);
  serves = await Promise.all(shops.map((w, i) => startServe(w, ['--price', PRICES[i].toString(), '--hub', hub.url, ...quiet])));
  toShop = [];
  for (const [i, w] of shops.entries()) {
    const r = await hubWallet.run(['open', w.address, DEPOSIT.toString(), '--url', `${serves[i].url}/.well-known/channels`, '--settle-delay', '3600', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    toShop.push(r.json.channelId);
  }
  const r = await payer.run(['open', hub.address, DEPOSIT.toString(), '--settle-delay', '3600', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  toHub = r.json.channelId;
}, 120_000);

afterAll(async () => {
  await Promise.all([hub?.stop(), ...(serves ?? []).map((s) => s.stop())]);
  await chain?.stop();
});

describe('buy through a hub', () => {
  it('the 402 lists the hub and the merchant\'s public key', async () => {
    for (const [i, s] of serves.entries()) {
      const entry = (await challenge(s)).accepts[0];
      expect(entry.payTo).toBe(shops[i].address);
      expect(entry.extra.hubs).toEqual([{ endpoint: hub.url, address: hub.address }]);
      expect(entry.extra.payToPubkey).toMatch(/^0x0[23][0-9a-f]{64}$/);
    }
  });

  it('serve --hub refuses a hub on another network or no hub at all (exit 2), before listening', async () => {
    // A hostile server posing as hubs: one on another chain, one that is no hub.
    const server = createServer((req, res) => {
      if (req.url === '/mainnet/') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ ...hub.info, network: 'eip155:1' }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const other = await shops[1].run(['serve', '--port', '0', '--price', '1000', '--hub', `${base}/mainnet`, '--json']);
      expect(other.code, other.stdout + other.stderr).toBe(2);
      expect(other.stderr + other.stdout).toMatch(/routes on eip155:1, not on this paywall's eip155:31337/);
      const none = await shops[1].run(['serve', '--port', '0', '--price', '1000', '--hub', `${base}/nothing`, '--json']);
      expect(none.code, none.stdout + none.stderr).toBe(2);
      expect(none.stderr + none.stdout).toMatch(/is not a channels hub/);
    } finally {
      server.close();
    }
  }, 60_000);

  it(`${PURCHASES} purchases from two merchants over one channel to the hub, each proven by its secret`, async () => {
    // Two at a time, one from each merchant: two payments in flight on the one channel to the hub. The last two name the hub (--via).
    for (let n = 0; n < PURCHASES; n += 2) {
      await Promise.all([0, 1].map(async (shop) => {
        const r = await payer.run(['buy', `${serves[shop].url}/joke`, '--max-price', '5000', '--json', ...(n === PURCHASES - 2 ? ['--via', hub.url] : [])]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.json.status).toBe(200);
        expect(r.json.paid).toBe(PRICES[shop].toString());
        expect(r.json.opened).toBeNull();
        expect(r.json.channelId).toBe(toHub);
        expect(r.json.routed).toMatchObject({ hub: hub.url, fee: feeOf(PRICES[shop]).toString() });
        expect(sha256(r.json.routed.secret)).toBe(r.json.routed.hash);
        bought.push({ shop, price: PRICES[shop], hash: r.json.routed.hash, secret: r.json.routed.secret, fee: BigInt(r.json.routed.fee) });
      }));
    }
    expect(new Set(bought.map((b) => b.hash)).size).toBe(PURCHASES);
    // The payer has one channel, to the hub: no channel to a merchant was opened.
    const mine = await payer.run(['status', '--json']);
    expect(mine.json.channels.map((c: any) => c.channelId)).toEqual([toHub]);
  }, 120_000);

  it('history lists each purchase through the hub with its hub, fee and receipt; the totals per origin are price + fee', async () => {
    const h = await payer.run(['history', '--json']);
    expect(h.code, h.stdout + h.stderr).toBe(0);
    const rows: any[] = h.json.purchases;
    expect(rows).toHaveLength(PURCHASES);
    for (const b of bought) {
      const row = rows.find((p) => p.receipt?.extra?.hash === b.hash);
      expect(row).toMatchObject({
        url: `${serves[b.shop].url}/joke`, origin: new URL(serves[b.shop].url).origin, scheme: 'channel', hub: hub.url, status: 'paid',
        price: b.price.toString(), fee: b.fee.toString(), spent: (b.price + b.fee).toString(), channelId: toHub,
        receipt: { success: true, payer: hub.address, extra: { hash: b.hash, channelId: toShop[b.shop] } },
      });
      expect(BigInt(row.lane)).toBeGreaterThan(0n); // the payment's lane of the channel to the hub
    }
    for (const shop of [0, 1]) {
      const total = h.json.totals.find((t: any) => t.origin === new URL(serves[shop].url).origin);
      const mine = bought.filter((b) => b.shop === shop);
      expect(total).toMatchObject({ spent: mine.reduce((x, b) => x + b.price + b.fee, 0n).toString(), purchases: mine.length });
    }
  }, 60_000);

  it('a budget counts price + fee: a purchase through the hub over it is exit 3 and stores nothing; of ten buys at once against four purchases\' worth, exactly four go through', async () => {
    const origin = new URL(serves[1].url).origin;
    const cost = PRICES[1] + feeOf(PRICES[1]);
    const spent = bought.filter((b) => b.shop === 1).reduce((x, b) => x + b.price + b.fee, 0n);
    // One wei short of price + fee: the price alone would fit.
    let r = await payer.run(['budget', 'set', origin, (spent + cost - 1n).toString(), '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.spent).toBe(spent.toString());
    const snapshot = dbState(payer.home) + purchases(payer.home);
    r = await payer.run(['buy', `${serves[1].url}/joke`, '--max-price', '5000', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error.data).toMatchObject({ origin, period: 'total', spent: spent.toString(), remaining: (cost - 1n).toString(), cost: cost.toString() });
    expect(dbState(payer.home) + purchases(payer.home)).toBe(snapshot);
    // Room for four: ten processes race; the budget is checked in each conditional voucher's transaction.
    r = await payer.run(['budget', 'set', origin, (spent + 4n * cost).toString()]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const results = await Promise.all(Array.from({ length: 10 }, () => payer.run(['buy', `${serves[1].url}/joke`, '--max-price', '5000', '--json'])));
    expect(results.map((x) => x.code).sort(), results.map((x) => x.stdout + x.stderr).join('\n')).toEqual([0, 0, 0, 0, 3, 3, 3, 3, 3, 3]);
    for (const x of results.filter((y) => y.code === 3)) expect(x.json.error.code).toBe('BUDGET_EXCEEDED');
    for (const x of results.filter((y) => y.code === 0)) {
      expect(x.json.routed).toMatchObject({ hub: hub.url, fee: feeOf(PRICES[1]).toString() });
      bought.push({ shop: 1, price: PRICES[1], hash: x.json.routed.hash, secret: x.json.routed.secret, fee: BigInt(x.json.routed.fee) });
    }
    const list = await payer.run(['budget', 'list', '--json']);
    expect(list.json.budgets).toEqual([expect.objectContaining({ origin, spent: (spent + 4n * cost).toString(), remaining: '0' })]);
    expect((await payer.run(['budget', 'remove', origin])).code).toBe(0);
  }, 120_000);

  it('a routed proof replayed, with a wrong secret, or for a payment the merchant does not hold is a 402 that changes nothing', async () => {
    const first = bought.find((b) => b.shop === 0)!;
    const other = bought.find((b) => b.shop === 1)!;
    const unknown = secret32();
    const cases: [string, number, string, string, string][] = [
      ['replayed', 0, first.hash, first.secret, 'already_used'],
      ['a wrong secret', 0, first.hash, secret32(), 'wrong_secret'],
      ['an unknown hash', 0, sha256(unknown), unknown, 'unknown_payment'],
      ['a payment to the other merchant', 0, other.hash, other.secret, 'unknown_payment'],
    ];
    for (const [what, shop, hash, secret, reason] of cases) {
      const snapshot = dbState(shops[shop].home);
      const r = await routed(serves[shop], hash, secret);
      expect({ what, status: r.status, reason: r.body.reason }).toEqual({ what, status: 402, reason });
      expect(r.body.error).toEqual(expect.any(String));
      expect(dbState(shops[shop].home), what).toBe(snapshot);
    }
  }, 60_000);

  it('a resource that fails charges nothing: the payment through the hub stays unused, and its proof buys the next request once', async () => {
    const r = await payer.run(['buy', `${serves[1].url}/no-such-resource`, '--max-price', '5000', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1); // the resource's 404
    expect({ status: r.json.status, paid: r.json.paid }).toEqual({ status: 404, paid: '0' });
    const { hash, secret } = r.json.routed;
    bought.push({ shop: 1, price: PRICES[1], hash, secret, fee: BigInt(r.json.routed.fee) });
    // Recorded as not charged (the receipt says so): the hub's fee counts, the price the merchant kept unused does not.
    const h = await payer.run(['history', '--json']);
    expect(h.json.purchases[0]).toMatchObject({ status: 'not_charged', fee: r.json.routed.fee, spent: r.json.routed.fee, receipt: { success: false, errorReason: 'resource_failed', extra: { hash } } });
    const again = await routed(serves[1], hash, secret);
    expect(again.status).toBe(200);
    expect(again.receipt).toMatchObject({ success: true, payer: hub.address, extra: { hash, channelId: toShop[1] } });
    expect((await routed(serves[1], hash, secret)).body.reason).toBe('already_used');
  }, 60_000);

  it('a hub fee above --max-fee is exit 3, and a buyer with no channel at all is refused (exit 5) as before; nothing is written', async () => {
    const snapshot = dbState(payer.home);
    const r = await payer.run(['buy', `${serves[0].url}/joke`, '--max-price', '5000', '--max-fee', '10', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error.message).toMatch(/asks a fee of 11 .* above --max-fee 10/);
    expect(dbState(payer.home)).toBe(snapshot);
    // The same bound from config (buy.maxFee), named as such; --max-fee overrides it.
    const set = await payer.run(['config', 'set', 'buy.maxFee', '10']);
    expect(set.code, set.stdout + set.stderr).toBe(0);
    const c = await payer.run(['buy', `${serves[0].url}/joke`, '--max-price', '5000', '--json']);
    expect(c.code, c.stdout + c.stderr).toBe(3);
    expect(c.json.error.message).toMatch(/asks a fee of 11 .* above buy\.maxFee 10/);
    expect(dbState(payer.home)).toBe(snapshot);
    const unset = await payer.run(['config', 'set', 'buy.maxFee', 'auto']);
    expect(unset.code, unset.stdout + unset.stderr).toBe(0);
    // No channel to the hub: the listed hub is not asked, and without --yes nothing is opened.
    const stranger = await makeWallet('stranger', chain.anvil.rpcUrl);
    const s = await stranger.run(['buy', `${serves[1].url}/joke`, '--max-price', '5000', '--json']);
    expect(s.code, s.stdout + s.stderr).toBe(5);
    expect(s.json.error.message).toMatch(/No open channel to .* can pay 2,500 wei/);
  }, 60_000);

  it('with a channel to the merchant the buyer pays it directly; --via still goes through the hub', async () => {
    const o = await payer.run(['open', shops[0].address, DIRECT.toString(), '--url', `${serves[0].url}/.well-known/channels`, '--settle-delay', '3600', '--json']);
    expect(o.code, o.stdout + o.stderr).toBe(0);
    const d = await payer.run(['buy', `${serves[0].url}/joke`, '--max-price', '5000', '--json']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect({ channelId: d.json.channelId, paid: d.json.paid, routed: d.json.routed }).toEqual({ channelId: o.json.channelId, paid: PRICES[0].toString(), routed: null });
    direct = { id: o.json.channelId, paid: PRICES[0] };
    const v = await payer.run(['buy', `${serves[0].url}/joke`, '--max-price', '5000', '--via', hub.url, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.json.channelId).toBe(toHub);
    expect(v.json.routed).toMatchObject({ hub: hub.url, fee: feeOf(PRICES[0]).toString() });
    bought.push({ shop: 0, price: PRICES[0], hash: v.json.routed.hash, secret: v.json.routed.secret, fee: BigInt(v.json.routed.fee) });
  }, 60_000);

  it('every hop is simplified: no conditional amount on any channel of any home, and the sums add up', async () => {
    const prices = (shop: number) => bought.filter((b) => b.shop === shop).reduce((s, b) => s + b.price, 0n);
    const fees = bought.reduce((s, b) => s + b.fee, 0n);
    // The hub hands each merchant its unconditional voucher just after answering the payer: wait for the last ones.
    const deadline = Date.now() + 60_000;
    let all: any[] = [];
    for (;;) {
      all = (await Promise.all([payer, hubWallet, ...shops].map(channelsOf))).flat();
      if (all.every((c) => c.conditional === '0') || Date.now() > deadline) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    expect(all).toHaveLength(2 * 4); // four channels (payer→hub, hub→A, hub→B, payer→A), each seen from both ends
    for (const c of all) expect({ id: c.channelId, direction: c.direction, conditional: c.conditional }).toEqual({ id: c.channelId, direction: c.direction, conditional: '0' });
    const view = (w: TestWallet, id: string) => all.find((c) => c.channelId === id && (c.direction === 'inbound' ? c.payee : c.payer) === w.address);
    for (const w of [payer, hubWallet]) expect(view(w, toHub).spent).toBe((prices(0) + prices(1) + fees).toString());
    for (const i of [0, 1]) {
      expect(view(hubWallet, toShop[i]).spent).toBe(prices(i).toString());
      expect(view(shops[i], toShop[i]).spent).toBe(prices(i).toString());
      expect(view(shops[i], toShop[i]).charged).toBe(prices(i).toString());
    }
    for (const w of [payer, shops[0]]) expect(view(w, direct!.id).spent).toBe(direct!.paid.toString());
    const st = await hubWallet.run(['hub', 'status', '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    expect(st.json.payments.fulfilled).toBe(bought.length);
    expect(st.json.feesEarned).toBe(fees.toString());
  }, 90_000);

  it('the payees close every channel; the money adds up to the wei', async () => {
    await Promise.all([hub.stop(), ...serves.map((s) => s.stop())]);
    // Three payees, three homes: the closes go at once (shop A's two channels one after the other).
    const closes = await Promise.all([
      shops[0].run(['close', toShop[0], '--json']).then(async (r) => [r, await shops[0].run(['close', direct!.id, '--json'])]),
      shops[1].run(['close', toShop[1], '--json']), hubWallet.run(['close', toHub, '--json']),
    ]);
    for (const r of closes.flat()) expect(r.code, r.stdout + r.stderr).toBe(0);
    // The payers of those channels (the hub for the shops', the payer for the hub's) learn it from the chain.
    for (const s of await Promise.all([payer, hubWallet].map((w) => w.run(['sync', '--json'])))) expect(s.code, s.stdout + s.stderr).toBe(0);
    for (const list of await Promise.all([payer, hubWallet, ...shops].map((w) => w.run(['status', '--json'])))) {
      expect(list.json.channels.length).toBeGreaterThan(0);
      for (const c of list.json.channels) expect({ id: c.channelId, state: c.state }).toEqual({ id: c.channelId, state: 'closed' });
    }

    const prices = (shop: number) => bought.filter((b) => b.shop === shop).reduce((s, b) => s + b.price, 0n);
    const fees = bought.reduce((s, b) => s + b.fee, 0n);
    const gas = await gasPaid(startBlock, [payer, hubWallet, ...shops].map((w) => w.address));
    const change = async (w: TestWallet) => (await chain.balance(w.address)) - before.get(w.address)!;
    const gasOf = (w: TestWallet) => gas.get(w.address.toLowerCase())!;
    expect(await change(payer)).toBe(-(prices(0) + prices(1) + fees + direct!.paid) - gasOf(payer));
    expect(await change(hubWallet)).toBe(fees - gasOf(hubWallet));
    expect(await change(shops[0])).toBe(prices(0) + direct!.paid - gasOf(shops[0]));
    expect(await change(shops[1])).toBe(prices(1) - gasOf(shops[1]));
    // Each party paid for its own transactions only: the payer its opens, the hub its opens and its close, the shops their closes.
    for (const w of [payer, hubWallet, ...shops]) expect(gasOf(w)).toBeGreaterThan(0n);
  }, 90_000);
});
