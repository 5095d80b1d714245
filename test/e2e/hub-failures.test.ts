/**
 * Issue 12 §2: failures of payments through a hub, and the watchers, with the real binaries on a
 * real anvil (real `channels hub`, real `channels serve` as payees):
 * - the payee never answers: `pay --via` fails clearly; once the locks passed, `channels sync`
 *   on payer and hub frees everything and the payments' rows are `expired`;
 * - the payer disappears after the hub answered the secret (CHANNELS_CRASH_AT=payer:fulfilled):
 *   the hub's redemption service redeems the payer's conditional voucher with the secret;
 * - the hub dies right after storing the secret (CHANNELS_CRASH_AT=hub:fulfilled): the payer
 *   shows the amount as conditional; the restarted hub redeems exactly what the payer locked;
 * - the hub dies before its unconditional voucher reaches the payee (CHANNELS_CRASH_AT=hub:unlocking)
 *   and never comes back: the payee's `serve` redeems the hub's conditional voucher with the secret.
 * Every redemption is checked on chain (lanes, ChannelUpdated events; the channel stays open: a lock's deadline redeems, it does not close).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Contract, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { increaseTime } from '../helpers/anvil.js';
import { makeWallet, startChain, startServe, type Chain, type RunResult, type Serve, type TestWallet } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';
import { startHub, type Hub } from '../helpers/hub.js';
import { rows } from '../helpers/hub-money.js';

const DEPOSIT = 10n ** 16n;
const AMOUNT = 5000n;
const FEE = 15n; // --fee-base 10 + ceil(5000 × 1000 ppm)
const HUB_FEES = ['--fee-base', '10', '--fee-ppm', '1000'];

let chain: Chain;
let pc: Contract;
let payerA: TestWallet;
let payerB: TestWallet;
let payerC: TestWallet;
let hubW: TestWallet;
let hub2W: TestWallet;
let shop1: TestWallet;
let shop2: TestWallet;
let hub: Hub;
let hub2: Hub;
let serve1: Serve;
let serve2: Serve;
/** Channel ids by name: `A→hub`, `A→hub2`, `B→hub`, `C→hub`, `hub→gone`, `hub→shop1`, `hub2→shop2`. */
const ch: Record<string, string> = {};
/** A payee whose endpoint is unreachable (nothing listens on its port). */
const gone = Wallet.createRandom();
let goneUrl: string;

async function status(w: TestWallet, channelId: string): Promise<any> {
  const r = await w.run(['status', channelId, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** The channel's redeemed total on chain once a ChannelUpdated event says it was redeemed (the channel stays open). */
async function redeemedOnChain(channelId: string): Promise<bigint | undefined> {
  if ((await updates(channelId)).length === 0) return undefined;
  const c = await pc.getChannel(channelId);
  expect(c.deposit).toBe(DEPOSIT); // still open: nothing collected, the payer's deposit still there
  return c.redeemed;
}

/** The channel's ChannelCollected event once it is on chain: what the payee got and the payer got back. */
async function collected(channelId: string): Promise<{ paidToPayee: bigint; refundedToPayer: bigint } | undefined> {
  const events = await pc.queryFilter(pc.filters.ChannelCollected(channelId));
  if (events.length === 0) return undefined;
  expect(events).toHaveLength(1);
  const args = (events[0] as any).args;
  return { paidToPayee: args.paidToPayee, refundedToPayer: args.refundedToPayer };
}

/** ChannelUpdated events of a channel: [lane, nonce, redeemed] each. */
async function updates(channelId: string): Promise<[bigint, bigint, bigint][]> {
  return (await pc.queryFilter(pc.filters.ChannelUpdated(channelId))).map((e: any) => [e.args.lane, e.args.nonce, e.args.redeemed]);
}

async function open(w: TestWallet, name: string, to: string, url?: string): Promise<void> {
  const r = await w.run(['open', to, DEPOSIT.toString(), '--settle-delay', '3600', ...(url ? ['--url', url] : []), '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  ch[name] = r.json.channelId;
}

const endpoint = (s: Serve) => `${s.url}/.well-known/channels`;

beforeAll(async () => {
  chain = await startChain();
  [payerA, payerB, payerC, hubW, hub2W, shop1, shop2] = await Promise.all(
    ['payerA', 'payerB', 'payerC', 'hub', 'hub2', 'shop1', 'shop2'].map((n) => makeWallet(n, chain.anvil.rpcUrl)),
  );
  for (const w of [payerA, payerB, payerC, hubW, hub2W, shop1, shop2]) await chain.fund(w.address, '1');
  // The redeeming parties treat a held conditional voucher as due at once (redeem.lockMargin above every lock here),
  // instead of waiting for its lock to come within the default 60 s: the same code path, without moving the chain's clock.
  for (const w of [hubW, shop2]) {
    const r = await w.run(['config', 'set', 'redeem.lockMargin', '3600', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  // A port nothing listens on: taken, then freed.
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', () => ok()));
  goneUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/.well-known/channels`;
  await new Promise((ok) => probe.close(ok));
  [serve1, serve2] = await Promise.all([
    // Once, at start (its redemption is not under test here).
    startServe(shop1, ['--price', '1000', '--watch-interval', '3600']),
    // The payee's redemption service, every second (redeem.lockMargin 3600 > any lock here: a held conditional voucher is due at once).
    startServe(shop2, ['--price', '1000', '--watch-interval', '1']),
  ]);
  [hub, hub2] = await Promise.all([
    startHub(hubW, [...HUB_FEES, '--watch-interval', '1']),
    // hub2 dies before its unconditional voucher reaches shop2, and is never restarted.
    startHub(hub2W, [...HUB_FEES, '--watch-interval', '3600'], { CHANNELS_CRASH_AT: 'hub:unlocking' }),
  ]);
  pc = new Contract(hub.info.contract, artifact('PaymentChannels').abi, chain.provider);
  // One wallet's transactions one after the other; the wallets in parallel.
  await Promise.all([
    (async () => {
      await open(hubW, 'hub→gone', gone.address, goneUrl);
      await open(hubW, 'hub→shop1', shop1.address, endpoint(serve1));
    })(),
    open(hub2W, 'hub2→shop2', shop2.address, endpoint(serve2)),
    (async () => {
      await open(payerA, 'A→hub', hub.address);
      await open(payerA, 'A→hub2', hub2.address);
    })(),
    open(payerB, 'B→hub', hub.address),
    open(payerC, 'C→hub', hub.address),
  ]);
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await hub2?.kill();
  await Promise.all([serve1?.stop(), serve2?.stop()]);
  await chain?.stop();
});

describe('payments through a hub that fail', () => {
  it('the payee never answers: pay --via fails clearly; after the locks, sync on payer and hub frees everything', async () => {
    // The hub cannot read the payee's key from its endpoint: the payer knows it.
    expect((await fetch(`${hub.url}/payees/${gone.address}`)).status).toBe(502);
    const pubkey = gone.signingKey.compressedPublicKey;
    const payerBefore = await status(payerA, ch['A→hub']);
    const hubBefore = await status(hubW, ch['hub→gone']);
    const r = await payerA.run(['pay', '--via', hub.url, gone.address, AMOUNT.toString(), '--payee-pubkey', pubkey, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(6); // network unreachable: not a refusal, the hub retries
    expect(r.stdout + r.stderr).toMatch(/could not reach the payee/);
    expect(r.stdout + r.stderr).toMatch(/channels sync/);
    const [payerRow] = rows(payerA.home, "SELECT hash, state FROM locked_payments WHERE role = 'payer'");
    expect(payerRow.state).toBe('pending');
    const [hubRow] = rows(hubW.home, "SELECT state FROM locked_payments WHERE role = 'hub' AND hash = ?", payerRow.hash);
    expect(hubRow.state).toBe('pending');
    // Locked, not spent: the payer's amount + fee and the hub's amount are conditional.
    const payerLocked = await status(payerA, ch['A→hub']);
    expect(BigInt(payerLocked.conditional)).toBe(AMOUNT + FEE);
    expect(BigInt(payerLocked.available)).toBe(BigInt(payerBefore.available) - AMOUNT - FEE);
    const hubLocked = await status(hubW, ch['hub→gone']);
    expect(BigInt(hubLocked.conditional)).toBe(AMOUNT);
    expect(BigInt(hubLocked.available)).toBe(BigInt(hubBefore.available) - AMOUNT);

    // The payer's lock is 1020 s (hub --min-lock 600 + margin 300 + 120), the hub's 300 s shorter.
    await increaseTime(chain.anvil.rpcUrl, 1100);
    for (const w of [payerA, hubW]) {
      const s = await w.run(['sync', '--json']);
      expect(s.code, s.stdout + s.stderr).toBe(0);
    }
    const payerFreed = await status(payerA, ch['A→hub']);
    expect(payerFreed.conditional).toBe('0');
    expect(payerFreed.available).toBe(payerBefore.available); // deposit − settled spending (none)
    const hubFreed = await status(hubW, ch['hub→gone']);
    expect(hubFreed.conditional).toBe('0');
    expect(hubFreed.available).toBe(hubBefore.available);
    expect((await status(hubW, ch['A→hub'])).conditional).toBe('0');
    expect(rows(payerA.home, 'SELECT role, state FROM locked_payments WHERE hash = ?', payerRow.hash)).toEqual([{ role: 'payer', state: 'expired' }]);
    expect(rows(hubW.home, 'SELECT role, state FROM locked_payments WHERE hash = ?', payerRow.hash)).toEqual([{ role: 'hub', state: 'expired' }]);
    // Both conditional vouchers are marked expired; nothing was redeemed on chain.
    expect(rows(payerA.home, 'SELECT expired FROM vouchers WHERE channel_id = ?', ch['A→hub'])).toEqual([{ expired: '1' }]);
    expect(rows(hubW.home, 'SELECT expired FROM vouchers WHERE channel_id = ?', ch['hub→gone'])).toEqual([{ expired: '1' }]);
    expect(await updates(ch['A→hub'])).toEqual([]);
    expect(await updates(ch['hub→gone'])).toEqual([]);
  }, 120_000);

  it('the payer disappears after the secret (payer:fulfilled): the hub redeems the payer\'s conditional voucher, for amount + fee', async () => {
    const r = await payerC.run(['pay', '--via', hub.url, shop1.address, AMOUNT.toString(), '--json'], { CHANNELS_CRASH_AT: 'payer:fulfilled' });
    expect(r.code, r.stdout + r.stderr).not.toBe(0); // killed before the unlock
    const [p] = rows(payerC.home, "SELECT state, out_unlocked, out_lane FROM locked_payments WHERE role = 'payer'");
    expect(p).toMatchObject({ state: 'fulfilled', out_unlocked: '0' });
    // The hub's redemption service redeems the conditional voucher with its secret (an update: the channel stays open).
    const got = await waitFor('the hub to redeem C→hub', () => redeemedOnChain(ch['C→hub']));
    expect(got).toBe(AMOUNT + FEE);
    expect(await collected(ch['C→hub'])).toBeUndefined();
    expect(await updates(ch['C→hub'])).toEqual([[BigInt(p.out_lane), 1n, AMOUNT + FEE]]);
    expect((await pc.getLane(ch['C→hub'], BigInt(p.out_lane))).map(BigInt)).toEqual([1n, AMOUNT + FEE]);
  }, 120_000);

  it('the hub dies right after storing the secret (hub:fulfilled): the payer shows it conditional; the restarted hub redeems exactly amount + fee', async () => {
    await hub.stop();
    hub = await startHub(hubW, [...HUB_FEES, '--watch-interval', '1'], { CHANNELS_CRASH_AT: 'hub:fulfilled' });
    const r = await payerB.run(['pay', '--via', hub.url, shop1.address, AMOUNT.toString(), '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(6); // the hub's connection dropped
    expect(r.stdout + r.stderr).toMatch(/may still go through/);
    await hub.kill(); // dead already (SIGKILL of itself): wait for its exit
    expect(hub.process.signalCode).toBe('SIGKILL');
    const [p] = rows(payerB.home, "SELECT hash, state, out_lane FROM locked_payments WHERE role = 'payer'");
    expect(p.state).toBe('pending');
    const locked = await status(payerB, ch['B→hub']);
    expect(BigInt(locked.conditional)).toBe(AMOUNT + FEE);
    expect(rows(hubW.home, "SELECT state FROM locked_payments WHERE role = 'hub' AND hash = ?", p.hash)).toEqual([{ state: 'fulfilled' }]);
    const payerEth = await chain.balance(payerB.address);

    // Restarted where the payer knows it (its URL is in the payer's row).
    hub = await startHub(hubW, [...HUB_FEES, '--watch-interval', '1', '--port', new URL(hub.url).port]);
    const got = await waitFor('the restarted hub to redeem B→hub', () => redeemedOnChain(ch['B→hub']));
    expect(got).toBe(AMOUNT + FEE);
    expect(await updates(ch['B→hub'])).toEqual([[BigInt(p.out_lane), 1n, AMOUNT + FEE]]);
    // The payer lost amount + fee and nothing more: the rest of its deposit stays its own on chain (deposit − redeemed,
    // refunded when the channel closes), and it paid no gas.
    expect(await chain.balance(payerB.address)).toBe(payerEth);
    // The payee was paid: the restarted hub delivered its unconditional voucher.
    await waitFor('the unlock to reach shop1', async () => (rows(hubW.home, "SELECT out_unlocked FROM locked_payments WHERE role = 'hub' AND hash = ?", p.hash)[0].out_unlocked === '1' ? true : undefined));
    // shop1 holds both payments (payerC's and payerB's) unconditionally: the latest voucher of each lane (lanes are reused).
    const held = rows(shop1.home, 'SELECT lane, amount, secret_hash FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce', ch['hub→shop1']);
    const latest = new Map(held.map((v) => [v.lane, v]));
    expect([...latest.values()].every((v) => v.secret_hash === '0x' + '0'.repeat(64))).toBe(true);
    expect([...latest.values()].reduce((sum, v) => sum + BigInt(v.amount), 0n)).toBe(2n * AMOUNT);
    // The payer learns the outcome with sync (the payment was fulfilled; its voucher redeemed on chain).
    const s: RunResult = await payerB.run(['sync', '--json']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(rows(payerB.home, "SELECT state FROM locked_payments WHERE role = 'payer'")).toEqual([{ state: 'fulfilled' }]);
  }, 120_000);

  it('the hub disappears before unlocking to the payee (hub:unlocking): the payee\'s serve redeems the hub\'s conditional voucher', async () => {
    const r = await payerA.run(['pay', '--via', hub2.url, shop2.address, AMOUNT.toString(), '--json']);
    // The hub dies while or after answering: the payer has its proof, or the payment stays pending.
    if (r.code === 0) expect(r.json.secret).toMatch(/^0x[0-9a-f]{64}$/);
    else expect(r.code, r.stdout + r.stderr).toBe(6);
    await hub2.kill();
    expect(hub2.process.signalCode).toBe('SIGKILL');
    const [held] = rows(shop2.home, "SELECT in_lane, state FROM locked_payments WHERE role = 'payee'");
    expect(held.state).toBe('fulfilled');
    const got = await waitFor('shop2 to redeem hub2→shop2', () => redeemedOnChain(ch['hub2→shop2']));
    expect(got).toBe(AMOUNT);
    expect(await updates(ch['hub2→shop2'])).toEqual([[BigInt(held.in_lane), 1n, AMOUNT]]);
    await waitFor('serve to report it', async () => (/redeemed|closed/.test(serve2.stderr()) ? true : undefined), 20_000);
  }, 120_000);
});
