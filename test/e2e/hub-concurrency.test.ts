/**
 * Issue 12 §2: 50 concurrent payments through one hub over one payer channel — 50 real `channels
 * pay --via` processes started at once (one payment each) against a real `channels hub` and a real
 * `channels serve` payee, on a real anvil.
 *
 * The payer's deposit covers PAYER_COVERS of the 50 payments (amount + fee each) and the hub's
 * deposit to the payee HUB_COVERS < PAYER_COVERS amounts, so both limits bite: exactly
 * 50 − PAYER_COVERS processes are refused by the payer's own funds check (exit 5), and of the
 * PAYER_COVERS that reach the hub exactly PAYER_COVERS − HUB_COVERS are refused for liquidity
 * (exit 4), the rest succeed. Then, from the three databases: no (lane, nonce) reused and the same
 * voucher where two homes hold one, each signed payment its own (lane, nonce) on lanes reused one conditional voucher at a time, no overdraft (the sum of
 * the latest voucher of every lane ≤ the deposit on both channels, in every home), and every success
 * fulfilled at the payee (it holds the secret the payer printed, with a voucher worth the amount).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startChain, startServe, type Chain, type RunResult, type Serve, type TestWallet } from '../helpers/cli.js';
import { hubParties, openRoute, startHub, type Hub } from '../helpers/hub.js';
import { ZERO_HASH, hopVouchers, laneSteps, latestPerLane, lockRows, voucherRows, type VoucherRow } from '../helpers/hub-money.js';

const PAYMENTS = 50;
const AMOUNT = 10_000n; // the hub's deposit (HUB_COVERS × AMOUNT) above serve's default least deposit (100,000)
const FEE = 20n; // 10 + ceil(10,000 × 1000 / 10^6)
const PAYER_COVERS = 45;
const HUB_COVERS = 40;

let chain: Chain;
let payer: TestWallet;
let hubWallet: TestWallet;
let shop: TestWallet;
let serve: Serve;
let hub: Hub;
let payerChannel = '';
let hubChannel = '';
let results: RunResult[] = [];

beforeAll(async () => {
  chain = await startChain();
  ({ payer, hubWallet, shop } = await hubParties(chain));
  serve = await startServe(shop, ['--price', '1000']);
  hub = await startHub(hubWallet, ['--fee-base', '10', '--fee-ppm', '1000']);
  ({ hubChannel, payerChannel } = await openRoute({ payer, hubWallet, shop }, hub.address, serve.url, {
    toShop: BigInt(HUB_COVERS) * AMOUNT, toHub: BigInt(PAYER_COVERS) * (AMOUNT + FEE),
  }));
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await serve?.stop();
  await chain?.stop();
});

/**
 * `channels pay --via <hub> <shop> 1000 --json` as a child process, with no timeout of its own (runBin's
 * 120 s is too short for 50 processes at once on a 2-core machine other tests load; the test's timeout
 * catches a hang).
 */
function payVia(): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'pay', '--via', hub.url, shop.address, AMOUNT.toString(), '--json'], { env: payer.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('exit', (code, signal) => {
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code: code ?? 1, stdout, stderr: stderr + (signal ? ` (killed by ${signal})` : ''), json });
    });
  });
}

/** The sum of the latest voucher of every lane not expired (what the payee could redeem), base units. */
function owed(rows: VoucherRow[]): bigint {
  return [...latestPerLane(rows).values()].filter((v) => !v.expired).reduce((s, v) => s + BigInt(v.amount), 0n);
}

describe(`${PAYMENTS} concurrent pay --via processes through one hub over one payer channel`, () => {
  it(`the payer's deposit stops it at ${PAYER_COVERS}, the hub's liquidity at ${HUB_COVERS}; the rest are refused`, async () => {
    const t0 = Date.now();
    results = await Promise.all(Array.from({ length: PAYMENTS }, payVia));
    console.log(`hub-concurrency.test.ts: ${PAYMENTS} pay --via processes at once took ${Date.now() - t0} ms`);
    const codes = new Map<number, number>();
    for (const r of results) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
    const unexpected = results.filter((r) => ![0, 4, 5].includes(r.code));
    expect(unexpected.map((r) => r.stdout + r.stderr)).toEqual([]);
    expect(Object.fromEntries(codes)).toEqual({ 0: HUB_COVERS, 4: PAYER_COVERS - HUB_COVERS, 5: PAYMENTS - PAYER_COVERS });
    for (const r of results.filter((x) => x.code === 5)) expect(r.stdout + r.stderr).toMatch(/needs 10020|shortfall/);
    for (const r of results.filter((x) => x.code === 4)) expect(r.stdout + r.stderr).toMatch(/cannot pay|no open channel/i);
    for (const r of results.filter((x) => x.code === 0)) expect(r.json).toMatchObject({ amount: AMOUNT.toString(), fee: FEE.toString(), channelId: payerChannel, unlocked: true });
  }, 600_000);

  it('no lane or nonce is reused, the homes hold the same vouchers, and nothing overdraws a deposit', () => {
    const { payerVouchers, hubIn, hubOut, shopIn, differ } = hopVouchers({ payer: payer.home, hub: hubWallet.home, shop: shop.home }, payerChannel, hubChannel);
    expect(differ).toEqual([]);
    // Lanes are reused (one conditional voucher at a time on each): every signed payment is its own (lane, nonce), each
    // conditional voucher adds amount + fee to its lane and each simplification repeats it. Processes refused for funds
    // inside the payer's write lock leave a refused row without a voucher.
    const payerRows = [...lockRows(payer.home).values()];
    const signed = payerRows.filter((r) => r.out_nonce !== null);
    expect(signed).toHaveLength(PAYER_COVERS);
    expect(payerRows.filter((r) => r.out_nonce === null).every((r) => r.state === 'refused')).toBe(true);
    expect(new Set(signed.map((r) => `${r.out_lane}/${r.out_nonce}`)).size).toBe(PAYER_COVERS);
    expect(laneSteps(payerVouchers, AMOUNT + FEE)).toEqual([]);
    expect(laneSteps(hubOut, AMOUNT)).toEqual([]);
    expect(payerVouchers.filter((v) => v.secret_hash !== ZERO_HASH)).toHaveLength(PAYER_COVERS);
    const hubRows = [...lockRows(hubWallet.home).values()];
    const forwarded = hubRows.filter((r) => r.out_nonce !== null);
    expect(new Set(hubRows.map((r) => `${r.in_lane}/${r.in_nonce}`)).size).toBe(hubRows.length);
    expect(new Set(forwarded.map((r) => `${r.out_lane}/${r.out_nonce}`)).size).toBe(forwarded.length);
    expect(new Set(hubOut.map((v) => v.lane)).size).toBeLessThanOrEqual(HUB_COVERS);
    // No overdraft, on each side of each channel.
    const payerDeposit = BigInt(PAYER_COVERS) * (AMOUNT + FEE);
    const hubDeposit = BigInt(HUB_COVERS) * AMOUNT;
    for (const rows of [payerVouchers, hubIn]) expect(owed(rows)).toBeLessThanOrEqual(payerDeposit);
    for (const rows of [hubOut, shopIn]) expect(owed(rows)).toBeLessThanOrEqual(hubDeposit);
    expect(owed(payerVouchers)).toBe(payerDeposit); // every payer lane is held until its lock ends or it is paid
    expect(owed(hubOut)).toBe(hubDeposit);
  });

  it('every success is fulfilled at the payee, and only those', async () => {
    const ok = results.filter((r) => r.code === 0).map((r) => r.json);
    const shopRows = lockRows(shop.home);
    const hubRows = lockRows(hubWallet.home);
    const shopIn = voucherRows(shop.home, hubChannel);
    expect(laneSteps(shopIn, AMOUNT)).toEqual([]);
    for (const paid of ok) {
      const r = shopRows.get(paid.hash);
      expect(r, paid.hash).toBeDefined();
      expect({ secret: r!.secret, amount: r!.amount, state: r!.state }).toEqual({ secret: paid.secret, amount: AMOUNT.toString(), state: 'fulfilled' });
      // The hub's conditional voucher the shop took (with the secret), then its unconditional replacement on the same lane.
      const lane = shopIn.filter((v) => v.lane === r!.in_lane);
      const locked = lane.find((v) => v.nonce === r!.in_nonce)!;
      expect({ secret: locked.secret, hash: locked.secret_hash !== ZERO_HASH }).toEqual({ secret: paid.secret, hash: true });
      const after = lane.find((v) => v.nonce === r!.in_nonce! + 1)!;
      expect({ amount: after.amount, secret_hash: after.secret_hash }).toEqual({ amount: locked.amount, secret_hash: ZERO_HASH });
      expect(hubRows.get(paid.hash)).toMatchObject({ state: 'fulfilled', secret: paid.secret, in_unlocked: 1 });
    }
    expect([...shopRows.keys()].sort()).toEqual(ok.map((p) => p.hash).sort());
    const status = await hubWallet.run(['hub', 'status', '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    // A refusal for liquidity after the hub took the payer's voucher is a refused row; one before (no route left) writes none.
    expect(status.json.payments).toMatchObject({ fulfilled: HUB_COVERS, pending: 0 });
    expect(status.json.payments.refused).toBeLessThanOrEqual(PAYER_COVERS - HUB_COVERS);
    expect(status.json.feesEarned).toBe((BigInt(HUB_COVERS) * FEE).toString());
  }, 60_000);
});
