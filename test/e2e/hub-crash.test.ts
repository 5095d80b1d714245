/**
 * Issue 12 §2: `kill -9` of the hub at each step of a forwarded payment, then a restart — no
 * party loses money; in-flight payments complete or are released. Real anvil, real `channels
 * hub`, `channels serve` (the payee) and `channels pay --via` (the payer).
 *
 * Runs: each step of the hub's fault injection (CHANNELS_CRASH_AT=hub:accepted … hub:unlocked,
 * src/families/evm/locks.ts) DETERMINISTIC_EACH times (HUB_CRASH_EACH, HUB_CRASH_STEPS to rerun some), then random-delay SIGKILLs from a seeded
 * RNG (rerun with CRASH_SEED=<seed>): the payer talks to the hub through a transparent TCP-level
 * relay in this process that notes when `POST /lock` arrives, and the hub is killed a random
 * 0–W ms after it (W = 1.5 × the hub's time for the last payment that was not cut short, measured
 * through the relay: it follows the machine's load), so the kills spread over
 * the hub's steps instead of landing mostly before the payer's request. The step a random kill hit
 * is read from the hub's and payee's databases right after the kill and printed.
 *
 * After each crash: the hub restarted (without the fault), its recovery awaited (GET /lock/<hash>
 * through the hub), `channels sync` on the payer, then per payment: either fulfilled everywhere
 * (payer's row fulfilled and unlocked, the hub holds the secret and both hops simplified, the payee
 * holds voucher + secret) or left to be released (the hub never forwarded it: no payee row). At the
 * end, time passes the locks ONCE (evm_increaseTime), payer and hub sync, and the released
 * payments' vouchers are expired on both sides; then (lane, nonce) agreement between the homes, the
 * payee never paid less than it revealed secrets for, the hub never forwarded more than it holds
 * from the payer; finally every channel is closed and the balances are checked to the wei: payer
 * −(amounts + fees of fulfilled payments) − gas, hub +fees − gas, payee +amounts − gas.
 *
 * Locks: the default of `pay --via` (the hub's --min-lock + --margin + 120 = 1,020 s, written out as
 * LOCK_FOR): far beyond the redemption services' redeem.lockMargin (60 s), so neither the hub's nor the
 * payee's watcher redeems on chain while a crash leaves a conditional voucher held with its secret for a
 * few seconds.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startChain, startServe, type Chain, type RunResult, type Serve, type TestWallet } from '../helpers/cli.js';
import { hubParties, openRoute, startHub, type Hub } from '../helpers/hub.js';
import { increaseTime } from '../helpers/anvil.js';
import { ZERO_HASH, gasPaid, hopVouchers, latestPerLane, lockRows, voucherRows, type LockRow } from '../helpers/hub-money.js';
import { rng } from '../helpers/rng.js';

const DEPOSIT = 10n ** 16n;
const LOCK_FOR = 1020;
const HUB_ARGS = ['--fee-base', '10', '--fee-ppm', '1000'];
const STEPS = ['hub:accepted', 'hub:signed', 'hub:revealed', 'hub:fulfilled', 'hub:unlocking', 'hub:delivered', 'hub:unlocked'] as const;
const DETERMINISTIC_EACH = Number(process.env.HUB_CRASH_EACH ?? 2);
const RANDOM_RUNS = Number(process.env.HUB_CRASH_RANDOM ?? 20);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);

let chain: Chain;
let payer: TestWallet;
let hubWallet: TestWallet;
let shop: TestWallet;
let serve: Serve;
let hub: Hub;
let relay: Relay;
let payerChannel = '';
let hubChannel = '';
let startBlock = 0;
const before = new Map<string, bigint>();

/**
 * A relay in front of the hub: the payer's requests go to it and are piped to the hub's current
 * URL (changed at each restart); a request the dead hub cannot answer gets its connection cut,
 * as the hub's own would be. `onLock` is called when a `POST /lock` arrives.
 */
interface Relay {
  url: string;
  target: string;
  onLock?: () => void;
  /** When the last answer to a `POST /unlock` went out (ms). */
  unlockedAt: number;
  server: Server;
}

async function startRelay(): Promise<Relay> {
  const relay = { url: '', target: '', unlockedAt: 0, server: undefined as unknown as Server } as Relay;
  relay.server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/lock') relay.onLock?.();
    if (req.method === 'POST' && req.url === '/unlock') res.once('finish', () => (relay.unlockedAt = Date.now()));
    const up = request(`${relay.target}${req.url}`, { method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    up.on('error', (err) => {
      if (process.env.HUB_CRASH_TIMES) console.log(`relay: ${req.method} ${req.url}: ${err.message}`);
      res.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((ok) => relay.server.listen(0, '127.0.0.1', ok));
  relay.url = `http://127.0.0.1:${(relay.server.address() as AddressInfo).port}`;
  return relay;
}

/** Starts the hub (with `crashAt`: it SIGKILLs itself at that step) and points the relay at it. */
async function restartHub(crashAt?: string): Promise<void> {
  hub = await startHub(hubWallet, HUB_ARGS, crashAt ? { CHANNELS_CRASH_AT: crashAt } : {});
  relay.target = hub.url;
}

/** Resolves when the hub's process has exited (by its own SIGKILL or ours). */
function exited(h: Hub): Promise<void> {
  if (h.process.exitCode !== null || h.process.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => h.process.once('exit', () => ok()));
}

/** `channels pay --via <relay> <shop> <amount>` as a child process. */
function pay(amount: bigint): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'pay', '--via', relay.url, shop.address, amount.toString(), '--lock-for', String(LOCK_FOR), '--json'], {
      env: payer.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('exit', (code) => {
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code: code ?? 1, stdout, stderr, json });
    });
  });
}

/** The payer's payment rows that are not in `known` (the one a run made, if it got that far). */
function newPayerRows(known: Set<string>): LockRow[] {
  return [...lockRows(payer.home).values()].filter((r) => r.role === 'payer' && !known.has(r.hash));
}

/**
 * The steps of the hub's (the fault injection's names) at which the homes show payment `hash` to
 * stand, read right after the hub died: `none` (the hub took nothing), `accepted` (the payer's
 * voucher held and the hub's lane claimed in one commit, the hub's voucher not signed), `signed` (the hub's voucher
 * stored, the payee has none), `revealed` (the payee holds it and revealed, the hub has no secret), `fulfilled` (the
 * hub stored the secret and made its unlock voucher to the payee, in one commit — so the homes look as at `unlocking`;
 * alone only when the unlock voucher could not be made), `unlocking` (made, the payee does not hold
 * it), `delivered` (the payee holds it, the hub's row does not say so), `unlocked` (the hub stored
 * the payer's unlock voucher, its row does not say so), `done` (both hops simplified and recorded).
 * The payer's hop runs beside the payee's once the secret is known, so two can hold at once.
 */
function stepsShown(hash: string | undefined): string[] {
  const h = hash ? lockRows(hubWallet.home).get(hash) : undefined;
  if (!h) return ['none'];
  if (h.state === 'pending' && h.out_nonce === null) return ['accepted'];
  if (h.state === 'pending') return [lockRows(shop.home).has(hash!) ? 'revealed' : 'signed'];
  const conditional = (home: string, channel: string, lane: number) => latestPerLane(voucherRows(home, channel)).get(lane)!.secret_hash !== ZERO_HASH;
  const shown: string[] = [];
  if (!h.out_unlocked) {
    if (conditional(hubWallet.home, hubChannel, h.out_lane!)) shown.push('fulfilled');
    else shown.push(...(conditional(shop.home, hubChannel, h.out_lane!) ? ['fulfilled', 'unlocking'] : ['delivered']));
  }
  if (!h.in_unlocked && !conditional(hubWallet.home, payerChannel, h.in_lane!)) shown.push('unlocked');
  return shown.length ? shown : [h.in_unlocked ? 'done' : 'fulfilled'];
}

/** GET <hub>/lock/<hash> until the restarted hub's recovery settled the payment (or it never took it). */
async function recovered(hash: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${hub.url}/lock/${hash}`);
    const body: any = await r.json();
    if (r.status === 404) return body;
    if (body.state === 'refused' || body.state === 'expired' || (body.state === 'fulfilled' && body.outUnlocked)) return body;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`the hub did not recover payment ${hash}: ${hub.stderr()}`);
}

interface Outcome {
  run: number;
  how: string;
  step: string;
  payExit: number;
  hash?: string;
  amount: bigint;
  fee: bigint;
  fulfilled: boolean;
  /** Random runs the kill came after: ms from the payer's POST /lock to the answer of its /unlock. */
  took?: number;
}
const outcomes: Outcome[] = [];

/**
 * One payment with a hub crash: `how` is a step of the fault injection (the hub started with it) or
 * `random` (killed `delay` ms after the payer's POST /lock reached it). Then restart, recovery, sync
 * and the per-payment checks.
 */
async function crashRun(run: number, how: string, delay = 0): Promise<Outcome> {
  const t0 = Date.now();
  // HUB_CRASH_TIMES=1 prints where a run's time goes (and the relay its upstream errors).
  const tick = (what: string) => process.env.HUB_CRASH_TIMES && console.log(`run ${run} ${what} +${Date.now() - t0} ms`);
  const known = new Set(lockRows(payer.home).keys());
  const amount = 1000n + BigInt(run);
  let lockAt = 0;
  if (how !== 'random') {
    await hub.kill(); // an idle hub killed is one more crash, between payments
    await restartHub(how);
  } else {
    relay.onLock = () => {
      relay.onLock = undefined;
      lockAt = Date.now();
      const h = hub;
      setTimeout(() => void h.kill(), delay);
    };
  }
  tick('hub ready');
  // As soon as the hub is dead: read how far it got, then restart it (while the payer's process ends).
  const crashed = hub;
  let shown: string[] = [];
  let rows: LockRow[] = [];
  const restarted = exited(crashed).then(async () => {
    rows = newPayerRows(known);
    shown = stepsShown(rows[0]?.hash);
    await restartHub();
  });
  const paid = await pay(amount);
  tick('paid');
  relay.onLock = undefined;
  if (how === 'random') await crashed.kill(); // the payment finished before the timer: the crash comes after it
  await Promise.race([restarted, new Promise((_, fail) => setTimeout(() => fail(new Error(`run ${run}: the hub did not crash at ${how}: ${paid.stdout}${paid.stderr}`)), 60_000))]);
  tick('restarted');
  expect(rows.length, `run ${run}: one payment row at most`).toBeLessThanOrEqual(1);
  const hash = rows[0]?.hash;
  const step = shown[0];
  // The injected step is where the homes stand.
  if (how !== 'random') {
    const open = [...lockRows(hubWallet.home).values()].filter((r) => r.state === 'pending' || (r.state === 'fulfilled' && !(r.in_unlocked && r.out_unlocked)));
    expect(shown, `run ${run}; hub: ${crashed.stderr()}; open rows ${JSON.stringify(open)}`).toContain(how.slice('hub:'.length));
  }

  const fee = rows[0] ? BigInt(rows[0].fee) : 0n;
  if (hash) await recovered(hash);
  tick('recovered');
  const synced = await payer.run(['sync', '--json']);
  tick('synced');
  expect(synced.code, synced.stdout + synced.stderr).toBe(0);

  let fulfilled = false;
  if (hash) {
    const p = lockRows(payer.home).get(hash)!;
    const h = lockRows(hubWallet.home).get(hash);
    const r = lockRows(shop.home).get(hash);
    if (r) {
      // The payee revealed: the payment completes on both hops.
      fulfilled = true;
      expect({ payer: p.state, payerUnlocked: p.out_unlocked, hub: h?.state, hubIn: h?.in_unlocked, hubOut: h?.out_unlocked }, `run ${run} (${how}, ${step})`)
        .toEqual({ payer: 'fulfilled', payerUnlocked: 1, hub: 'fulfilled', hubIn: 1, hubOut: 1 });
      expect(h!.secret).toBe(p.secret);
      expect(r.secret).toBe(p.secret);
      expect(BigInt(r.amount)).toBe(amount);
      // Both hops simplified: the payment's conditional voucher added exactly its value to the lane (lanes are reused),
      // and the lane's latest voucher is the unconditional one right after it, for the same total.
      for (const [rows, lane, nonce, value] of [
        [voucherRows(shop.home, hubChannel), r.in_lane!, r.in_nonce!, amount],
        [voucherRows(hubWallet.home, payerChannel), h!.in_lane!, h!.in_nonce!, amount + fee],
      ] as const) {
        const onLane = rows.filter((v) => v.lane === lane && !v.expired);
        const locked = onLane.find((v) => v.nonce === nonce)!;
        const before = onLane.filter((v) => v.nonce < nonce).at(-1);
        expect({ hash: locked.secret_hash !== ZERO_HASH, adds: BigInt(locked.amount) - BigInt(before?.amount ?? '0') }, `run ${run}`).toEqual({ hash: true, adds: value });
        const latest = latestPerLane(rows).get(lane)!;
        expect({ nonce: latest.nonce, hash: latest.secret_hash, amount: latest.amount }, `run ${run}`).toEqual({ nonce: nonce + 1, hash: ZERO_HASH, amount: locked.amount });
      }
      if (paid.code === 0) expect(paid.json.secret).toBe(p.secret);
    } else {
      // Never revealed: the hub refused it on restart or never took it; the payer's lock stays until T1.
      expect(p.state, `run ${run} (${how}, ${step})`).toBe('pending');
      expect(h === undefined || h.state === 'refused', `run ${run} (${how}, ${step}): hub row ${h?.state}`).toBe(true);
      expect(paid.code, `run ${run}: a payment that did not go through is not reported paid`).not.toBe(0);
    }
  } else {
    expect(paid.code).not.toBe(0);
  }
  // A payment the kill came after: how long the hub took this time (the window follows the machine's load).
  const took = lockAt && relay.unlockedAt > lockAt ? relay.unlockedAt - lockAt : undefined;
  return { run, how, step, payExit: paid.code, hash, amount, fee, fulfilled, took };
}

beforeAll(async () => {
  chain = await startChain();
  ({ payer, hubWallet, shop } = await hubParties(chain));
  startBlock = await chain.provider.getBlockNumber();
  for (const w of [payer, hubWallet, shop]) before.set(w.address, await chain.balance(w.address));
  serve = await startServe(shop, ['--price', '1000']);
  relay = await startRelay();
  await restartHub();
({ hubChannel, payerChannel } = await openRoute({ payer, hubWallet, shop }, hub.address, serve.url, { toShop: DEPOSIT, toHub: DEPOSIT }));
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await serve?.stop();
  relay?.server.close();
  await chain?.stop();
});

describe(`kill -9 of the hub at each step of a payment through it (seed ${SEED})`, () => {
  let window = 0;

  it('a clean payment through the relay: measures the hub\'s time for the kill window', async () => {
    let arrived = 0;
    relay.onLock = () => (arrived = Date.now());
    const r = await pay(1000n);
    relay.onLock = undefined;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.unlocked).toBe(true);
    window = Math.max(150, Math.ceil((relay.unlockedAt - arrived) * 1.5));
    outcomes.push({ run: 0, how: 'clean', step: 'done', payExit: 0, hash: r.json.hash, amount: 1000n, fee: BigInt(r.json.fee), fulfilled: true });
  }, 60_000);

  it(`${STEPS.length * DETERMINISTIC_EACH} crashes at the fault-injection steps and ${RANDOM_RUNS} at random delays, each restarted and synced: every payment completes or waits for release`, async () => {
    let run = 1;
    const only = process.env.HUB_CRASH_STEPS?.split(','); // to rerun some steps alone
    for (let i = 0; i < DETERMINISTIC_EACH; i++) for (const step of STEPS.filter((s) => !only || only.includes(s))) outcomes.push(await crashRun(run++, step));
    const random = rng(SEED);
    const delays: number[] = [];
    for (let i = 0; i < RANDOM_RUNS; i++) {
      const delay = Math.floor(random() * window);
      delays.push(delay);
      const o = await crashRun(run++, 'random', delay);
      outcomes.push(o);
      if (o.took !== undefined) window = Math.max(150, Math.ceil(o.took * 1.5));
    }
    const steps = new Map<string, number>();
    for (const o of outcomes.filter((x) => x.how === 'random')) steps.set(o.step, (steps.get(o.step) ?? 0) + 1);
    console.log(`hub-crash.test.ts: CRASH_SEED=${SEED}, kill delays ${JSON.stringify(delays)} ms; random kills reached ${JSON.stringify(Object.fromEntries(steps))}; `
      + `${outcomes.filter((o) => o.fulfilled).length} of ${outcomes.length} payments fulfilled`);
    // Every step of the hub's is crashed at least DETERMINISTIC_EACH times (the injected ones); the random ones land in more than one.
    expect(steps.size).toBeGreaterThanOrEqual(2);
  }, 400_000);

  it('the homes agree: no (lane, nonce) reused, the payee never paid less than it revealed for, the hub never forwarded more than it holds', () => {
    const { payerVouchers, hubIn, hubOut, shopIn, differ } = hopVouchers({ payer: payer.home, hub: hubWallet.home, shop: shop.home }, payerChannel, hubChannel);
    expect(differ).toEqual([]);
    // The receiver holds nothing its sender did not sign.
    const signed = (rows: typeof payerVouchers) => new Set(rows.map((v) => `${v.lane}/${v.nonce}`));
    expect(hubIn.filter((v) => !signed(payerVouchers).has(`${v.lane}/${v.nonce}`))).toEqual([]);
    expect(shopIn.filter((v) => !signed(hubOut).has(`${v.lane}/${v.nonce}`))).toEqual([]);

    const hubRows = [...lockRows(hubWallet.home).values()];
    const shopRows = [...lockRows(shop.home).values()];
    // Every payment its own (lane, nonce) on every channel (lanes are reused, one conditional voucher at a time).
    const keys = (rows: LockRow[], side: 'in' | 'out') => rows.filter((r) => r[`${side}_nonce`] !== null).map((r) => `${r[`${side}_lane`]}/${r[`${side}_nonce`]}`);
    for (const k of [keys(hubRows, 'in'), keys(hubRows, 'out'), keys(shopRows, 'in')]) expect(new Set(k).size).toBe(k.length);
    /** The voucher at (lane, nonce) and what it adds over the lane's voucher before it (expired ones left out). */
    const at = (rows: typeof payerVouchers, lane: number, nonce: number) => {
      const onLane = rows.filter((v) => v.lane === lane && !v.expired);
      const v = onLane.find((x) => x.nonce === nonce)!;
      return { v, adds: BigInt(v.amount) - BigInt(onLane.filter((x) => x.nonce < nonce).at(-1)?.amount ?? '0') };
    };
    for (const r of shopRows) {
      // The payee revealed this secret for a voucher adding the amount, which it holds with the secret.
      const got = at(shopIn, r.in_lane!, r.in_nonce!);
      expect({ adds: got.adds, secret: got.v.secret }).toEqual({ adds: BigInt(r.amount), secret: r.secret });
      // The hub forwarded it against the payer's voucher adding amount + fee, which it holds with the secret.
      const h = lockRows(hubWallet.home).get(r.hash)!;
      const held = at(hubIn, h.in_lane!, h.in_nonce!);
      expect({ adds: held.adds, secret: held.v.secret }).toEqual({ adds: BigInt(h.amount) + BigInt(h.fee), secret: r.secret });
    }
    for (const h of hubRows.filter((x) => x.out_nonce !== null)) {
      // Never more out than in, less the fee.
      expect(at(hubOut, h.out_lane!, h.out_nonce!).adds).toBeLessThanOrEqual(at(hubIn, h.in_lane!, h.in_nonce!).adds - BigInt(h.fee));
    }
    // Every conditional voucher the payee holds is one the hub signed for a payment it took from the payer.
    const forwarded = new Set(keys(hubRows, 'out'));
    for (const v of shopIn.filter((x) => x.secret_hash !== ZERO_HASH)) expect(forwarded.has(`${v.lane}/${v.nonce}`), `payee lane ${v.lane} nonce ${v.nonce}`).toBe(true);
    // The same payments are fulfilled in the three homes.
    const fulfilled = (rows: LockRow[]) => rows.filter((r) => r.state === 'fulfilled').map((r) => r.hash).sort();
    const payerRows = [...lockRows(payer.home).values()];
    expect(fulfilled(payerRows)).toEqual(fulfilled(hubRows));
    expect(fulfilled(shopRows)).toEqual(fulfilled(hubRows));
    expect(fulfilled(payerRows)).toEqual(outcomes.filter((o) => o.fulfilled).map((o) => o.hash).sort());
  });

  it('after the locks pass, the payments that did not go through are released on both sides', async () => {
    await increaseTime(chain.anvil.rpcUrl, LOCK_FOR + 60);
    for (const w of [payer, hubWallet, shop]) {
      const r = await w.run(['sync', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const payerRows = [...lockRows(payer.home).values()];
    expect(payerRows.filter((r) => r.state !== 'fulfilled' && r.state !== 'expired')).toEqual([]);
    const hubRows = [...lockRows(hubWallet.home).values()];
    expect(hubRows.filter((r) => r.state !== 'fulfilled' && r.state !== 'refused' && r.state !== 'expired')).toEqual([]);
    // No conditional amount is left in any home; the payer's available is its deposit less what it paid.
    const paid = outcomes.filter((o) => o.fulfilled).reduce((s, o) => s + o.amount + o.fee, 0n);
    const payerStatus = await payer.run(['status', payerChannel, '--json']);
    expect(payerStatus.code, payerStatus.stdout + payerStatus.stderr).toBe(0);
    expect({ conditional: payerStatus.json.conditional, spent: payerStatus.json.spent, available: payerStatus.json.available })
      .toEqual({ conditional: '0', spent: paid.toString(), available: (DEPOSIT - paid).toString() });
    for (const [w, id] of [[hubWallet, payerChannel], [hubWallet, hubChannel], [shop, hubChannel]] as const) {
      const s = await w.run(['status', id, '--json']);
      expect(s.code, s.stdout + s.stderr).toBe(0);
      expect(s.json.conditional, `${w.address} ${id}`).toBe('0');
    }
  }, 120_000);

  it('closing everything pays each party to the wei: payer −(amounts + fees) − gas, hub +fees − gas, payee +amounts − gas', async () => {
    await hub.stop();
    await serve.stop();
    const closedIn = await hubWallet.run(['close', payerChannel, '--json']);
    expect(closedIn.code, closedIn.stdout + closedIn.stderr).toBe(0);
    const closedOut = await shop.run(['close', hubChannel, '--json']);
    expect(closedOut.code, closedOut.stdout + closedOut.stderr).toBe(0);
    const done = outcomes.filter((o) => o.fulfilled);
    const amounts = done.reduce((s, o) => s + o.amount, 0n);
    const fees = done.reduce((s, o) => s + o.fee, 0n);
    const gas = await gasPaid(chain.provider, [payer.address, hubWallet.address, shop.address], startBlock);
    const delta = async (w: TestWallet) => (await chain.balance(w.address)) - before.get(w.address)!;
    expect({
      payer: await delta(payer), hub: await delta(hubWallet), shop: await delta(shop),
    }).toEqual({
      payer: -(amounts + fees) - gas.get(payer.address.toLowerCase())!,
      hub: fees - gas.get(hubWallet.address.toLowerCase())!,
      shop: amounts - gas.get(shop.address.toLowerCase())!,
    });
    console.log(`hub-crash.test.ts: ${done.length} payments fulfilled (${amounts} wei to the payee, ${fees} wei of fees), ${outcomes.length - done.length} released`);
  }, 120_000);
});
