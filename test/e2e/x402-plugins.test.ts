/**
 * Our `channel` scheme as x402 plugins (issue 13 §2), against the x402 Foundation's own,
 * unmodified code on a real anvil:
 *
 * (a) `@x402/fetch`'s `wrapFetchWithPayment` with {@link ChannelSchemeClient} registered (a
 *     `PaymentChannelManager` wallet) pays a real `channels serve`: the voucher is in the payer's
 *     database and in the paywall's.
 * (b) An `@x402/express` app (`paymentMiddleware`) with {@link ChannelSchemeServer} and the local
 *     {@link ChannelFacilitator} is paid by the real `channels buy` binary.
 * (c) In both, a handler that fails is not charged, and the next purchase reuses its credit; a
 *     payer database restored from an older copy is corrected by the corrective 402 (the client
 *     hook on one side, `extra.channelState` through x402's 402 on the other).
 * (e) Both in a USD stablecoin (the devnet's TestUSD): ERC-20 channels opened and paid through the plugins.
 * (d) Hostile input to the facilitator's verify (another signer, above the deposit, another
 *     channel, another price, garbage) is refused and changes no stored state.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Contract, Wallet, ZeroAddress, randomBytes, hexlify } from 'ethers';
import express from 'express';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { wrapFetchWithPayment, x402Client, decodePaymentResponseHeader } from '@x402/fetch';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { dbSnapshot, makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { PaymentChannelManager, voucherToWire } from '../../src/index.js';
import { ChannelFacilitator, channelEndpoint, registerChannelScheme } from '../../src/x402/index.js';
import { contractAddress } from '../../src/families/evm/deploy.js';
import { signVoucher } from '../../src/families/evm/voucher.js';
import { deployTestUSD } from '../../src/devnet/index.js';
import { ANVIL_KEYS } from '../helpers/anvil.js';

const PRICE = 1000n;
const ZERO_HASH = '0x' + '00'.repeat(32);

let chain: Chain;
let network: `${string}:${string}`;
const dir = mkdtempSync(join(tmpdir(), 'channels-x402-plugins-'));

/** Rows of a database file, read-only. */
function rows(file: string, sql: string, ...params: unknown[]): any[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}
const vouchersOf = (file: string, channelId: string) =>
  rows(file, 'SELECT nonce, amount FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce', channelId).map((r) => [String(r.nonce), String(r.amount)]);
const chargedOf = (file: string, channelId: string) => String(rows(file, 'SELECT charged FROM channels WHERE id = ?', channelId)[0]?.charged);

/** An online backup of a database (no writer runs), and its restore in place (its WAL and SHM dropped). */
async function backup(file: string, to: string): Promise<void> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  await db.backup(to);
  db.close();
}
function restore(from: string, file: string): void {
  for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) rmSync(f);
  copyFileSync(from, file);
}

beforeAll(async () => {
  chain = await startChain();
  network = `eip155:${chain.anvil.chainId}`;
}, 120_000);
afterAll(async () => {
  await chain?.stop();
});

describe('(a) @x402/fetch with ChannelSchemeClient pays channels serve', () => {
  let shop: TestWallet;
  let serve: Serve;
  const payerDb = join(dir, 'fetch-payer', 'channels.db');
  const payerKey = Wallet.createRandom().privateKey;
  let pcm: PaymentChannelManager;
  let pay: typeof fetch;
  let channelId = '';
  const paywallDb = () => join(shop.home, 'channels.db');

  /** A fresh manager on the payer's database, an x402 client with our scheme, and x402's own fetch wrapper around it. */
  async function payer(): Promise<void> {
    pcm = new PaymentChannelManager({ chain: { kind: 'evm', caip2: network, rpcUrl: chain.anvil.rpcUrl }, wallet: { name: 'fetcher', privateKey: payerKey }, store: payerDb });
    // x402 pays only assets it knows unless told: the native coin of our devnet is one to allow.
    const client = new x402Client().setSpendControls({ allowedAssets: [{ network, asset: ZeroAddress }] });
    registerChannelScheme(client, { payer: await pcm.x402Payer({ settleDelay: 3600 }), maxPrice: 5000n, autoOpen: true, deposit: 10n ** 16n });
    pay = wrapFetchWithPayment(fetch, client);
  }

  beforeAll(async () => {
    shop = await makeWallet('shop', chain.anvil.rpcUrl);
    await chain.fund(shop.address, '1');
    await chain.fund(new Wallet(payerKey).address, '1');
    serve = await startServe(shop, ['--price', PRICE.toString()]);
    await payer();
  }, 120_000);
  afterAll(async () => {
    pcm?.close();
    await serve?.stop();
  });

  it('opens a channel and pays: the resource is served, the voucher is in both databases, the receipt is recorded', async () => {
    const r = await pay(`${serve.url}/weather`);
    expect(r.status).toBe(200);
    expect(await r.json()).toHaveProperty('city');
    const receipt = decodePaymentResponseHeader(r.headers.get('payment-response')!);
    expect(receipt).toMatchObject({ success: true, network, extra: { nonce: '1', amount: '1000', charged: '1000' } });
    channelId = (receipt.extra as { channelId: string }).channelId;
    expect(await pcm.list()).toEqual([channelId]);
    expect(vouchersOf(payerDb, channelId)).toEqual([['1', '1000']]);
    expect(vouchersOf(paywallDb(), channelId)).toEqual([['1', '1000']]);
    expect(chargedOf(paywallDb(), channelId)).toBe('1000');
    expect(chargedOf(payerDb, channelId)).toBe('1000'); // the receipt's charged, through x402's payment-response hook
  });

  it('pays the next request on the same channel, cumulative amount + price', async () => {
    const r = await pay(`${serve.url}/joke`);
    expect(r.status).toBe(200);
    expect(vouchersOf(payerDb, channelId)).toEqual([['1', '1000'], ['2', '2000']]);
    expect(vouchersOf(paywallDb(), channelId)).toEqual([['1', '1000'], ['2', '2000']]);
    expect(await pcm.list()).toEqual([channelId]);
  });

  it('(c) a failing resource is not charged; the next purchase reuses its credit', async () => {
    const failed = await pay(`${serve.url}/missing`);
    expect(failed.status).toBe(404);
    expect(decodePaymentResponseHeader(failed.headers.get('payment-response')!)).toMatchObject({ success: false, extra: { nonce: '3', amount: '3000', charged: '2000' } });
    expect(chargedOf(paywallDb(), channelId)).toBe('2000');
    expect(chargedOf(payerDb, channelId)).toBe('2000');
    const r = await pay(`${serve.url}/weather`);
    expect(r.status).toBe(200);
    // Voucher 4 carries the same total as voucher 3: the request that failed paid for this one.
    expect(vouchersOf(paywallDb(), channelId)).toEqual([['1', '1000'], ['2', '2000'], ['3', '3000'], ['4', '3000']]);
    expect(chargedOf(paywallDb(), channelId)).toBe('3000');
  });

  it('(c) a payer database restored from an older copy: the corrective 402 reaches the client hook, which resyncs, and x402 retries', async () => {
    const saved = join(dir, 'fetch-payer-backup.db');
    await backup(payerDb, saved);
    for (let i = 0; i < 2; i++) expect((await pay(`${serve.url}/weather`)).status).toBe(200);
    expect(vouchersOf(paywallDb(), channelId).at(-1)).toEqual(['6', '5000']);
    pcm.close();
    restore(saved, payerDb);
    await payer();
    expect(vouchersOf(payerDb, channelId).at(-1)).toEqual(['4', '3000']); // the old state
    const r = await pay(`${serve.url}/weather`);
    expect(r.status).toBe(200);
    // The stale voucher 5 was refused (the paywall kept its own 5 and 6); the payer adopted 6 and paid with 7.
    expect(vouchersOf(paywallDb(), channelId)).toEqual([['1', '1000'], ['2', '2000'], ['3', '3000'], ['4', '3000'], ['5', '4000'], ['6', '5000'], ['7', '6000']]);
    expect(chargedOf(paywallDb(), channelId)).toBe('6000');
    expect(chargedOf(payerDb, channelId)).toBe('6000');
  });

  it('refuses a price above maxPrice before anything is stored', async () => {
    const pricey = await startServe(shop, ['--price', '9000']);
    try {
      const before = dbSnapshot(join(dir, 'fetch-payer'));
      await expect(pay(`${pricey.url}/weather`)).rejects.toThrow(/above maxPrice/);
      expect(dbSnapshot(join(dir, 'fetch-payer'))).toBe(before);
    } finally {
      await pricey.stop();
    }
  });
});

describe('(b) an @x402/express app with ChannelSchemeServer and the local facilitator, paid by channels buy', () => {
  const payeeKey = Wallet.createRandom().privateKey;
  const payeeHome = join(dir, 'express-payee');
  const payeeDb = join(payeeHome, 'channels.db');
  let payee: PaymentChannelManager;
  let payeeAddress = '';
  let facilitator: ChannelFacilitator;
  let server: x402ResourceServer;
  let http: Server;
  let url = '';
  let buyer: TestWallet;
  let channelId = '';
  const buyerDb = () => join(buyer.home, 'channels.db');
  const buy = (path: string) => buyer.run(['buy', `${url}${path}`, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json']);
  const route = (description: string) => ({ accepts: { scheme: 'channel', network, payTo: payeeAddress, price: PRICE.toString() }, description });

  beforeAll(async () => {
    payee = new PaymentChannelManager({ chain: { kind: 'evm', caip2: network, rpcUrl: chain.anvil.rpcUrl }, wallet: { name: 'shop', privateKey: payeeKey }, store: payeeDb });
    payeeAddress = await payee.address();
    await chain.fund(payeeAddress, '1'); // gas for a cooperative close
    facilitator = new ChannelFacilitator(await payee.x402Payee({ minDeposit: 10n ** 15n, minSettleDelay: 60 }));
    server = registerChannelScheme(new x402ResourceServer(facilitator), { facilitator });
    const app = express();
    // The channel endpoint its 402 names (sync, cooperative close), outside the paid routes.
    app.use(channelEndpoint(facilitator));
    app.use(paymentMiddleware({ 'GET /weather': route('Weather'), 'GET /broken': route('A handler that fails'), 'GET /thrown': route('A handler that throws') }, server));
    app.get('/weather', (_req, res) => void res.json({ city: 'Lisbon', temperatureC: 17 }));
    app.get('/broken', (_req, res) => void res.status(500).json({ error: 'the backend is down' }));
    app.get('/thrown', () => {
      throw new Error('the handler threw');
    });
    // Express's default error handler prints the thrown error's stack: answer 500 quietly instead.
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: 'internal' }));
    http = app.listen(0, '127.0.0.1');
    await new Promise<void>((ok) => http.once('listening', ok));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    buyer = await makeWallet('alice', chain.anvil.rpcUrl);
    await chain.fund(buyer.address, '5');
  }, 120_000);
  afterAll(async () => {
    await new Promise((ok) => http?.close(ok));
    payee?.close();
  });

  it('channels buy opens a channel and pays: served, the voucher and the charge in the payee\'s store, the receipt in the buyer\'s', async () => {
    const r = await buy('/weather');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: 200, paid: '1000' });
    expect(JSON.parse(r.json.body)).toEqual({ city: 'Lisbon', temperatureC: 17 });
    channelId = r.json.channelId;
    expect(r.json.opened.channelId).toBe(channelId);
    expect((await payee.voucherList(channelId)).map((v) => [v.nonce, v.amount])).toEqual([[1n, 1000n]]);
    expect(chargedOf(payeeDb, channelId)).toBe('1000');
    expect(vouchersOf(buyerDb(), channelId)).toEqual([['1', '1000']]);
    expect(chargedOf(buyerDb(), channelId)).toBe('1000');
    // The 402 the buyer read was x402's, with the paywall's terms in extra.
    const unpaid = await fetch(`${url}/weather`);
    expect(unpaid.status).toBe(402);
    const offer = JSON.parse(Buffer.from(unpaid.headers.get('payment-required')!, 'base64').toString()).accepts[0];
    expect(offer).toMatchObject({ scheme: 'channel', network, amount: '1000', asset: ZeroAddress, payTo: payeeAddress, extra: { contract: contractAddress(), minDeposit: String(10n ** 15n), minSettleDelay: 60, endpoint: '/.well-known/channels' } });
  });

  it('(c) a handler that fails (500) or throws is not charged; the next buy reuses the credit', async () => {
    const failed = await buy('/broken');
    expect(failed.code).toBe(1); // buy's exit code for an HTTP error answer
    expect(failed.json).toMatchObject({ status: 500, paid: '0' });
    expect(chargedOf(payeeDb, channelId)).toBe('1000');
    const thrown = await buy('/thrown');
    expect(thrown.json).toMatchObject({ status: 500, paid: '0' });
    expect(chargedOf(payeeDb, channelId)).toBe('1000');
    const r = await buy('/weather');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Vouchers 2 and 3 were refunded; voucher 4 carries the same total as 2: their credit paid for it.
    expect(vouchersOf(payeeDb, channelId)).toEqual([['1', '1000'], ['2', '2000'], ['3', '2000'], ['4', '2000']]);
    expect(chargedOf(payeeDb, channelId)).toBe('2000');
  });

  it('(c) a buyer database restored from an older copy is corrected by x402\'s 402 carrying extra.channelState', async () => {
    const saved = join(dir, 'express-buyer-backup.db');
    await backup(buyerDb(), saved);
    for (let i = 0; i < 2; i++) expect((await buy('/weather')).code).toBe(0);
    expect(vouchersOf(payeeDb, channelId).at(-1)).toEqual(['6', '4000']);
    restore(saved, buyerDb());
    const r = await buy('/weather');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.voucher).toMatchObject({ nonce: '7', amount: '5000' });
    expect(vouchersOf(payeeDb, channelId).map(([n]) => n)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(chargedOf(payeeDb, channelId)).toBe('5000');
  });

  it('refuses a route it could not be paid on: another payTo, a dollar price, another asset or network', async () => {
    const build = (o: Partial<{ payTo: string; price: unknown; network: string }>) =>
      server.buildPaymentRequirements({ scheme: 'channel', network, payTo: payeeAddress, price: PRICE.toString(), ...o } as never);
    await expect(build({ payTo: Wallet.createRandom().address })).rejects.toThrow(/set payTo to it/);
    await expect(build({ price: '$0.01' })).rejects.toThrow(/US dollars, which it does not convert/);
    await expect(build({ price: { amount: '1000', asset: Wallet.createRandom().address } })).rejects.toThrow(/paid in 0x0{40}/);
    await expect(build({ price: 1.5 })).rejects.toThrow(/whole number of base units/);
    // A vacant payTo is this wallet's; a numeric price is base units.
    expect((await build({ payTo: '', price: 1000 }))[0]).toMatchObject({ payTo: payeeAddress, amount: '1000', asset: ZeroAddress });
    expect(await facilitator.getSupported()).toEqual({ kinds: [{ x402Version: 2, scheme: 'channel', network }], extensions: [], signers: {} });
  });

  describe('(d) hostile input to verify is refused and changes no stored state', () => {
    const hostileKey = Wallet.createRandom().privateKey;
    const hostile = new Wallet(hostileKey);
    const stranger = new Wallet(Wallet.createRandom().privateKey);
    let payer: PaymentChannelManager;
    let ours = ''; // hostile → payee, 0.002 eth
    let theirs = ''; // hostile → stranger
    let requirements: PaymentRequirements;
    const chainId = () => BigInt(chain.anvil.chainId);
    const voucher = (fields: { channelId: string; nonce?: bigint; amount?: bigint }, signer: Wallet = hostile) =>
      signVoucher({ channelId: fields.channelId, lane: 0n, nonce: fields.nonce ?? 1n, amount: fields.amount ?? PRICE, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] }, signer, chainId(), contractAddress());
    const payment = (v: ReturnType<typeof voucher>, accepted: PaymentRequirements = requirements): PaymentPayload =>
      ({ x402Version: 2, accepted, payload: { type: 'voucher', channelId: v.channelId, voucher: voucherToWire(v) } }) as unknown as PaymentPayload;

    beforeAll(async () => {
      await chain.fund(hostile.address, '1');
      payer = new PaymentChannelManager({ chain: { kind: 'evm', caip2: network, rpcUrl: chain.anvil.rpcUrl }, wallet: { name: 'hostile', privateKey: hostileKey }, store: join(dir, 'hostile', 'channels.db') });
      ours = (await payer.create(payeeAddress, 2n * 10n ** 15n, { settleDelay: 3600 })).channel;
      theirs = (await payer.create(stranger.address, 2n * 10n ** 15n, { settleDelay: 3600 })).channel;
      [requirements] = await server.buildPaymentRequirements({ scheme: 'channel', network, payTo: payeeAddress, price: PRICE.toString() });
    }, 60_000);
    afterAll(() => payer?.close());

    const cases: { name: string; reason: string; payment: () => PaymentPayload }[] = [
      { name: 'a voucher signed by another key', reason: 'wrong_signer', payment: () => payment(voucher({ channelId: ours }, stranger)) },
      { name: 'a voucher above the deposit', reason: 'above_deposit', payment: () => payment(voucher({ channelId: ours, amount: 2n * 10n ** 15n + 1n })) },
      { name: 'a voucher for a channel paying another payee', reason: 'wrong_payee', payment: () => payment(voucher({ channelId: theirs })) },
      { name: 'a voucher for a channel that does not exist', reason: 'unknown_channel', payment: () => payment(voucher({ channelId: hexlify(randomBytes(32)) })) },
      { name: 'a voucher worth less than the price', reason: 'amount_too_low', payment: () => payment(voucher({ channelId: ours, amount: PRICE - 1n })) },
      { name: 'another price in accepted', reason: 'requirements_mismatch', payment: () => payment(voucher({ channelId: ours }), { ...requirements, amount: '1' }) },
      { name: 'a voucher of nonce 0', reason: 'nonce_too_low', payment: () => payment(voucher({ channelId: ours, nonce: 0n })) },
      { name: 'a malformed payload', reason: 'invalid_payload', payment: () => ({ x402Version: 2, accepted: requirements, payload: { type: 'voucher', channelId: ours, voucher: { channelId: ours } } }) as unknown as PaymentPayload },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = dbSnapshot(payeeHome);
        const p = c.payment();
        const r = await facilitator.verify(p, requirements);
        expect(r.isValid).toBe(false);
        expect(r.invalidReason).toBe(c.reason);
        // Neither settle nor a refund can make anything of a refused payment.
        expect((await facilitator.settle(p, requirements)).success).toBe(false);
        expect(facilitator.refund(p)).toBe(false);
        expect(dbSnapshot(payeeHome)).toBe(before);
      });
    }

    it('a valid voucher on that channel is then accepted and charged; refunded once only; settle after a refund charges nothing', async () => {
      const p = payment(voucher({ channelId: ours }));
      expect(await facilitator.verify(p, requirements)).toMatchObject({ isValid: true, payer: hostile.address });
      expect(chargedOf(payeeDb, ours)).toBe('1000');
      expect(facilitator.refund(p)).toBe(true);
      expect(facilitator.refund(p)).toBe(false);
      expect(chargedOf(payeeDb, ours)).toBe('0');
      expect((await facilitator.settle(p, requirements)).success).toBe(false);
      // The same voucher again is a replay: refused, with the channel's state for a corrective 402.
      const replay = payment(voucher({ channelId: ours }));
      const again = await facilitator.verify(replay, requirements);
      expect(again.isValid).toBe(false);
      expect(facilitator.channelStateFor(replay)).toMatchObject({ channelId: ours, nonce: '1', amount: '1000', charged: '0' });
      expect(chargedOf(payeeDb, ours)).toBe('0');
    });
  });

  it('the channel endpoint: the buyer reads the merchant\'s view, then closes cooperatively; the payee redeems what it charged', async () => {
    const view = await fetch(`${url}/.well-known/channels/channels/${channelId}`);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ channelId, lane: '0', nonce: '7', amount: '5000', charged: '5000', state: 'open' });
    const before = await chain.balance(payeeAddress);
    const closed = await buyer.run(['close', channelId, '--json']);
    expect(closed.code, closed.stdout + closed.stderr).toBe(0);
    expect(closed.json).toMatchObject({ result: 'closed', paidToPayee: '5000', refundedToPayer: (10n ** 16n - 5000n).toString() });
    const receipt = await chain.provider.getTransactionReceipt(closed.json.transaction);
    expect(await chain.balance(payeeAddress)).toBe(before + 5000n - receipt!.gasUsed * receipt!.gasPrice);
  });
});

describe('(e) in a USD stablecoin: both plugins pay and charge in the token', () => {
  const USDC = 10n ** 6n;
  let usdc = '';
  let token: Contract;
  const tokenBalance = async (a: string): Promise<bigint> => token.balanceOf(a);
  const net = () => ({ kind: 'evm' as const, caip2: network, rpcUrl: chain.anvil.rpcUrl, assets: { usdc: { symbol: 'USDC', address: usdc, decimals: 6 } } });

  beforeAll(async () => {
    const funder = new Wallet(ANVIL_KEYS[0], chain.provider);
    usdc = (await deployTestUSD(funder, chain.provider)).address;
    token = new Contract(usdc, ['function balanceOf(address) view returns (uint256)', 'function mint(address to, uint256 amount)'], funder);
  }, 60_000);

  it('@x402/fetch with ChannelSchemeClient (asset usdc) pays channels serve --price 0.001usdc on an ERC-20 channel', async () => {
    const shop = await makeWallet('usdshop', chain.anvil.rpcUrl);
    await chain.fund(shop.address, '1');
    const file = join(shop.home, 'devnet-networks.json');
    writeFileSync(file, JSON.stringify({ networks: { devnet: net() } }));
    expect((await shop.run(['config', 'import', file, '--json'])).code).toBe(0);
    const serve = await startServe(shop, ['--price', '0.001usdc', '--min-deposit', '1usdc']);
    const key = Wallet.createRandom().privateKey;
    const address = new Wallet(key).address;
    await chain.fund(address, '1');
    await (await token.mint(address, 100n * USDC)).wait();
    const pcm = new PaymentChannelManager({ chain: net(), wallet: { name: 'usdfetcher', privateKey: key }, store: join(dir, 'usd-fetch-payer', 'channels.db') });
    try {
      const client = new x402Client().setSpendControls({ allowedAssets: [{ network, asset: usdc }] });
      // maxPrice counted in ether refuses a price in USDC; counted in USDC, it pays.
      registerChannelScheme(client, { payer: await pcm.x402Payer(), maxPrice: 10n ** 15n, autoOpen: true });
      await expect(wrapFetchWithPayment(fetch, client)(`${serve.url}/weather`)).rejects.toThrow(/charges in USDC; maxPrice counts ETH/);
      const usdClient = new x402Client().setSpendControls({ allowedAssets: [{ network, asset: usdc }] });
      registerChannelScheme(usdClient, { payer: await pcm.x402Payer(), maxPrice: 10n * 1000n, asset: usdc, autoOpen: true, deposit: 5n * USDC });
      const pay = wrapFetchWithPayment(fetch, usdClient);
      for (let i = 0; i < 2; i++) expect((await pay(`${serve.url}/weather`)).status).toBe(200);
      const [channelId] = await pcm.list();
      expect(rows(join(shop.home, 'channels.db'), 'SELECT asset, charged FROM channels WHERE id = ?', channelId)[0]).toMatchObject({ asset: usdc, charged: '2000' });
      expect(vouchersOf(join(shop.home, 'channels.db'), channelId)).toEqual([['1', '1000'], ['2', '2000']]);
      expect(await tokenBalance(address)).toBe(95n * USDC); // the deposit, in the token, left the payer
      expect(await tokenBalance(contractAddress())).toBeGreaterThanOrEqual(5n * USDC);
    } finally {
      pcm.close();
      await serve.stop();
    }
  });

  it('an @x402/express app priced in USDC (ChannelSchemeServer, x402Payee({asset})) is paid by channels buy --max-price 0.01usdc', async () => {
    const payee = new PaymentChannelManager({ chain: net(), wallet: { name: 'usdshop', privateKey: Wallet.createRandom().privateKey }, store: join(dir, 'usd-express-payee', 'channels.db') });
    const facilitator = new ChannelFacilitator(await payee.x402Payee({ asset: usdc, minDeposit: USDC, minSettleDelay: 60 }));
    const server = registerChannelScheme(new x402ResourceServer(facilitator), { facilitator });
    const payTo = await payee.address();
    const app = express();
    app.use(paymentMiddleware({ 'GET /quote': { accepts: { scheme: 'channel', network, payTo, price: { amount: '1000', asset: usdc } } } }, server));
    app.get('/quote', (_req, res) => void res.json({ quote: 'USD is a unit of account' }));
    const http = app.listen(0, '127.0.0.1');
    await new Promise<void>((ok) => http.once('listening', ok));
    try {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/quote`;
      const buyer = await makeWallet('usdbuyer', chain.anvil.rpcUrl);
      await chain.fund(buyer.address, '1');
      await (await token.mint(buyer.address, 100n * USDC)).wait();
      const file = join(buyer.home, 'devnet-networks.json');
      writeFileSync(file, JSON.stringify({ networks: { devnet: net() } }));
      expect((await buyer.run(['config', 'import', file, '--json'])).code).toBe(0);
      const r = await buyer.run(['buy', url, '--max-price', '0.01usdc', '--deposit', '5usdc', '--yes', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json).toMatchObject({ status: 200, paid: '1000' });
      const channelId = r.json.channelId;
      expect(rows(join(dir, 'usd-express-payee', 'channels.db'), 'SELECT asset, charged FROM channels WHERE id = ?', channelId)[0]).toMatchObject({ asset: usdc, charged: '1000' });
      expect(await tokenBalance(buyer.address)).toBe(95n * USDC);
      // An ether price is not what this payee takes: the route is refused at configuration.
      await expect(server.buildPaymentRequirements({ scheme: 'channel', network, payTo, price: { amount: '1000', asset: ZeroAddress } })).rejects.toThrow(/paid in/);
    } finally {
      await new Promise((ok) => http.close(ok));
      payee.close();
    }
  });
});
