/**
 * Payments through a hub (issue 12, DESIGN §11), differentially against the real contract on a
 * real anvil, with real SQLite stores: the hub's logic (`EvmHub.lock`) and the payee's
 * (`acceptForward`) are called in process, the hub's link to the payee being the payee's own
 * code (an in-process link, not a mock of our rules). Thinking like the attacker, a payer (or a
 * hub, towards the payee) sends generated hostile requests.
 *
 * 1. Hub acceptance (and the payer's unlock, after which a lane is reused). Whatever the hub accepts, the contract redeems: `update(voucher, signature,
 *    secret)` from the hub succeeds now (eth_call), and still succeeds at the voucher's
 *    timeLockMax when the payer starts settling its channel right now (eth_call at that time in a
 *    snapshot where the payer called `settle`: the hub learns the secret only once the payee
 *    reveals it, so the channel must not close before the lock ends). All of the hub's held
 *    conditional vouchers on the payer's channel together fit the deposit: one real `updateMany`
 *    of them, each with its secret, redeems exactly what the store says. A 400/409 answer leaves
 *    the hub's and the payee's databases as they were; the requests the issue names (fee below
 *    policy, amount 0, lock too short, wrong hash, replay, …) are refused.
 * 2. Payee acceptance (`acceptForward`). Whatever it accepts, the contract redeems from the
 *    payee with the secret it stored; a ciphertext to another key, a secret that does not open
 *    the hash, an amount below the payer's, a lock too short, a used lane are refused and leave
 *    its database as it was; at the end one real `updateMany` of everything held redeems what
 *    the store says.
 * 3. Expiry. After the chain's clock is moved to the edges of the locks, a voucher `expireLocks`
 *    marked expired is never redeemable (eth_call reverts TimeLockExpired), and one it left is
 *    redeemable (or was redeemed on chain already): no lock is marked before it passed.
 *
 * Cases: FUZZ_RUNS (default 12 per property; `npm run fuzz` runs more), FUZZ_SEED replays one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Contract, Wallet, ethers, type HDNodeWallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/index.js';
import { ZERO_HASH, spentAcrossLanes, voucherOfFamily, voucherToWire, type EvmVoucher, type UnsignedVoucher } from '../../src/core/channel/voucher.js';
import { encryptSecret } from '../../src/core/channel/secret.js';
import { feeFor, hubInfoToWire } from '../../src/core/channel/lock.js';
import type { MerchantLink } from '../../src/core/scheme/index.js';
import type { HubPolicy, LockAnswer } from '../../src/core/scheme/hub.js';
import { ChannelsError, NetworkError } from '../../src/core/errors.js';
import { ChannelManager } from '../../src/families/evm/manager.js';
import { EvmHub, acceptForward, expireLocks, payThroughHub, payeePubkey } from '../../src/families/evm/locks.js';
import { acceptVoucher, type AcceptPolicy } from '../../src/families/evm/inbound.js';
import { signVoucher, voucherMessage } from '../../src/families/evm/voucher.js';
import { artifact } from '../helpers/deploy.js';
import { rowTextSql, startChain, type Chain } from '../helpers/cli.js';
import { highS } from '../helpers/voucher.js';
import { managersOn } from '../helpers/managers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const NO_SHRINK = process.env.FUZZ_NO_SHRINK === '1';

const POLICY: HubPolicy = { base: 10n, ppm: 1000n, minLock: 600, margin: 300, minSettleDelay: 60 };
const PAYEE_MIN_LOCK = 120;
const PAYEE_POLICY: AcceptPolicy = { minSettleDelay: 60 };
const PAYEE_URL = 'http://payee.invalid/.well-known/channels';
const HUB_URL = 'http://hub.invalid';
const HUB_LIQUIDITY = 10n ** 17n;
const U64 = (1n << 64n) - 1n;
const I63 = 1n << 63n;

let chain: Chain;
let chainId: bigint;
let contract: string;
let net: string;
let pc: Contract;
let payer: ChannelManager;
let hubM: ChannelManager;
let payee: ChannelManager;
let hub: EvmHub;
let stranger: HDNodeWallet;
let payeeKey: string;
/** A channel from the payer to the payee (not to the hub), one the payer started settling, the hub's own to the payee. */
let foreignChannel: string;
let settlingChannel: string;
let hubOutChannel: string;
/** A channel from the payer to the payee that the payer started settling before the payee saw it. */
let toPayeeSettling: string;

/** Every forward the hub made through the link, and what the payee answered. */
const forwards: { body: any; answer: LockAnswer }[] = [];
/** Every secret the test drew, by its hash. */
const secrets = new Map<string, string>();
/** How the link behaves: the payee answers (its own code), is unreachable, or takes unlock vouchers or not. */
const linkMode = { unreachable: false, deliver: true };
/** The payee behind the link (property 3 makes a fresh manager per case). */
const current = {} as { payee: ChannelManager; hub: EvmHub };

const link: MerchantLink = {
  async get(url) {
    if (url === PAYEE_URL) return { status: 200, json: { pubkey: payeeKey } };
    // The hub's routes (core/transports/hub/server.ts) for a payer's payThroughHub.
    if (url === `${HUB_URL}/`) return { status: 200, json: hubInfoToWire(current.hub.info()) };
    if (url.startsWith(`${HUB_URL}/payees/`)) return wire(await current.hub.payee(url.slice(`${HUB_URL}/payees/`.length)));
    throw new NetworkError(`no route to ${url}`);
  },
  async post(url, _headers, body) {
    if (url === `${HUB_URL}/lock`) return wire(await current.hub.lock(JSON.parse(body!)));
    if (url === `${HUB_URL}/unlock`) return wire(await current.hub.unlock(JSON.parse(body!)));
    if (url !== `${PAYEE_URL}/lock` || linkMode.unreachable) throw new NetworkError(`${url} did not answer`);
    const parsed = JSON.parse(body!);
    const answer = await acceptForward(current.payee, PAYEE_POLICY, parsed, PAYEE_MIN_LOCK);
    forwards.push({ body: parsed, answer });
    return { status: answer.status, json: answer.body };
  },
  async deliver(m, c, v) {
    // The paywall's POST <endpoint>/voucher: the payee's acceptance of a top-up voucher.
    if (!linkMode.deliver) throw new NetworkError('the payee did not answer');
    const r = await acceptVoucher(current.payee, voucherOfFamily(v, 'evm'), 0n, PAYEE_POLICY);
    m.acknowledge(c, v, r.charged);
    return r.charged;
  },
};

const wire = (r: LockAnswer) => ({ status: r.status, json: r.body });

let pool: ReturnType<typeof managersOn>;
const manager = (name: string) => pool.manager(name, '100');

beforeAll(async () => {
  chain = await startChain();
  pool = managersOn(chain, 'hubprop');
  payer = await manager('payer');
  hubM = await manager('hub');
  payee = await manager('shop');
  chainId = payer.backend.chainId;
  contract = payer.backend.contract;
  net = payer.network.caip2;
  pc = new Contract(contract, artifact('PaymentChannels').abi, chain.provider);
  stranger = Wallet.createRandom();
  payeeKey = await payeePubkey(payee);
  current.payee = payee;
  toPayeeSettling = (await payer.open({ payee: payee.address, deposit: 10n ** 6n, settleDelay: 3600 })).id;
  hub = new EvmHub(hubM, link, POLICY);
  current.hub = hub;
  hubOutChannel = (await hubM.open({ payee: payee.address, deposit: HUB_LIQUIDITY, settleDelay: 3600, endpoint: PAYEE_URL })).id;
  foreignChannel = (await payer.open({ payee: payee.address, deposit: 10n ** 6n, settleDelay: 3600 })).id;
  settlingChannel = (await payer.open({ payee: hubM.address, deposit: 10n ** 6n, settleDelay: 3600 })).id;
  await mined(pc.connect((await payer.signer()).connect(chain.provider)) as Contract, 'settle', [settlingChannel]);
  await mined(pc.connect((await payer.signer()).connect(chain.provider)) as Contract, 'settle', [toPayeeSettling]);
}, 120_000);

afterAll(async () => {
  pool?.close();
  await chain?.stop();
});

// ── helpers ─────────────────────────────────────────────────────────────────────

const sha = (hex: string) => '0x' + createHash('sha256').update(Buffer.from(hex.slice(2), 'hex')).digest('hex');
const newSecret = () => '0x' + randomBytes(32).toString('hex');
const w = <T,>(...xs: [number, T][]) => fc.oneof(...xs.map(([weight, x]) => ({ weight, arbitrary: fc.constant(x) })));

async function rpc<T = any>(method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(chain.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string; data?: unknown } };
  if (body.error) throw Object.assign(new Error(`${method}: ${body.error.message}`), { data: body.error.data });
  return body.result as T;
}

/** A contract call sent as a transaction and polled until mined (anvil mines each as it comes). @throws when it reverts */
async function mined(c: Contract, fn: string, args: unknown[]): Promise<void> {
  const tx = await c.getFunction(fn)(...args, { gasLimit: 10_000_000n });
  let receipt = await chain.provider.getTransactionReceipt(tx.hash);
  while (!receipt) {
    await new Promise((r) => setTimeout(r, 5));
    receipt = await chain.provider.getTransactionReceipt(tx.hash);
  }
  if (receipt.status !== 1) throw new Error(`${fn} reverted`);
}

const latest = async () => Number(BigInt((await rpc<{ timestamp: string }>('eth_getBlockByNumber', ['latest', false])).timestamp));
/** The time the hub and payee check locks against (lockNow): the later of the latest block's and the clock. */
const chainNow = async () => Math.max(await latest(), Math.floor(Date.now() / 1000));

/**
 * `update(v, signature, secret)` from `from` as an eth_call, at the latest block or at `time`
 * (a block override): undefined when the contract takes it, else its custom error's name.
 */
async function refusal(v: EvmVoucher, secret: string | undefined, from: string, time?: number): Promise<string | undefined> {
  const data = pc.interface.encodeFunctionData('update', [voucherMessage(v), v.signature, secret ?? '0x']);
  try {
    await rpc('eth_call', [{ from, to: contract, data }, 'latest', ...(time === undefined ? [] : [{}, { time: ethers.toQuantity(time) }])]);
    return undefined;
  } catch (err) {
    const revert = (err as { data?: unknown }).data;
    if (typeof revert === 'string' && revert.length >= 10) return pc.interface.parseError(revert)?.name ?? revert;
    return (err as Error).message;
  }
}

/** The bytes of a wallet's database files (the database and its write-ahead log; not the shared-memory index, which readers touch). */
function dbBytes(name: string): string {
  const h = createHash('sha256');
  for (const f of ['channels.db', 'channels.db-wal']) {
    const path = join(pool.homes.get(name)!, f);
    if (existsSync(path)) h.update(readFileSync(path));
    h.update('|');
  }
  return h.digest('hex');
}

/** Every row of every table of `store`, as text SQLite builds on the store's own connection. */
function dbText(store: Store): string {
  const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  return tables.map((t) => `${t}\n` + (store.db.prepare(`SELECT ${rowTextSql(store.db, t)} AS r FROM ${t} ORDER BY r`).all() as { r: string }[]).map((x) => x.r).join('\n')).join('\n--\n');
}

const show = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Waits until the hub has delivered (or failed to deliver) the unconditional voucher of a fulfilled payment: its background unlock is done. */
async function unlockSettled(m: ChannelManager, hash: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const p = m.store.locks.get(net, hash, 'hub');
    if (!p || p.state !== 'fulfilled' || p.outUnlocked) return;
    if (!linkMode.deliver) {
      // The unlock voucher is committed, then its delivery fails: wait for the commit.
      const last = m.store.vouchers.latest(net, p.outChannel!, p.outLane!);
      if (last && last.family === 'evm' && last.secretHash === ZERO_HASH) {
        await new Promise((r) => setTimeout(r, 20));
        return;
      }
    }
    if (Date.now() - started > 20_000) throw new Error(`the hub's unlock of ${hash} did not finish`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ── 1. hub acceptance ───────────────────────────────────────────────────────────

/** The hostile parts of a conditional voucher, the same for the hub's side and the payee's. */
const VOUCHER_FAULTS = {
  lane: fc.constantFrom('used', 'zero', 'u64'),
  nonce: fc.constantFrom('zero', 'big'),
  hash: fc.constantFrom('other', 'unlocked'),
  extra: fc.constantFrom('timeLockMin', 'minSettleAt', 'merge'),
  signer: fc.constantFrom('stranger', 'highS'),
  domain: fc.constantFrom('otherChain', 'otherContract'),
};
type VoucherFaults = { [K in keyof typeof VOUCHER_FAULTS]?: typeof VOUCHER_FAULTS[K] extends fc.Arbitrary<infer T> ? T : never };

/**
 * A conditional voucher locked to `hash` with the hostile parts `f` names, signed by the payer's key (the hub's on
 * the payee's side) unless `f.signer` says otherwise: another hash or none, a timeLockMin, minSettleAt or merge,
 * a stranger's key or the high-s twin of the signature, another chain or contract in the EIP-712 domain.
 */
async function conditionalVoucher(
  v: Pick<UnsignedVoucher, 'channelId' | 'lane' | 'nonce' | 'amount' | 'timeLockMax'>, hash: string, f: Omit<VoucherFaults, 'lane' | 'nonce'>,
): Promise<EvmVoucher> {
  const unsigned: UnsignedVoucher = {
    ...v, secretHash: f.hash === undefined ? hash : f.hash === 'other' ? sha(newSecret()) : ZERO_HASH,
    timeLockMin: f.extra === 'timeLockMin' ? 1n : 0n, minSettleAt: f.extra === 'minSettleAt' ? 1n : 0n,
    merges: f.extra === 'merge' ? [{ lane: v.lane === 0n ? 1n : 0n, nonce: 1n }] : [],
  };
  const signed = signVoucher(unsigned, f.signer === 'stranger' ? stranger : await payer.signer(), f.domain === 'otherChain' ? 1n : chainId, f.domain === 'otherContract' ? stranger.address : contract);
  return f.signer === 'highS' ? { ...signed, signature: highS(signed.signature) } : signed;
}

/** A lock request: an honest one with up to two of its parts replaced by hostile ones. */
const FAULTS = {
  amount: fc.constantFrom('zero', 'one', 'deposit', 'beyondHub', 'huge'),
  fee: fc.constantFrom('below', 'zero', 'above'),
  voucherAmount: fc.constantFrom('sum-1', 'sum+1', 'amountOnly'),
  lock: fc.constantFrom('minLock-30', 'minLock+2', 'margin', 'past', 'zero', 'u64', 'i63', 'long', 'settleEdge-2', 'settleEdge+2'),
  ...VOUCHER_FAULTS,
  channel: fc.constantFrom('foreign', 'unknown', 'settling', 'hubOwn'),
  secret: fc.constantFrom('stranger', 'wrongSecret', 'amountAbove', 'garbage'),
  payee: fc.constantFrom('stranger', 'hub'),
  network: fc.constant('other'),
  malformed: fc.constantFrom('extraField', 'badAmount'),
  replay: fc.constantFrom('verbatim', 'sameHash'),
  payeeUp: fc.constant(false),
};
type Faults = { [K in keyof typeof FAULTS]: typeof FAULTS[K] extends fc.Arbitrary<infer T> ? T : never };
const HONEST = {
  fee: 'policy', voucherAmount: 'sum', lock: 'ok', lane: 'fresh', nonce: 'one', hash: 'match', extra: 'none', signer: 'payer', domain: 'ours', channel: 'this',
  secret: 'payee', payee: 'payee', network: 'ours', malformed: 'none', replay: 'none', payeeUp: true,
} as const;
const faultNames = Object.keys(FAULTS) as (keyof Faults)[];
const lockStep = fc.record({
  /** Percent of the deposit, unless the amount is a fault. */
  percent: fc.integer({ min: 1, max: 60 }),
  /** On a lane whose held voucher was simplified (lanes are reused), when there is one. */
  reuse: fc.boolean(),
  faults: fc.oneof({ weight: 3, arbitrary: fc.constant([] as (keyof Faults)[]) }, { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...faultNames), { minLength: 1, maxLength: 2 }) }),
  values: fc.record(FAULTS),
}).map(({ percent, reuse, faults, values }) => {
  const s: Record<string, unknown> = { kind: 'lock' as const, ...HONEST, amount: percent, reuse };
  for (const f of faults) s[f] = values[f];
  return s as { kind: 'lock'; amount: number | Faults['amount']; reuse: boolean } & { [K in Exclude<keyof Faults, 'amount'>]: Faults[K] | (K extends keyof typeof HONEST ? typeof HONEST[K] : never) };
});
type LockStep = typeof lockStep extends fc.Arbitrary<infer T> ? T : never;
const hubCase = fc.record({
  deposit: fc.bigInt({ min: 10_000n, max: 2_000_000n }),
  settleDelay: w([1, 59], [1, 60], [2, 1200], [5, 3600], [1, 86400 * 60]),
  steps: fc.array(
    fc.oneof(
      { weight: 12, arbitrary: lockStep },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('burst' as const), items: fc.array(fc.tuple(lockStep, fc.boolean(), w([4, false], [1, true])), { minLength: 2, maxLength: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('unlock' as const), fault: w([8, 'none'], [1, 'less'], [1, 'more'], [1, 'conditional'], [1, 'wrongLane'], [1, 'unknownHash']) }) },
    ),
    { minLength: 1, maxLength: 8 },
  ),
});

interface Sent {
  body: any;
  voucher?: EvmVoucher;
  secret: string;
  /** A reason the issue requires a refusal for, when the request has one for sure. */
  mustRefuse?: string;
}

/** What the test knows of a case: the secrets it drew (by hash) and the requests it sent. */
interface HubCaseState {
  channelId: string;
  deposit: bigint;
  settleDelay: number;
  secrets: Map<string, string>;
  sent: Sent[];
  takenHashes: Set<string>;
  /** Locks sent on a reused lane. */
  reused: number;
}

/** The lock request a step describes, built against what the hub holds on the case's channel now. */
async function buildLock(s: LockStep, c: HubCaseState, now: number, laneOffset = 0): Promise<Sent> {
  const last = c.sent[c.sent.length - 1];
  if (s.replay === 'verbatim' && last) {
    return { body: last.body, voucher: last.voucher, secret: last.secret, mustRefuse: c.takenHashes.has(last.body.hash) ? 'replay' : undefined };
  }
  const reasons: string[] = [];
  const held = hubM.store.vouchers.latestPerLane(net, c.channelId);
  const reuseHash = s.replay === 'sameHash' && last?.body?.hash && c.secrets.has(last.body.hash);
  const secret = reuseHash ? c.secrets.get(last.body.hash)! : newSecret();
  const hash = sha(secret);
  c.secrets.set(hash, secret);
  secrets.set(hash, secret);
  if (reuseHash && c.takenHashes.has(hash)) reasons.push('replay');

  const amount = typeof s.amount === 'number' ? (c.deposit * BigInt(s.amount)) / 100n
    : { zero: 0n, one: 1n, deposit: c.deposit, beyondHub: HUB_LIQUIDITY + 1n, huge: 10n ** 77n }[s.amount];
  if (amount === 0n) reasons.push('amount_zero');
  if (amount > HUB_LIQUIDITY) reasons.push('no_route');
  const least = feeFor(POLICY, amount);
  const fee = { policy: least, below: least - 1n, zero: 0n, above: least + 7n }[s.fee];
  if (fee < least) reasons.push('fee_too_low');
  // A lane whose held voucher is unconditional (simplified) is reused: the voucher adds amount + fee on top of it.
  const reusable = s.lane === 'fresh' && s.reuse && laneOffset === 0 ? held.find((v) => v.family === 'evm' && v.secretHash === ZERO_HASH) : undefined;
  const base = reusable?.amount ?? 0n;
  const sum = base + amount + fee;
  const vAmount = { sum, 'sum-1': sum - 1n, 'sum+1': sum + 1n, amountOnly: base + amount }[s.voucherAmount];
  if (vAmount !== sum) reasons.push('amount_mismatch');

  const lockAt = {
    ok: now + POLICY.minLock + 60 + (Number(amount % 97n)), 'minLock-30': now + POLICY.minLock - 30, 'minLock+2': now + POLICY.minLock + 2, margin: now + POLICY.margin,
    past: now - 10, zero: 0, u64: U64, i63: I63, long: now + 86400 * 30,
    'settleEdge-2': now + c.settleDelay - POLICY.margin - 2, 'settleEdge+2': now + c.settleDelay - POLICY.margin + 2,
  }[s.lock];
  const timeLockMax = BigInt(lockAt) < 0n ? 0n : BigInt(lockAt);
  if (timeLockMax < BigInt(now + POLICY.minLock - 2)) reasons.push('lock_too_short');

  const usedLanes = held.map((v) => v.lane);
  const fresh = (usedLanes.length ? usedLanes.reduce((a, b) => (a > b ? a : b)) + 1n : 1n) + BigInt(laneOffset);
  const lane = reusable?.lane ?? { fresh, used: usedLanes[0] ?? fresh, zero: 0n, u64: U64 }[s.lane];
  if (s.lane === 'used' && usedLanes.length) reasons.push('lane_used');
  const nonce = { one: (reusable?.nonce ?? 0n) + 1n, zero: 0n, big: 2n ** 40n }[s.nonce];
  if (reusable) c.reused++;
  if (nonce === 0n) reasons.push('nonce_too_low');

  const channelId = { this: c.channelId, foreign: foreignChannel, unknown: ethers.id(`unknown ${c.channelId}`), settling: settlingChannel, hubOwn: hubOutChannel }[s.channel];
  if (s.channel !== 'this') reasons.push('wrong_channel');
  if (c.settleDelay < POLICY.minSettleDelay) reasons.push('settle_delay');
  const voucher = await conditionalVoucher({ channelId, lane, nonce, amount: vAmount, timeLockMax }, hash, {
    hash: s.hash === 'match' ? undefined : s.hash, extra: s.extra === 'none' ? undefined : s.extra,
    signer: s.signer === 'payer' ? undefined : s.signer, domain: s.domain === 'ours' ? undefined : s.domain,
  });
  if (s.hash !== 'match') reasons.push('hash_mismatch');
  if (s.extra !== 'none') reasons.push('conditional');
  if (s.signer === 'stranger') reasons.push('wrong_signer');
  if (s.signer === 'highS') reasons.push('high_s');
  if (s.domain !== 'ours') reasons.push('wrong_domain');

  const encryptedSecret = {
    payee: () => encryptSecret(payeeKey, secret, amount < 1n << 256n ? amount : 0n),
    stranger: () => encryptSecret(stranger.signingKey.compressedPublicKey, secret, amount),
    wrongSecret: () => encryptSecret(payeeKey, newSecret(), amount),
    amountAbove: () => encryptSecret(payeeKey, secret, amount + 1n),
    garbage: () => '0x' + randomBytes(97).toString('hex'),
  }[s.secret]();
  const to = { payee: payee.address, stranger: stranger.address, hub: hubM.address }[s.payee];
  if (s.payee !== 'payee') reasons.push('no_route');
  if (s.network !== 'ours') reasons.push('wrong_network');
  const body: Record<string, unknown> = {
    network: s.network === 'ours' ? net : 'eip155:1', payee: to, amount: amount.toString(), fee: fee.toString(), hash, encryptedSecret, voucher: voucherToWire(voucher),
  };
  if (s.malformed === 'extraField') body.extra = 1;
  if (s.malformed === 'badAmount') body.amount = `${amount}.0`;
  if (s.malformed !== 'none') reasons.push('malformed');
  return { body, voucher, secret, mustRefuse: reasons[0] };
}

interface HubTally { cases: number; requests: number; accepted: number; refused: number; payeeRefused: number; bursts: number; settleChecks: number; unlocks: number; reused: number }

/** Checks one answer of the hub to `sent`: what it accepts, the contract redeems (now); refusals change nothing. */
async function checkHubAnswer(sent: Sent, r: LockAnswer, c: HubCaseState, before: { hub: string; payee: string; hubBytes: string; payeeBytes: string } | undefined, t: HubTally): Promise<void> {
  t.requests++;
  const what = `${show(sent.body)} → ${r.status} ${show(r.body)}`;
  if (r.status === 200) {
    t.accepted++;
    expect(sent.mustRefuse, `accepted a request the issue requires refused (${sent.mustRefuse}): ${what}`).toBeUndefined();
    expect(r.body.secret, what).toBe(sent.secret);
    c.takenHashes.add(sent.body.hash);
    await unlockSettled(hubM, sent.body.hash);
    expect(await refusal(sent.voucher!, sent.secret, hubM.address), `accepted but the contract refuses it: ${what}`).toBeUndefined();
    const row = hubM.store.locks.get(net, sent.body.hash, 'hub')!;
    expect(row.state).toBe('fulfilled');
    // What the payee took for it, it can redeem with the secret it stored.
    const fw = forwards.filter((f) => f.body.hash === sent.body.hash && f.answer.status === 200);
    expect(fw.length, what).toBeGreaterThan(0);
    for (const f of fw) {
      const held = payee.store.locks.get(net, sent.body.hash, 'payee')!;
      expect(held.secret).toBe(sent.secret);
      const stored = payee.store.vouchers.list(net, held.inChannel!).find((x) => x.lane === held.inLane && x.nonce === held.inNonce);
      expect(stored?.secret).toBe(sent.secret);
      expect(await refusal(voucherOfFamily(stored!, 'evm'), stored!.secret, payee.address), `the payee holds an unredeemable voucher: ${show(f)}`).toBeUndefined();
    }
    return;
  }
  t.refused++;
  expect([400, 409, 502, 503, 504], what).toContain(r.status);
  expect(typeof r.body.error, what).toBe('string');
  if (r.status === 400 || r.status === 409) {
    if (before) {
      expect(dbText(hubM.store), `a refusal changed the hub's database: ${what}`).toBe(before.hub);
      expect(dbText(payee.store), `a refusal at the hub changed the payee's database: ${what}`).toBe(before.payee);
      expect(dbBytes('hub'), `a refusal changed the bytes of the hub's database files: ${what}`).toBe(before.hubBytes);
      expect(dbBytes('shop'), `a refusal at the hub changed the bytes of the payee's database files: ${what}`).toBe(before.payeeBytes);
    }
    return;
  }
  // 502/504: the payee refused or did not answer after the hub took the payer's voucher: it holds
  // it until its lock ends (refused or pending), and the payee holds nothing for it.
  t.payeeRefused++;
  expect(sent.mustRefuse, `took a request the issue requires refused (${sent.mustRefuse}): ${what}`).toBeUndefined();
  c.takenHashes.add(sent.body.hash);
  const row = hubM.store.locks.get(net, sent.body.hash, 'hub')!;
  expect(row.state, what).toBe(r.status === 504 ? 'pending' : 'refused');
  expect(payee.store.locks.get(net, sent.body.hash, 'payee'), what).toBeUndefined();
  expect(await refusal(sent.voucher!, sent.secret, hubM.address), `held but the contract refuses it: ${what}`).toBeUndefined();
}

/**
 * The payer's `POST /unlock` after a fulfilled payment (honest: the same amount, unconditional,
 * next nonce, on the payment's lane), or a hostile variant. What the hub takes, the contract
 * redeems without a secret; what it refuses changes nothing. The lane is then reused.
 */
async function unlockStep(fault: string, c: HubCaseState, t: HubTally): Promise<void> {
  const p = hubM.store.locks.list(net, 'hub', ['fulfilled']).find((x) => x.inChannel === c.channelId && !x.inUnlocked);
  if (!p) return;
  const cond = voucherOfFamily(hubM.store.vouchers.get(net, p.inChannel!, p.inLane!, p.inNonce!)!, 'evm');
  const unsigned: UnsignedVoucher = {
    channelId: cond.channelId, lane: fault === 'wrongLane' ? cond.lane + 1000n : cond.lane, nonce: cond.nonce + 1n,
    amount: cond.amount + (fault === 'less' ? -1n : fault === 'more' ? 1n : 0n),
    secretHash: fault === 'conditional' ? cond.secretHash : ZERO_HASH, timeLockMin: 0n, timeLockMax: fault === 'conditional' ? cond.timeLockMax : 0n, minSettleAt: 0n, merges: [],
  };
  const v = signVoucher(unsigned, await payer.signer(), chainId, contract);
  const body = { network: net, hash: fault === 'unknownHash' ? sha(newSecret()) : p.hash, voucher: voucherToWire(v) };
  const before = { rows: dbText(hubM.store), bytes: dbBytes('hub') };
  const r = await hub.unlock(body);
  const what = `${show(body)} → ${r.status} ${show(r.body)}`;
  t.requests++;
  if (r.status === 200) {
    t.unlocks++;
    expect(['none', 'more'], `took a hostile unlock: ${what}`).toContain(fault);
    expect(await refusal(v, undefined, hubM.address), `took an unlock the contract refuses: ${what}`).toBeUndefined();
    expect(hubM.store.locks.get(net, p.hash, 'hub')!.inUnlocked).toBe(true);
    return;
  }
  t.refused++;
  expect(fault, `refused an honest unlock: ${what}`).not.toBe('none');
  expect([400, 404, 409], what).toContain(r.status);
  expect(dbText(hubM.store), `a refused unlock changed the hub's database: ${what}`).toBe(before.rows);
  expect(dbBytes('hub'), `a refused unlock changed the bytes of the hub's database files: ${what}`).toBe(before.bytes);
}

/**
 * End of a case: every held conditional voucher stays redeemable until its lock even if the payer
 * starts settling now (in a snapshot), and all of them together are redeemed for real.
 */
async function closeHubCase(c: HubCaseState, t: HubTally): Promise<void> {
  const held = hubM.store.vouchers.effectivePerLane(net, c.channelId).map((v) => voucherOfFamily(v, 'evm'));
  if (held.length === 0) return;
  const conditional = held.filter((v) => v.secretHash !== ZERO_HASH);
  const asPayer = pc.connect((await payer.signer()).connect(chain.provider)) as Contract;
  const snapshot = await rpc<string>('evm_snapshot');
  try {
    const on = await pc.getChannel(c.channelId);
    if (on.settleAt === 0n) await mined(asPayer, 'settle', [c.channelId]);
    for (const v of conditional) {
      t.settleChecks++;
      const secret = c.secrets.get(v.secretHash)!;
      expect(await refusal(v, secret, hubM.address, Number(v.timeLockMax)), `the payer can settle before the lock of a voucher the hub took ends: ${show(v)} (settle delay ${c.settleDelay})`).toBeUndefined();
    }
  } finally {
    expect(await rpc('evm_revert', [snapshot])).toBe(true);
  }
  const secrets = held.map((v) => c.secrets.get(v.secretHash));
  await hubM.backend.updateMany(await hubM.signer(), held, secrets);
  expect((await pc.getChannel(c.channelId)).redeemed).toBe(spentAcrossLanes(held));
}

describe('payments through a hub, differentially against the contract', () => {
  it(`1. what the hub accepts, the contract redeems; what it refuses changes nothing (${RUNS} cases)`, async () => {
    const t: HubTally = { cases: 0, requests: 0, accepted: 0, refused: 0, payeeRefused: 0, bursts: 0, settleChecks: 0, unlocks: 0, reused: 0 };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(hubCase, async (hc) => {
        t.cases++;
        const ch = await payer.open({ payee: hubM.address, deposit: hc.deposit, settleDelay: hc.settleDelay });
        const c: HubCaseState = { channelId: ch.id, deposit: hc.deposit, settleDelay: hc.settleDelay, secrets: new Map(), sent: [], takenHashes: new Set(), reused: 0 };
        for (const step of hc.steps) {
          if (step.kind === 'settle') {
            const on = await pc.getChannel(c.channelId);
            if (on.settleAt === 0n) await mined(pc.connect((await payer.signer()).connect(chain.provider)) as Contract, 'settle', [c.channelId]);
            continue;
          }
          if (step.kind === 'unlock') {
            await unlockStep(step.fault, c, t);
            continue;
          }
          const now = await chainNow();
          if (step.kind === 'lock') {
            const sent = await buildLock(step, c, now);
            c.sent.push(sent);
            linkMode.unreachable = !step.payeeUp;
            const before = { hub: dbText(hubM.store), payee: dbText(payee.store), hubBytes: dbBytes('hub'), payeeBytes: dbBytes('shop') };
            const r = await hub.lock(JSON.parse(JSON.stringify(sent.body)));
            linkMode.unreachable = false;
            await checkHubAnswer(sent, r, c, before, t);
            // Half the payments are simplified at once (as pay --via does), so that later ones reuse their lanes.
            if (r.status === 200 && step.reuse) await unlockStep('none', c, t);
            continue;
          }
          // Concurrent requests on the same channel (some on the same fresh lane, some with the same hash): no lane or hash taken twice, no overdraft.
          t.bursts++;
          const sents: Sent[] = [];
          for (const [s, sameLane, sameHash] of step.items) {
            const sent = await buildLock({ ...s, replay: sameHash && sents.length ? 'sameHash' : 'none', payeeUp: true }, c, now, sameLane ? 0 : sents.length);
            sents.push(sent);
            c.sent.push(sent);
          }
          const answers = await Promise.all(sents.map((s) => hub.lock(JSON.parse(JSON.stringify(s.body)))));
          for (const [i, s] of sents.entries()) await checkHubAnswer(s, answers[i], c, undefined, t);
          const lanes = sents.filter((_, i) => answers[i].status === 200 || answers[i].status >= 500).map((s) => `${s.voucher!.channelId}:${s.voucher!.lane}`);
          expect(new Set(lanes).size, 'two accepted requests on one lane').toBe(lanes.length);
          const hashes = sents.filter((_, i) => answers[i].status === 200 || answers[i].status >= 500).map((s) => s.body.hash);
          expect(new Set(hashes).size, 'two accepted requests with one hash').toBe(hashes.length);
        }
        await closeHubCase(c, t);
        t.reused += c.reused;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: NO_SHRINK },
    );
    // The payee's side of every forward: one real updateMany of all it holds from the hub redeems what its store says.
    const held = payee.store.vouchers.effectivePerLane(net, hubOutChannel).map((v) => voucherOfFamily(v, 'evm'));
    if (held.length) {
      await payee.backend.updateMany(await payee.signer(), held, held.map((v) => payee.store.vouchers.list(net, hubOutChannel).find((x) => x.lane === v.lane && x.secret)?.secret));
      expect((await pc.getChannel(hubOutChannel)).redeemed).toBe(spentAcrossLanes(held));
    }
    console.log(`hub property: ${show(t)}, ${held.length} lanes redeemed by the payee, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(t.cases).toBe(RUNS);
    expect(t.accepted).toBeGreaterThan(0);
    expect(t.refused).toBeGreaterThan(0);
  }, 600_000);
});

// ── 2. payee acceptance ─────────────────────────────────────────────────────────

/** A forwarded payment (hub → payee): an honest one with up to two parts replaced by hostile ones. */
const FORWARD_FAULTS = {
  amount: fc.constantFrom('zero', 'deposit', 'deposit+1'),
  cipher: fc.constantFrom('stranger', 'wrongSecret', 'amountAbove', 'amountBelow', 'garbage', 'truncated'),
  lock: fc.constantFrom('minLock-5', 'minLock+2', 'past', 'zero', 'u64', 'long'),
  ...VOUCHER_FAULTS,
  channel: fc.constantFrom('toHub', 'unknown', 'settling'),
  network: fc.constant('other'),
  malformed: fc.constantFrom('extraField', 'cipherNotHex'),
  replay: fc.constantFrom('verbatim', 'sameLaneOtherVoucher', 'sameHashNewLane'),
};
type ForwardFaults = { [K in keyof typeof FORWARD_FAULTS]: typeof FORWARD_FAULTS[K] extends fc.Arbitrary<infer T> ? T : never };
const forwardNames = Object.keys(FORWARD_FAULTS) as (keyof ForwardFaults)[];
const forwardStep = fc.record({
  percent: fc.integer({ min: 1, max: 60 }),
  faults: fc.oneof({ weight: 3, arbitrary: fc.constant([] as (keyof ForwardFaults)[]) }, { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...forwardNames), { minLength: 1, maxLength: 2 }) }),
  values: fc.record(FORWARD_FAULTS),
}).map(({ percent, faults, values }) => {
  const s: Partial<ForwardFaults> = {};
  for (const f of faults) (s as Record<string, unknown>)[f] = values[f];
  return { percent, ...s };
});
type ForwardStep = typeof forwardStep extends fc.Arbitrary<infer T> ? T : never;
const payeeCase = fc.record({
  deposit: fc.bigInt({ min: 10_000n, max: 2_000_000n }),
  settleDelay: w([1, 59], [6, 3600]),
  steps: fc.array(forwardStep, { minLength: 1, maxLength: 6 }),
});

/** The forward request a step describes (the payer's key plays the hub), against what the payee holds on `channelId`. */
async function buildForward(s: ForwardStep, channelId: string, deposit: bigint, now: number, last: Sent | undefined): Promise<Sent> {
  if (s.replay === 'verbatim' && last) return { ...last, mustRefuse: undefined };
  const reasons: string[] = [];
  const held = payee.store.vouchers.latestPerLane(net, channelId);
  const usedLanes = held.map((v) => v.lane);
  const fresh = usedLanes.length ? usedLanes.reduce((a, b) => (a > b ? a : b)) + 1n : 1n;
  const sameLane = s.replay === 'sameLaneOtherVoucher' && last?.voucher;
  const secret = (s.replay === 'sameLaneOtherVoucher' || s.replay === 'sameHashNewLane') && last ? last.secret : newSecret();
  const hash = sha(secret);
  secrets.set(hash, secret);
  if ((s.replay === 'sameLaneOtherVoucher' || s.replay === 'sameHashNewLane') && last && payee.store.locks.get(net, hash, 'payee')) reasons.push('replay');
  const spent = spentAcrossLanes(payee.store.vouchers.effectivePerLane(net, channelId));
  const amount = s.amount === undefined ? (deposit * BigInt(s.percent)) / 100n : { zero: 0n, deposit, 'deposit+1': deposit + 1n }[s.amount];
  if (spent + amount > deposit) reasons.push('above_deposit');
  const lockAt = s.lock === undefined ? now + PAYEE_MIN_LOCK + 60 + s.percent
    : { 'minLock-5': now + PAYEE_MIN_LOCK - 5, 'minLock+2': now + PAYEE_MIN_LOCK + 2, past: now - 10, zero: 0, u64: U64, long: now + 86400 * 365 }[s.lock];
  const timeLockMax = BigInt(lockAt);
  if (timeLockMax < BigInt(now + PAYEE_MIN_LOCK - 2)) reasons.push('lock_too_short');
  const lane = sameLane ? last.voucher!.lane : s.lane === undefined ? fresh : { used: usedLanes[0] ?? fresh, zero: 0n, u64: U64 }[s.lane];
  if (s.lane === 'used' && usedLanes.length) reasons.push('lane_used');
  const nonce = s.nonce === undefined ? (sameLane ? last.voucher!.nonce + 1n : 1n) : { zero: 0n, big: 2n ** 40n }[s.nonce];
  if (nonce === 0n) reasons.push('nonce_too_low');
  const channelId2 = s.channel === undefined ? channelId : { toHub: settlingChannel, unknown: ethers.id(`unknown ${channelId}`), settling: toPayeeSettling }[s.channel];
  if (s.channel) reasons.push('wrong_channel');
  const voucher = await conditionalVoucher({ channelId: channelId2, lane, nonce, amount, timeLockMax }, hash, s);
  if (s.hash) reasons.push('hash_mismatch');
  if (s.extra) reasons.push('conditional');
  if (s.signer || s.domain) reasons.push('bad_signature');
  const cipher = s.cipher === undefined ? encryptSecret(payeeKey, secret, amount) : {
    stranger: () => encryptSecret(stranger.signingKey.compressedPublicKey, secret, amount),
    wrongSecret: () => encryptSecret(payeeKey, newSecret(), amount),
    amountAbove: () => encryptSecret(payeeKey, secret, amount + 1n),
    amountBelow: () => encryptSecret(payeeKey, secret, amount > 0n ? amount - 1n : 0n),
    garbage: () => '0x' + randomBytes(97).toString('hex'),
    truncated: () => encryptSecret(payeeKey, secret, amount).slice(0, -2),
  }[s.cipher]();
  if (s.cipher && s.cipher !== 'amountBelow') reasons.push('bad_secret');
  const body: Record<string, unknown> = { network: s.network ? 'eip155:1' : net, hash, encryptedSecret: cipher, voucher: voucherToWire(voucher) };
  if (s.network) reasons.push('wrong_network');
  if (s.malformed === 'extraField') body.extra = 1;
  if (s.malformed === 'cipherNotHex') body.encryptedSecret = 'zz';
  if (s.malformed) reasons.push('malformed');
  return { body, voucher, secret, mustRefuse: reasons[0] };
}

describe('the payee\'s side of a payment through a hub, differentially against the contract', () => {
  it(`2. what acceptForward takes, the contract redeems with the secret it stored; what it refuses changes nothing (${RUNS} cases)`, async () => {
    const t = { cases: 0, requests: 0, accepted: 0, refused: 0 };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(payeeCase, async (pcase) => {
        t.cases++;
        const ch = await payer.open({ payee: payee.address, deposit: pcase.deposit, settleDelay: pcase.settleDelay });
        let last: Sent | undefined;
        for (const step of pcase.steps) {
          const sent = await buildForward(step, ch.id, pcase.deposit, await chainNow(), last);
          if (pcase.settleDelay < PAYEE_POLICY.minSettleDelay && !sent.mustRefuse && !payee.store.channels.get(net, ch.id)) sent.mustRefuse = 'settle_delay';
          last = sent;
          t.requests++;
          const before = dbText(payee.store);
          const beforeBytes = dbBytes('shop');
          const r = await acceptForward(payee, PAYEE_POLICY, JSON.parse(JSON.stringify(sent.body)), PAYEE_MIN_LOCK);
          const what = `${show(sent.body)} → ${r.status} ${show(r.body)}`;
          if (r.status !== 200) {
            t.refused++;
            expect([400, 409, 503], what).toContain(r.status);
            expect(dbText(payee.store), `a refusal changed the payee's database: ${what}`).toBe(before);
            expect(dbBytes('shop'), `a refusal changed the bytes of the payee's database files: ${what}`).toBe(beforeBytes);
            continue;
          }
          t.accepted++;
          expect(sent.mustRefuse, `accepted a forward it must refuse (${sent.mustRefuse}): ${what}`).toBeUndefined();
          expect(r.body.secret, what).toBe(sent.secret);
          const row = payee.store.locks.get(net, sent.body.hash, 'payee')!;
          expect(row.secret).toBe(sent.secret);
          expect(row.amount >= 0n).toBe(true);
          // What it answered 200 for is what it holds, and the contract redeems it from the payee with the stored secret.
          const stored = payee.store.vouchers.list(net, sent.voucher!.channelId).find((x) => x.lane === sent.voucher!.lane && x.nonce === sent.voucher!.nonce);
          expect(stored && voucherOfFamily(stored, 'evm').signature, `answered 200 for a voucher it does not hold: ${what}`).toBe(sent.voucher!.signature);
          expect(await refusal(sent.voucher!, stored!.secret, payee.address), `accepted but the contract refuses it: ${what}`).toBeUndefined();
        }
        // All together, for real: the chain's total is what the payee's store says.
        const held = payee.store.vouchers.effectivePerLane(net, ch.id).map((v) => voucherOfFamily(v, 'evm'));
        if (held.length) {
          await payee.backend.updateMany(await payee.signer(), held, held.map((v) => payee.store.vouchers.latest(net, ch.id, v.lane)?.secret));
          expect((await pc.getChannel(ch.id)).redeemed).toBe(spentAcrossLanes(held));
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: NO_SHRINK },
    );
    console.log(`payee property: ${show(t)}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(t.accepted).toBeGreaterThan(0);
    expect(t.refused).toBeGreaterThan(0);
  }, 600_000);
});

// ── 3. expiry ───────────────────────────────────────────────────────────────────

const expiryCase = fc.record({
  locks: fc.array(
    fc.record({
      offset: fc.integer({ min: 0, max: 90 }),
      percent: fc.integer({ min: 1, max: 20 }),
      /** The payee takes it and the hub's unlock is delivered or not; the payee refuses it; the payee does not answer. */
      outcome: w([3, 'delivered' as const], [2, 'undelivered' as const], [1, 'payeeRefuses' as const], [1, 'payeeDown' as const]),
      /** The hub redeems the payer's voucher on chain behind its store's back. */
      redeemEarly: w([5, false], [1, true]),
      /** Paid by a payer wallet's own `pay --via` (payThroughHub), whose store then expires its side too. */
      via: w([2, false], [1, true]),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  /** Where the chain's clock goes: one second around a lock's T1 or T2. */
  jumps: fc.array(fc.record({ lock: fc.nat(3), edge: fc.constantFrom('T1' as const, 'T2' as const), delta: fc.integer({ min: -1, max: 1 }) }), { minLength: 1, maxLength: 4 }),
});

/**
 * The latest voucher of a lane in `store`, after expireLocks: marked expired ⇒ the contract
 * refuses it as expired (from `redeemer`, with its secret); not marked ⇒ redeemable, or
 * redeemed on chain already.
 */
async function checkExpiry(store: Store, channelId: string, lane: bigint, nonce: bigint, redeemer: string, latestTime: number, what: string): Promise<'expired' | 'live' | 'redeemed' | 'plain'> {
  const rec = store.vouchers.get(net, channelId, lane, nonce);
  if (!rec || rec.family !== 'evm' || rec.secretHash === ZERO_HASH) return 'plain';
  // Replaced by an unconditional voucher (simplified): nothing to expire.
  if ((store.vouchers.latest(net, channelId, lane)?.nonce ?? 0n) > nonce) return 'plain';
  const v = voucherOfFamily(rec, 'evm');
  const r = await refusal(v, secrets.get(v.secretHash), redeemer);
  const [onChain] = await pc.getLane(channelId, lane);
  const where = `${what}: lane ${lane} of ${channelId.slice(0, 10)}, timeLockMax ${v.timeLockMax}, latest block ${latestTime}, eth_call → ${r ?? 'ok'}`;
  if (rec.expired) {
    expect(r, `marked expired but redeemable: ${where}`).toBe('TimeLockExpired');
    expect(v.timeLockMax < BigInt(latestTime), where).toBe(true);
    return 'expired';
  }
  if (onChain >= v.nonce) {
    // Redeemed on chain already (the contract checks the time lock before the nonce).
    expect(['NonceTooLow', 'TimeLockExpired'], where).toContain(r);
    return 'redeemed';
  }
  expect(r, `not marked expired, yet not redeemable: ${where}`).toBeUndefined();
  return 'live';
}

describe('expiry of locks', () => {
  it(`3. a lock expireLocks marks is never redeemable, one it leaves is (${RUNS} cases)`, async () => {
    const t = { cases: 0, locks: 0, jumps: 0, expired: 0, live: 0, redeemed: 0, rowsExpired: 0, payerSide: 0 };
    const started = Date.now();
    const strangerKey = stranger.signingKey.compressedPublicKey;
    try {
      await fc.assert(
        fc.asyncProperty(expiryCase, async (ec) => {
          t.cases++;
          // Fresh managers on the same homes: the hub's and payee's clock (lockNow) read after the last case's jumps.
          const hubX = await manager('hub');
          const payeeX = await manager('shop');
          current.payee = payeeX;
          const hubN = new EvmHub(hubX, link, POLICY);
          current.hub = hubN;
          const deposit = 10n ** 6n;
          const payer2 = await manager('payer2');
          await payer2.open({ payee: hubX.address, deposit, settleDelay: 86400 * 7 });
          const ch = await payer.open({ payee: hubX.address, deposit, settleDelay: 86400 * 7 });
          const now = await chainNow();
          const taken: { hash: string; channelId: string; lane: bigint; nonce: bigint; T1: number; T2: number; via: boolean }[] = [];
          for (const [i, l] of ec.locks.entries()) {
            const amount = (deposit * BigInt(l.percent)) / 100n;
            const fee = feeFor(POLICY, amount);
            const T1 = now + POLICY.minLock + 5 + l.offset;
            let secret: string;
            linkMode.unreachable = l.outcome === 'payeeDown' || (l.via && l.outcome === 'payeeRefuses');
            linkMode.deliver = l.outcome === 'delivered';
            try {
              if (l.via) {
                // The payer wallet's own path: its voucher and payment row are in its store.
                const before = new Set(payer2.store.locks.list(net, 'payer').map((p) => p.hash));
                const paid = await payThroughHub(payer2, link, HUB_URL, payeeX.address, amount, { lockSeconds: T1 - (await chainNow()) }).catch((err: unknown) => err as Error);
                if (linkMode.unreachable) expect(paid, 'the payee did not answer, yet the payment went through').toBeInstanceOf(ChannelsError); // refused, or unreachable (may still complete)
                else expect(paid, show(paid)).not.toBeInstanceOf(Error);
                secret = payer2.store.locks.list(net, 'payer').find((p) => !before.has(p.hash))!.secret!;
              } else {
                secret = newSecret();
                const v = signVoucher(
                  { channelId: ch.id, lane: BigInt(i + 1), nonce: 1n, amount: amount + fee, secretHash: sha(secret), timeLockMin: 0n, timeLockMax: BigInt(T1), minSettleAt: 0n, merges: [] },
                  await payer.signer(), chainId, contract,
                );
                const body = {
                  network: net, payee: payeeX.address, amount: amount.toString(), fee: fee.toString(), hash: sha(secret),
                  encryptedSecret: encryptSecret(l.outcome === 'payeeRefuses' ? strangerKey : payeeKey, secret, amount), voucher: voucherToWire(v),
                };
                const r = await hubN.lock(body);
                expect(r.status, show(r.body)).toBe({ delivered: 200, undelivered: 200, payeeRefuses: 502, payeeDown: 504 }[l.outcome]);
              }
              secrets.set(sha(secret), secret);
              await unlockSettled(hubX, sha(secret));
            } finally {
              linkMode.unreachable = false;
              linkMode.deliver = true;
            }
            const hash = sha(secret);
            const row = hubX.store.locks.get(net, hash, 'hub')!;
            const held = hubX.store.vouchers.get(net, row.inChannel!, row.inLane!, row.inNonce!)!;
            if (l.redeemEarly) await hubX.backend.updateMany(await hubX.signer(), [voucherOfFamily(held, 'evm')], [secret]);
            taken.push({ hash, channelId: row.inChannel!, lane: row.inLane!, nonce: row.inNonce!, T1: row.inTimeLock!, T2: row.inTimeLock! - POLICY.margin, via: l.via });
            t.locks++;
          }
          const targets = [...new Set(ec.jumps.map((j) => taken[j.lock % taken.length][j.edge] + j.delta))].sort((a, b) => a - b);
          for (const target of targets) {
            if (target <= (await latest())) continue;
            await rpc('evm_setNextBlockTimestamp', [target]);
            await rpc('evm_mine');
            const L = await latest();
            expect(L).toBe(target);
            t.jumps++;
            const rowsBefore = taken.map((x) => [hubX.store.locks.get(net, x.hash, 'hub'), payeeX.store.locks.get(net, x.hash, 'payee')] as const);
            await expireLocks(hubX);
            await expireLocks(payeeX);
            await expireLocks(payer2);
            for (const [i, x] of taken.entries()) {
              const what = `lock ${i} (T1 ${x.T1}, T2 ${x.T2}) after a jump to ${L}`;
              const outcomes = [await checkExpiry(hubX.store, x.channelId, x.lane, x.nonce, hubX.address, L, `the payer's voucher at the hub, ${what}`)];
              // The payer's own side (pay --via): it frees its funds only once the hub can no longer redeem them.
              if (x.via) {
                const o = await checkExpiry(payer2.store, x.channelId, x.lane, x.nonce, hubX.address, L, `the payer's voucher at the payer, ${what}`);
                if (o !== 'plain') t.payerSide++;
                outcomes.push(o);
              }
              const hubRow = hubX.store.locks.get(net, x.hash, 'hub')!;
              if (hubRow.outChannel) outcomes.push(await checkExpiry(hubX.store, hubRow.outChannel, hubRow.outLane!, hubRow.outNonce!, payeeX.address, L, `the hub's voucher at the hub, ${what}`));
              const payeeRow = payeeX.store.locks.get(net, x.hash, 'payee');
              if (payeeRow) outcomes.push(await checkExpiry(payeeX.store, payeeRow.inChannel!, payeeRow.inLane!, payeeRow.inNonce!, payeeX.address, L, `the hub's voucher at the payee, ${what}`));
              for (const o of outcomes) if (o !== 'plain') t[o]++;
              // Payment rows: a pending one is expired exactly when its lock passed.
              for (const [before, after] of [[rowsBefore[i][0], hubRow], [rowsBefore[i][1], payeeRow]] as const) {
                if (!before || !after || before.state !== 'pending') continue;
                const lock = before.role === 'payee' ? before.inTimeLock! : (before.outTimeLock ?? before.inTimeLock!);
                expect(after.state, `${before.role} row, lock ${lock}, ${what}`).toBe(lock < L ? 'expired' : 'pending');
                if (after.state === 'expired') t.rowsExpired++;
              }
            }
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: NO_SHRINK },
      );
    } finally {
      current.payee = payee;
      current.hub = hub;
    }
    console.log(`expiry property: ${show(t)}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(t.expired).toBeGreaterThan(0);
    expect(t.live).toBeGreaterThan(0);
  }, 600_000);
});
