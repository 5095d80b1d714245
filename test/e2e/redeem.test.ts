/**
 * Issue 11 §4: the merchant's redemption service in the real `channels serve` (real anvil,
 * real binaries). Ten payers buy; the service's first round redeems and collects all ten
 * channels in ONE closeMany transaction, and every balance reconciles to the wei. A channel
 * worth less than `redeem.minProfit` is deferred, even once its payer settles, until its
 * settleAt is within `redeem.margin`; then it is redeemed (updateMany: its payer collects).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Interface, getAddress } from 'ethers';
import { increaseTime } from '../helpers/anvil.js';
import { artifact } from '../helpers/deploy.js';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { contractAddress } from '../../src/families/evm/deploy.js';

/** Price paid by each of the ten payers: well above the gas of a close. */
const BIG = 10n ** 16n; // 0.01 ETH
/** Price paid by the small payer: below the least profit. */
const SMALL = 10n ** 14n;
const DEPOSIT = 10n ** 17n; // 0.1 ETH
const MIN_PROFIT = 5n * 10n ** 15n; // 0.005 ETH
const MARGIN = 600;
const SETTLE_DELAY = 3600;
const PAYERS = 10;

interface WatcherEvent {
  channelId: string;
  kind: 'redeemed' | 'closed' | 'deferred' | 'error';
  detail: string;
}

let chain: Chain;
let payee: TestWallet;
let serve: Serve | undefined;
const iface = new Interface(artifact('PaymentChannels').abi);
const collectedTopic = iface.getEvent('ChannelCollected')!;

beforeAll(async () => {
  chain = await startChain();
  payee = await makeWallet('shop', chain.anvil.rpcUrl);
  await chain.fund(payee.address, '1');
  for (const [k, v] of [['redeem.minProfit', MIN_PROFIT.toString()], ['redeem.margin', String(MARGIN)]]) {
    const r = await payee.run(['config', 'set', k, v, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
});

afterAll(async () => {
  await serve?.stop();
  await chain?.stop();
});

/** The watcher's events `serve --json` printed so far. */
function events(s: Serve): WatcherEvent[] {
  return s
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{"watcher"'))
    .map((l) => JSON.parse(l).watcher);
}

/** Polls `f` until it returns something (a real round runs on serve's own timer). */
async function until<T>(what: string, f: () => T | undefined, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; serve said:\n${serve?.stderr()}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

async function feeOf(hash: string): Promise<bigint> {
  const r = await chain.provider.getTransactionReceipt(hash);
  return r!.gasUsed * r!.gasPrice;
}

/** The payee's stored view of a channel and its vouchers (read-only). */
function stored(id: string): { state: string; redeemed: string; close_tx: string | null; submitted: (string | null)[] } {
  const db = new Database(join(payee.home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    const c = db.prepare('SELECT state, redeemed, close_tx FROM channels WHERE id = ?').get(id) as { state: string; redeemed: string; close_tx: string | null };
    const submitted = (db.prepare('SELECT submitted_tx FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce').all(id) as { submitted_tx: string | null }[]).map((v) => v.submitted_tx);
    return { ...c, submitted };
  } finally {
    db.close();
  }
}

async function buyOnce(w: TestWallet, url: string, price: bigint): Promise<string> {
  const r = await w.run(['buy', `${url}/weather`, '--max-price', price.toString(), '--deposit', '0.1eth', '--settle-delay', String(SETTLE_DELAY), '--yes', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.json.status).toBe(200);
  expect(r.json.paid).toBe(price.toString());
  return r.json.channelId;
}

describe('the redemption service of channels serve', { timeout: 120_000 }, () => {
  const payers: { wallet: TestWallet; channelId: string; balance: bigint }[] = [];

  it('redeems ten channels in one closeMany transaction; payee and payers reconcile to the wei', async () => {
    // Buying at a paywall whose service does not run a second round while the payers buy.
    serve = await startServe(payee, ['--price', BIG.toString(), '--min-deposit', '0.01eth', '--watch-interval', '3600']);
    const wallets = await Promise.all(Array.from({ length: PAYERS }, () => makeWallet('payer', chain.anvil.rpcUrl)));
    for (const w of wallets) await chain.fund(w.address, '1');
    const url = serve.url;
    const ids = await Promise.all(wallets.map((w) => buyOnce(w, url, BIG)));
    expect(new Set(ids).size).toBe(PAYERS);
    await serve.stop();
    for (const [i, w] of wallets.entries()) payers.push({ wallet: w, channelId: ids[i], balance: await chain.balance(w.address) });
    const payeeBefore = await chain.balance(payee.address);

    // The service's first round runs at start.
    serve = await startServe(payee, ['--price', SMALL.toString(), '--min-deposit', '0.01eth', '--watch-interval', '1']);
    const redeemed = await until('ten redeemed events', () => {
      const r = events(serve!).filter((e) => e.kind === 'redeemed');
      return r.length >= PAYERS ? r : undefined;
    });
    expect(events(serve).filter((e) => e.kind === 'error')).toEqual([]);
    expect(redeemed.map((e) => e.channelId).sort()).toEqual([...ids].sort());
    const hashes = new Set(redeemed.map((e) => /closed in (0x[0-9a-f]{64})/.exec(e.detail)?.[1]));
    expect(hashes.size).toBe(1);
    const [hash] = [...hashes] as string[];

    // One transaction to the contract, with one ChannelCollected per channel paying the price.
    const receipt = (await chain.provider.getTransactionReceipt(hash))!;
    expect(receipt.status).toBe(1);
    expect(getAddress(receipt.to!)).toBe(contractAddress());
    const tx = (await chain.provider.getTransaction(hash))!;
    expect(iface.parseTransaction(tx)!.name).toBe('closeMany');
    const collected = receipt.logs.filter((l) => l.topics[0] === collectedTopic.topicHash).map((l) => iface.parseLog(l)!.args);
    expect(collected).toHaveLength(PAYERS);
    for (const a of collected) {
      expect(ids).toContain(a.channelId);
      expect(a.paidToPayee).toBe(BIG);
      expect(a.refundedToPayer).toBe(DEPOSIT - BIG);
    }

    expect(await chain.balance(payee.address)).toBe(payeeBefore + BigInt(PAYERS) * BIG - receipt.gasUsed * receipt.gasPrice);
    for (const p of payers) expect(await chain.balance(p.wallet.address)).toBe(p.balance + DEPOSIT - BIG);
    for (const id of ids) {
      expect(stored(id)).toEqual({ state: 'closed', redeemed: BIG.toString(), close_tx: hash, submitted: [hash] });
    }

    // A payer whose channel the service closed buys on: its wallet still holds the channel as
    // open, the paywall refuses it, the chain says closed, and `--yes` opens a new one.
    const again = await payers[0].wallet.run(['buy', `${serve.url}/weather`, '--max-price', BIG.toString(), '--deposit', '0.1eth', '--yes', '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.json.status).toBe(200);
    expect(again.json.opened.channelId).not.toBe(ids[0]);
    expect(again.json.channelId).toBe(again.json.opened.channelId);
    const old = await payers[0].wallet.run(['status', ids[0], '--json']);
    expect(old.json.state).toBe('closed');
    // Without --yes the refusal says what happened and what to do.
    const third = await payers[1].wallet.run(['buy', `${serve.url}/weather`, '--max-price', BIG.toString(), '--json']);
    expect(third.code).toBe(4);
    expect(third.json.error.message).toContain('was closed on chain');
  });

  it('defers a channel worth less than redeem.minProfit until its settleAt is within redeem.margin, then redeems it for its payer to collect', async () => {
    const wallet = await makeWallet('small', chain.anvil.rpcUrl);
    await chain.fund(wallet.address, '1');
    const id = await buyOnce(wallet, serve!.url, SMALL);

    const first = await until('a deferral', () => events(serve!).find((e) => e.channelId === id && e.kind === 'deferred'));
    expect(first.detail).toMatch(/holds 100000000000000 unredeemed; gas ≈ \d+ × \d+ = \d+, so the profit -?\d+ is below redeem.minProfit 5000000000000000: left until it is worth more/);
    expect(stored(id).state).toBe('open');

    // The payer settles: the deadline is settleAt, an hour away, more than the margin.
    const settled = await wallet.run(['settle', id, '--json']);
    expect(settled.code, settled.stdout + settled.stderr).toBe(0);
    const settleAt: number = settled.json.settleAt;
    const second = await until('a deferral until settleAt − margin', () =>
      events(serve!).find((e) => e.channelId === id && e.kind === 'deferred' && e.detail.includes('settleAt')));
    expect(second.detail).toContain(`left until ${new Date((settleAt - MARGIN) * 1000).toISOString()} (settleAt ${new Date(settleAt * 1000).toISOString()} − redeem.margin ${MARGIN} s)`);
    expect(stored(id).state).toBe('settling');
    expect(events(serve!).some((e) => e.channelId === id && e.kind === 'redeemed')).toBe(false);

    // Into the margin: redeemed whatever it is worth, before settleAt — by an update (the payer
    // chose to settle, and collects after settleAt as `channels collect` says).
    const payerBefore = await chain.balance(wallet.address);
    const payeeBefore = await chain.balance(payee.address);
    await increaseTime(chain.anvil.rpcUrl, SETTLE_DELAY - MARGIN + 10);
    const done = await until('the late redemption', () => events(serve!).find((e) => e.channelId === id && e.kind === 'redeemed'));
    const hash = /in (0x[0-9a-f]{64})/.exec(done.detail)![1];
    const tx = (await chain.provider.getTransaction(hash))!;
    expect(getAddress(tx.to!)).toBe(contractAddress());
    expect(iface.parseTransaction(tx)!.name).toBe('updateMany');
    expect(await chain.balance(payee.address)).toBe(payeeBefore - (await feeOf(hash)));
    expect(stored(id)).toEqual({ state: 'settling', redeemed: SMALL.toString(), close_tx: null, submitted: [hash] });

    await increaseTime(chain.anvil.rpcUrl, MARGIN);
    const collected = await wallet.run(['collect', id, '--json']);
    expect(collected.code, collected.stdout + collected.stderr).toBe(0);
    expect(collected.json.paidToPayee).toBe(SMALL.toString());
    expect(collected.json.refundedToPayer).toBe((DEPOSIT - SMALL).toString());
    expect(await chain.balance(wallet.address)).toBe(payerBefore + DEPOSIT - SMALL - (await feeOf(collected.json.transaction)));
    expect(await chain.balance(payee.address)).toBe(payeeBefore - (await feeOf(hash)) + SMALL);
    const gone = await until('the channel marked closed', () => events(serve!).find((e) => e.channelId === id && e.kind === 'closed'));
    expect(gone.detail).toBe('no longer on chain');
    expect(stored(id).state).toBe('closed');
    expect(events(serve!).filter((e) => e.kind === 'error')).toEqual([]);
  });
});
