/**
 * Issue 13 §2: `channels buy` pays an ordinary x402 seller's `exact` scheme. The seller is the x402
 * Foundation's own code, unmodified (test/helpers/x402-seller.ts): `@x402/express`'s paymentMiddleware,
 * `@x402/evm`'s exact server scheme, and a local facilitator (`x402Facilitator` + `@x402/evm`'s exact
 * facilitator scheme on a viem wallet client) that verifies and settles on a real anvil, in the devnet's
 * EIP-3009 test token (TestUSD). The buyer is the real `channels` binary. Balances are read on chain.
 *
 * Also: over --max-price or over a budget nothing is signed, sent or recorded (the facilitator saw no
 * payment); a resource that fails is not settled, yet counts (the seller holds the authorization until it
 * expires); hostile `exact` entries are refused before anything is signed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, Wallet, getAddress } from 'ethers';
import { encodePaymentRequiredHeader } from '@x402/core/http';
import { ANVIL_KEYS } from '../helpers/anvil.js';
import { dbSnapshot, makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { TEST_USD_DOMAIN, startExactSeller, startTwoSchemeSeller, type ExactSeller } from '../helpers/x402-seller.js';
import { deployTestUSD } from '../../src/devnet/index.js';
import { EIP3009_TRANSFER_GAS } from '../../src/families/evm/exact.js';

const PRICE = 1000n; // $0.001 in a 6-decimal token
const SELLER = getAddress('0x00000000000000000000000000000000005e11e7');

let chain: Chain;
let usdc: string;
let token: Contract;
let seller: ExactSeller;
let buyer: TestWallet;

/** Names the test token `usdc` on the wallet's devnet, as `channels config import <devnet.json>` does after `channels devnet` (issue 13 §1). */
async function withUsdc(w: TestWallet): Promise<void> {
  const file = join(w.home, 'devnet-networks.json');
  writeFileSync(file, JSON.stringify({
    networks: { devnet: { kind: 'evm', caip2: `eip155:${chain.anvil.chainId}`, rpcUrl: chain.anvil.rpcUrl, assets: { usdc: { symbol: 'USDC', address: usdc, decimals: 6 } } } },
  }));
  const r = await w.run(['config', 'import', file, '--json']);
  if (r.code !== 0) throw new Error(`config import: ${r.stdout}${r.stderr}`);
}

const balance = async (address: string): Promise<bigint> => token.getFunction('balanceOf')(address);

/** The wallet's purchases, as stored. */
function purchases(home: string): Record<string, unknown>[] {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM purchases ORDER BY id').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  chain = await startChain();
  // Anyone may mint TestUSD: a key of its own, so its nonces never race the chain's funder.
  const minter = new Wallet(ANVIL_KEYS[1], chain.provider);
  ({ address: usdc } = await deployTestUSD(minter, chain.provider));
  token = new Contract(usdc, ['function mint(address to, uint256 amount)', 'function balanceOf(address) view returns (uint256)', 'function authorizationState(address, bytes32) view returns (bool)'], minter);
  buyer = await makeWallet('exact-buyer', chain.anvil.rpcUrl);
  await withUsdc(buyer);
  await (await token.getFunction('mint')(buyer.address, 10_000_000n)).wait(); // 10 USDC
  seller = await startExactSeller({ rpcUrl: chain.anvil.rpcUrl, chainId: chain.anvil.chainId, usdc, payTo: SELLER, facilitatorKey: ANVIL_KEYS[2] as `0x${string}` });
}, 120_000);

afterAll(async () => {
  await seller?.stop();
  await chain?.stop();
});

describe('channels buy against an unmodified @x402/express seller of scheme exact', { timeout: 240_000 }, () => {
  it('gets the resource; the token moves from the buyer to the seller on chain; history shows scheme exact with the receipt', async () => {
    const [buyerBefore, sellerBefore] = [await balance(buyer.address), await balance(SELLER)];
    const r = await buyer.run(['buy', `${seller.url}/weather`, '--max-price', '0.01usdc', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: 200, paid: PRICE.toString(), scheme: 'exact', channelId: null, voucher: null, opened: null });
    expect(JSON.parse(r.json.body)).toEqual({ city: 'Lisbon', sky: 'clear' });
    // The receipt's transaction is the facilitator's settlement, mined.
    expect(r.json.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(seller.settlements).toContain(r.json.transaction);
    const settled = (await chain.provider.getTransactionReceipt(r.json.transaction))!;
    expect(settled.status).toBe(1);
    // The estimate buy weighs against a channel (EIP3009_TRANSFER_GAS, a payee already holding the token) is this
    // transfer's gas to a payee holding none, less the ≈ 17,100 of creating its balance slot (calldata varies a little).
    expect(settled.gasUsed).toBeGreaterThan(EIP3009_TRANSFER_GAS);
    expect(settled.gasUsed).toBeLessThanOrEqual(EIP3009_TRANSFER_GAS + 17_500n);
    expect(await balance(buyer.address)).toBe(buyerBefore - PRICE);
    expect(await balance(SELLER)).toBe(sellerBefore + PRICE);
    // What was signed: this wallet to the seller, the price; the token marked its nonce used.
    expect(r.json.authorization).toMatchObject({ from: buyer.address, to: SELLER, value: PRICE.toString(), validAfter: '0' });
    expect(await token.getFunction('authorizationState')(buyer.address, r.json.authorization.nonce)).toBe(true);

    const h = await buyer.run(['history', '--json']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.json.purchases[0]).toMatchObject({
      url: `${seller.url}/weather`, scheme: 'exact', status: 'paid', price: '1000', spent: '1000', channelId: null, lane: null, nonce: null,
      asset: usdc, authorization: r.json.authorization, receipt: { success: true, transaction: r.json.transaction, network: 'eip155:31337' },
    });
    expect(h.json.totals).toEqual([{ origin: seller.url, asset: usdc, assetId: `eip155:31337/erc20:${usdc}`, spent: '1000', purchases: 1 }]);
    // No channel was opened for a one-off.
    expect(JSON.parse(dbSnapshot(buyer.home))).toEqual({ channels: [], vouchers: [] });
  });

  it('over --max-price: exit 3, nothing signed, sent or recorded', async () => {
    const [rows, calls, before] = [purchases(buyer.home).length, { ...seller.calls }, await balance(buyer.address)];
    const r = await buyer.run(['buy', `${seller.url}/weather`, '--max-price', '0.0009usdc', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error).toMatchObject({ code: 'PRICE_ABOVE_MAX', data: { price: '1000', maxPrice: '900' } });
    expect(r.json.error.message).toMatch(/The price 0\.001 USDC \(x402 `exact`\) is above --max-price 0\.0009 USDC/);
    expect(purchases(buyer.home).length).toBe(rows);
    expect(seller.calls).toEqual(calls);
    expect(await balance(buyer.address)).toBe(before);
  });

  it('a --max-price in the native coin does not pay a token: exit 3, naming the merchant\'s token', async () => {
    const [rows, calls] = [purchases(buyer.home).length, { ...seller.calls }];
    const r = await buyer.run(['buy', `${seller.url}/weather`, '--max-price', '1eth', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error.message).toMatch(/charges 0\.001 USDC \(x402 `exact`\), not in --max-price's asset \(1 ETH\)/);
    expect(purchases(buyer.home).length).toBe(rows);
    expect(seller.calls).toEqual(calls);
  });

  it('over a budget in the token: exit 3 with what remains, nothing sent (the facilitator saw no payment), nothing recorded', async () => {
    // One purchase (0.001 USDC) is recorded for this origin: a limit of 0.0015 USDC leaves 0.0005, less than the price.
    const set = await buyer.run(['budget', 'set', seller.url, '0.0015usdc', '--per', 'day', '--json']);
    expect(set.code, set.stdout + set.stderr).toBe(0);
    expect(set.json).toMatchObject({ limit: '1500', spent: '1000', remaining: '500' });
    const [rows, calls, before] = [purchases(buyer.home).length, { ...seller.calls }, await balance(buyer.address)];
    const r = await buyer.run(['buy', `${seller.url}/weather`, '--max-price', '0.01usdc', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error).toMatchObject({ code: 'BUDGET_EXCEEDED', data: { origin: seller.url, limit: '1500', spent: '1000', remaining: '500', cost: '1000' } });
    expect(seller.calls).toEqual(calls);
    expect(purchases(buyer.home).length).toBe(rows);
    expect(await balance(buyer.address)).toBe(before);
    const removed = await buyer.run(['budget', 'remove', seller.url, '--asset', 'usdc', '--json']);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
  });

  it('a resource that fails after the payment was verified: not settled, the token stays; recorded not_charged, and it counts', async () => {
    const [calls, before, sellerBefore] = [{ ...seller.calls }, await balance(buyer.address), await balance(SELLER)];
    const r = await buyer.run(['buy', `${seller.url}/broken`, '--max-price', '0.01usdc', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1); // an HTTP error, as curl --fail
    expect(r.json).toMatchObject({ status: 500, paid: '0', scheme: 'exact', transaction: null });
    expect(seller.calls.verify).toBe(calls.verify + 1);
    expect(seller.calls.settle).toBe(calls.settle);
    expect(await balance(buyer.address)).toBe(before);
    expect(await balance(SELLER)).toBe(sellerBefore);
    const last = purchases(buyer.home).at(-1)!;
    expect(last).toMatchObject({ scheme: 'exact', status: 'not_charged', spent: '1000', channel_id: null });
    expect(JSON.parse(last.authorization as string).nonce).toBe(r.json.authorization.nonce);
  });
});

describe('hostile exact entries are refused before anything is signed', { timeout: 240_000 }, () => {
  /** A server answering every request with a 402 offering `entry`; counts requests and payment headers. */
  async function serve402(entry: Record<string, unknown>): Promise<{ url: string; server: Server; hits: () => number; payments: () => number }> {
    let hits = 0;
    let payments = 0;
    const server = createServer((req, res) => {
      hits++;
      if (req.headers['payment-signature']) payments++;
      res.writeHead(402, { 'payment-required': encodePaymentRequiredHeader({ x402Version: 2, error: 'Payment required', resource: { url: 'http://x/weather' }, accepts: [entry] } as never) });
      res.end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/weather`, server, hits: () => hits, payments: () => payments };
  }
  const entry = () => ({ scheme: 'exact', network: 'eip155:31337', amount: '1000', asset: usdc, payTo: SELLER, maxTimeoutSeconds: 60, extra: { ...TEST_USD_DOMAIN } });

  it.each([
    { name: 'the token\'s EIP-712 name is not extra.name', patch: { extra: { name: 'USD Coin', version: '1' } }, code: 'PAYMENT_REFUSED', message: /is not "USD Coin" version 1 on eip155:31337/ },
    { name: 'the token\'s EIP-712 version is not extra.version', patch: { extra: { name: TEST_USD_DOMAIN.name, version: '2' } }, code: 'PAYMENT_REFUSED', message: /its EIP-712 domain differs/ },
    { name: 'no EIP-712 domain in extra', patch: { extra: {} }, code: 'PAYMENT_REFUSED', message: /does not name its token's EIP-712 domain/ },
    { name: 'an authorization valid for a day', patch: { maxTimeoutSeconds: 86_400 }, code: 'PAYMENT_REFUSED', message: /valid 86400 s; channels signs one valid 1 to 3600 s/ },
    { name: 'Permit2 instead of EIP-3009', patch: { extra: { ...TEST_USD_DOMAIN, assetTransferMethod: 'permit2' } }, code: 'PAYMENT_REFUSED', message: /by permit2; channels signs EIP-3009 authorizations only/ },
    { name: 'payTo not an address', patch: { payTo: 'bob' }, code: 'PAYMENT_REFUSED', message: /not both addresses/ },
    { name: 'a price of 0', patch: { amount: '0' }, code: 'PAYMENT_REFUSED', message: /a transfer of 0/ },
    { name: 'more than the wallet holds', patch: { amount: '1000000000' }, maxPrice: '100000usdc', code: 'INSUFFICIENT_FUNDS', message: /holds [\d.,]+ USDC, less than the price 1,000 USDC/ },
  ])('$name: $code, no payment sent, nothing recorded', async (row) => {
    const { url, server, hits, payments } = await serve402({ ...entry(), ...row.patch });
    const rows = purchases(buyer.home).length;
    try {
      const r = await buyer.run(['buy', url, '--max-price', row.maxPrice ?? '0.01usdc', '--json']);
      expect(r.json?.error?.code, r.stdout + r.stderr).toBe(row.code);
      expect(r.json.error.message).toMatch(row.message);
      expect(hits()).toBe(1);
      expect(payments()).toBe(0);
      expect(purchases(buyer.home).length).toBe(rows);
    } finally {
      server.close();
    }
  });

});

describe('a seller offering both channel and exact: an open channel first, then exact, then a channel when --expect makes it cheaper', { timeout: 300_000 }, () => {
  let shop: TestWallet;
  let paywall: Serve;
  let exactSeller: ExactSeller;
  let both: { url: string; stop(): Promise<void> };
  /** A fresh buyer with ETH for gas and 10 USDC, the token named usdc. */
  async function freshBuyer(name: string): Promise<TestWallet> {
    const b = await makeWallet(name, chain.anvil.rpcUrl);
    await withUsdc(b);
    await chain.fund(b.address, '1');
    await (await token.getFunction('mint')(b.address, 10_000_000n)).wait();
    return b;
  }
  const buy = (b: TestWallet, ...args: string[]) => b.run(['buy', `${both.url}/weather`, '--max-price', '0.01usdc', '--deposit', '1usdc', '--json', ...args]);

  beforeAll(async () => {
    // One merchant, two real sellers: a `channels serve` paywall in USDC and the x402 exact seller, both paying the shop's address.
    shop = await makeWallet('both-shop', chain.anvil.rpcUrl);
    await withUsdc(shop);
    await chain.fund(shop.address, '1');
    paywall = await startServe(shop, ['--price', '0.001usdc', '--min-deposit', '1usdc']);
    exactSeller = await startExactSeller({ rpcUrl: chain.anvil.rpcUrl, chainId: chain.anvil.chainId, usdc, payTo: shop.address, facilitatorKey: ANVIL_KEYS[3] as `0x${string}` });
    both = await startTwoSchemeSeller(paywall.url, exactSeller.url);
  }, 120_000);
  afterAll(async () => {
    await both?.stop();
    await exactSeller?.stop();
    await paywall?.stop();
  });

  it('offers both, in the token', async () => {
    const res = await fetch(`${both.url}/weather`);
    expect(res.status).toBe(402);
    const accepts = JSON.parse(Buffer.from(res.headers.get('payment-required')!, 'base64').toString()).accepts;
    expect(accepts.map((a: { scheme: string; asset: string; amount: string }) => [a.scheme, a.asset.toLowerCase(), a.amount])).toEqual([
      ['channel', usdc.toLowerCase(), '1000'], ['exact', usdc.toLowerCase(), '1000'],
    ]);
  });

  it('with an open channel to the merchant: paid by the channel, the exact seller never asked', async () => {
    const b = await freshBuyer('both-open');
    const open = await b.run(['buy', `${paywall.url}/weather`, '--max-price', '0.01usdc', '--deposit', '1usdc', '--yes', '--json']);
    expect(open.code, open.stdout + open.stderr).toBe(0);
    expect(open.json.opened?.channelId).toBeTruthy();
    const calls = { ...exactSeller.calls };
    const r = await buy(b, '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: 200, scheme: 'channel', channelId: open.json.channelId, opened: null, transaction: null, paid: '1000' });
    expect(r.json.voucher).toMatchObject({ nonce: '2', amount: '2000' });
    expect(exactSeller.calls).toEqual(calls);
    const h = await b.run(['history', '--json']);
    expect(h.json.purchases.map((p: { scheme: string }) => p.scheme)).toEqual(['channel', 'channel']);
  });

  it('without one: exact for a one-off (with --yes too, at --expect 1), no channel opened, the token moves on chain', async () => {
    const b = await freshBuyer('both-once');
    const [before, shopBefore] = [await balance(b.address), await balance(shop.address)];
    const r = await buy(b, '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: 200, scheme: 'exact', channelId: null, opened: null, paid: '1000' });
    expect(exactSeller.settlements).toContain(r.json.transaction);
    expect(await balance(b.address)).toBe(before - PRICE);
    expect(await balance(shop.address)).toBe(shopBefore + PRICE);
    expect(JSON.parse(dbSnapshot(b.home))).toEqual({ channels: [], vouchers: [] });
  });

  it('--expect 10 with --yes: a channel (≈ 235,000 gas) costs less than 10 exact payments (≈ 69,000 each), so one is opened and pays', async () => {
    const b = await freshBuyer('both-many');
    const calls = { ...exactSeller.calls };
    const r = await buy(b, '--yes', '--expect', '10');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: 200, scheme: 'channel', paid: '1000', transaction: null });
    expect(r.json.opened?.channelId).toBe(r.json.channelId);
    expect(exactSeller.calls).toEqual(calls);
    // config buy.expect says the same; --expect 3 (3 × 69,000 < 235,000) pays exact instead, 4 opens a channel.
    const c = await freshBuyer('both-four');
    const three = await buy(c, '--yes', '--expect', '3');
    expect(three.code, three.stdout + three.stderr).toBe(0);
    expect(three.json).toMatchObject({ scheme: 'exact', opened: null });
    expect((await c.run(['config', 'set', 'buy.expect', '4'])).code).toBe(0);
    const four = await buy(c, '--yes');
    expect(four.code, four.stdout + four.stderr).toBe(0);
    expect(four.json).toMatchObject({ scheme: 'channel', paid: '1000' });
    expect(four.json.opened?.channelId).toBeTruthy();
  });

  it('--expect without --yes never opens a channel: exact', async () => {
    const b = await freshBuyer('both-noyes');
    const r = await buy(b, '--expect', '100');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ scheme: 'exact', opened: null });
  });
});
