/**
 * Differential property test of the payee's acceptance rules against the real contract
 * (issue 9 §2): whatever the paywall (and `voucher add`) accepts must be redeemable by
 * PaymentChannels on a real anvil for at least what was charged.
 *
 * fast-check generates, per case, a fresh channel (deposit around the merchant's minimum)
 * and a sequence of vouchers and top-ups: lanes old, new and huge; nonces 0, the lane's
 * last, last + 1, 2^63 − 1, 2^64 − 1; amounts around `charged + price` and the deposit;
 * merges, time locks and hash locks; other channels, chain ids and contracts; other
 * signers and high-s twins; paid requests and top-ups (price 0). Each voucher goes
 * through the paywall's own path (`checkPaymentHeader` then `acceptVoucher`, in process,
 * on a real SQLite file) and, when accepted, to the contract as an `eth_call` of `update`
 * from the payee. At the end of a case the best voucher of every lane is redeemed for
 * real (`updateMany`), and the contract's redeemed total must equal what the payee counts
 * and be at least what it charged. A refusal must leave the database as it was.
 *
 * Runs: FUZZ_RUNS (default 500 for the paywall, a third of that for `voucher add`);
 * FUZZ_SEED replays a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, HDNodeWallet, JsonRpcProvider, Wallet, ZeroAddress, ethers, type ContractTransactionResponse, type Overrides } from 'ethers';
import { Config } from '../../src/core/config.js';
import { Store } from '../../src/core/store/index.js';
import { ChannelManager } from '../../src/families/evm/manager.js';
import { acceptVoucher, learnChannel, type AcceptPolicy } from '../../src/families/evm/inbound.js';
import { VoucherRefusedError } from '../../src/core/channel/accept.js';
import { addVoucher } from '../../src/families/evm/operations.js';
import { decodeVoucher } from '../../src/core/channel/voucher-wire.js';
import { UsageError } from '../../src/core/errors.js';
import { checkPaymentHeader } from '../../src/core/transports/http402/verify-pool.js';
import { encodePaymentSignature, type ChannelRequirement } from '../../src/core/transports/http402/protocol.js';
import { encodeVoucher, spentAcrossLanes, voucherOfFamily, ZERO_HASH, type UnsignedVoucher, type EvmVoucher as Voucher } from '../../src/core/channel/voucher.js';
import { recoverVoucherSigner, signVoucher, voucherMessage } from '../../src/families/evm/voucher.js';
import { contractAddress } from '../../src/families/evm/deploy.js';
import { redeemOrder } from '../../src/families/evm/merges.js';
import { rowTextSql, startChain, type Chain } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';
import { channelId as channelIdOf, highS } from '../helpers/voucher.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const PRICE = 1000n;
const MIN_DEPOSIT = 100n * PRICE;
const POLICY: AcceptPolicy = { minSettleDelay: 60, minDeposit: MIN_DEPOSIT, asset: ZeroAddress };
const CHAIN_ID = 31337n;
const U64 = (1n << 64n) - 1n;
const I63 = (1n << 63n) - 1n;

let chain: Chain;
/** The chain without ethers' 10 ms request batching: this file's calls are sequential, a case makes ~15. */
let rpc: JsonRpcProvider;
let home: string;
let store: Store;
let m: ChannelManager;
let payer: Wallet;
let payee: HDNodeWallet;
let stranger: Wallet;
let asPayer: Contract;
let asPayee: Contract;
let contract: string;
/** A real channel from the payer to the stranger (not this merchant). */
let foreignChannel: string;
let entry: ChannelRequirement;
let salt = 0;

beforeAll(async () => {
  chain = await startChain();
  contract = contractAddress();
  home = mkdtempSync(join(tmpdir(), 'channels-prop-evm-'));
  payee = HDNodeWallet.fromPhrase(Wallet.createRandom().mnemonic!.phrase, undefined, "m/44'/60'/0'/0/0");
  const config = new Config(home);
  // The payee's key is recorded (public part only): accepting vouchers never unlocks it.
  config.addKey('shop', { address: payee.address, keystore: 'file', createdAt: 0 });
  store = Store.open(home);
  m = new ChannelManager(config, store, config.network('devnet', chain.anvil.rpcUrl));
  rpc = new JsonRpcProvider(chain.anvil.rpcUrl, Number(CHAIN_ID), { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
  payer = new Wallet(Wallet.createRandom().privateKey, rpc);
  stranger = new Wallet(Wallet.createRandom().privateKey, rpc);
  await chain.fund(payer.address, '1000');
  await chain.fund(payee.address, '100');
  const abi = artifact('PaymentChannels').abi;
  asPayer = new Contract(contract, abi, payer);
  asPayee = new Contract(contract, abi, payee.connect(rpc));
  foreignChannel = await open(10n ** 6n, 3600, stranger.address);
  entry = {
    scheme: 'channel', network: 'eip155:31337', amount: PRICE.toString(), asset: ZeroAddress, payTo: payee.address,
    maxTimeoutSeconds: 60, extra: { contract, minDeposit: MIN_DEPOSIT.toString(), minSettleDelay: 60, endpoint: '/.well-known/channels' },
  };
}, 120_000);

afterAll(async () => {
  (m?.backend as { provider?: { destroy(): void } } | undefined)?.provider?.destroy();
  store?.close();
  rpc?.destroy();
  await chain?.stop();
});

/** Next nonce of each sender of this file's transactions (the payer and the payee). */
const nonces = new Map<string, number>();

/**
 * Sends a transaction from `from` and waits until it is mined, with the nonce counted here
 * and the gas limit and fees fixed: anvil mines each transaction as it arrives, so ethers
 * need not ask for them (three JSON-RPC round trips fewer per transaction, 2 to 4 per case).
 * The receipt is polled for directly: anvil may answer eth_sendRawTransaction before the block
 * is mined, and ethers' `wait()` then waits for a block after the one holding the transaction,
 * which a test that sends nothing else never mines. A revert fails; after any failure the
 * nonce is asked for again.
 */
async function send(from: string, tx: (overrides: Overrides) => Promise<ContractTransactionResponse>): Promise<void> {
  const nonce = nonces.get(from) ?? (await rpc.getTransactionCount(from, 'pending'));
  try {
    const { hash } = await tx({ nonce, gasLimit: 5_000_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n });
    nonces.set(from, nonce + 1);
    let receipt = await rpc.getTransactionReceipt(hash);
    while (!receipt) {
      await new Promise((r) => setTimeout(r, 5));
      receipt = await rpc.getTransactionReceipt(hash);
    }
    if (receipt.status !== 1) throw new Error(`transaction ${hash} from ${from} reverted`);
  } catch (err) {
    nonces.delete(from);
    throw err;
  }
}

async function open(deposit: bigint, settleDelay: number, to = payee.address): Promise<string> {
  const s = ethers.toBeHex(++salt, 32);
  await send(payer.address, (o) => asPayer.open(to, ZeroAddress, deposit, settleDelay, s, { ...o, value: deposit }));
  return channelIdOf(CHAIN_ID, contract, payer.address, to, ZeroAddress, s);
}

// ── the generator ────────────────────────────────────────────────────────────

const oneOfWeighted = <T,>(...xs: [number, fc.Arbitrary<T>][]) => fc.oneof(...xs.map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** One step of a case: a voucher described relative to the payee's state when it runs, or a top-up. */
const voucherStep = fc.record({
  kind: fc.constant('voucher' as const),
  lane: oneOfWeighted<string | bigint>([8, fc.constant('0')], [4, fc.constant('used')], [3, fc.constant('new')], [1, fc.constant('1')],
    [1, fc.bigInt({ min: 2n, max: I63 })], [1, fc.constant(U64)]),
  nonce: oneOfWeighted<string | bigint>([16, fc.constant('next')], [2, fc.constant('zero')], [2, fc.constant('same')], [1, fc.constant('skip')],
    [1, fc.constant('below')], [1, fc.constant(I63)], [1, fc.constant(U64)], [1, fc.bigInt({ min: 0n, max: 1000n })]),
  amount: oneOfWeighted<string | bigint>([14, fc.constant('due')], [2, fc.constant('due-1')], [2, fc.constant('due+price')], [1, fc.constant('last')],
    [1, fc.constant('last-1')], [2, fc.constant('deposit')], [1, fc.constant('deposit+1')], [1, fc.constant('zero')],
    [1, fc.bigInt({ min: 0n, max: (1n << 256n) - 1n })], [1, fc.constant(1n << 192n)]),
  price: oneOfWeighted<bigint>([5, fc.constant(PRICE)], [1, fc.constant(0n)]),
  lock: oneOfWeighted<string>([30, fc.constant('none')], [1, fc.constant('secret')], [1, fc.constant('timeMin')], [1, fc.constant('timeMax')],
    [1, fc.constant('minSettleAt')], [3, fc.constant('merge')]),
  signer: oneOfWeighted<string>([30, fc.constant('payer')], [1, fc.constant('stranger')], [1, fc.constant('highS')]),
  domain: oneOfWeighted<string>([30, fc.constant('ours')], [1, fc.constant('otherChain')], [1, fc.constant('otherContract')]),
  channel: oneOfWeighted<string>([30, fc.constant('this')], [1, fc.constant('foreign')], [1, fc.constant('unknown')]),
});
const topUpStep = fc.record({ kind: fc.constant('topup' as const), amount: fc.bigInt({ min: 1n, max: 10n ** 6n }) });
type Step = typeof voucherStep extends fc.Arbitrary<infer T> ? T : never;
const caseArb = fc.record({
  deposit: oneOfWeighted<bigint>([1, fc.constant(1000n)], [1, fc.constant(MIN_DEPOSIT - 1n)], [3, fc.constant(MIN_DEPOSIT)],
    [3, fc.bigInt({ min: MIN_DEPOSIT, max: 5n * MIN_DEPOSIT })], [1, fc.bigInt({ min: MIN_DEPOSIT, max: 10n ** 15n })]),
  settleDelay: oneOfWeighted<number>([1, fc.constant(30)], [6, fc.constant(3600)]),
  steps: fc.array(oneOfWeighted<Step | { kind: 'topup'; amount: bigint }>([9, voucherStep], [1, topUpStep]), { minLength: 1, maxLength: 8 }),
});

/** The voucher a step describes, given what the payee holds on channel `id` now. */
function build(step: Step, id: string, deposit: bigint): Voucher {
  // What the payee holds: a lane a merge superseded no longer counts (issue 11 §3).
  const held = store.vouchers.effectivePerLane(m.network.caip2, id);
  const charged = store.channels.get(m.network.caip2, id)?.charged ?? 0n;
  const used = held.length ? held[held.length - 1].lane : 0n;
  const lane = typeof step.lane === 'bigint' ? step.lane
    : step.lane === 'used' ? used : step.lane === 'new' ? BigInt(held.length + 2) : BigInt(step.lane);
  const last = held.find((x) => x.lane === lane);
  const lastNonce = last?.nonce ?? 0n;
  const nonce = typeof step.nonce === 'bigint' ? step.nonce
    : { next: lastNonce + 1n, zero: 0n, same: lastNonce, skip: lastNonce + 2n, below: lastNonce > 0n ? lastNonce - 1n : 0n }[step.nonce]!;
  // A merge folds in another lane: a held one at its last nonce + 1 (as `voucher merge` signs it), else an unused one.
  const mergedLane = held.find((x) => x.lane !== lane)?.lane ?? (lane === 0n ? 1n : 0n);
  const mergedHeld = held.find((x) => x.lane === mergedLane);
  const merging = step.lock === 'merge';
  const due = charged + step.price - spentAcrossLanes(held, lane) + (merging ? mergedHeld?.amount ?? 0n : 0n);
  const lastAmount = last?.amount ?? 0n;
  const amount = typeof step.amount === 'bigint' ? step.amount : {
    due, 'due-1': due - 1n, 'due+price': due + PRICE, last: lastAmount, 'last-1': lastAmount - 1n,
    deposit, 'deposit+1': deposit + 1n, zero: 0n,
  }[step.amount]!;
  const channelId = step.channel === 'this' ? id : step.channel === 'foreign' ? foreignChannel : ethers.id(`unknown ${id}`);
  const v: UnsignedVoucher = {
    channelId, lane, nonce, amount: amount < 0n ? 0n : amount, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [],
  };
  if (step.lock === 'secret') v.secretHash = ethers.sha256('0x01');
  if (step.lock === 'timeMin') v.timeLockMin = 1n;
  if (step.lock === 'timeMax') v.timeLockMax = 4_000_000_000n;
  if (step.lock === 'minSettleAt') v.minSettleAt = 1n;
  if (merging && mergedLane !== lane) v.merges = [{ lane: mergedLane, nonce: (mergedHeld?.nonce ?? 0n) + 1n }];
  const key = step.signer === 'stranger' ? stranger : payer;
  const chainId = step.domain === 'otherChain' ? 1n : CHAIN_ID;
  const verifying = step.domain === 'otherContract' ? stranger.address : contract;
  const signed = signVoucher(v, key as unknown as HDNodeWallet, chainId, verifying);
  return step.signer === 'highS' ? { ...signed, signature: highS(signed.signature) } : signed;
}

/** `update(v)` from the payee as an eth_call: undefined when the contract would accept it, else its error. */
async function contractRefusal(v: Voucher): Promise<string | undefined> {
  try {
    await asPayee.update.staticCall(voucherMessage(v), v.signature, '0x');
    return undefined;
  } catch (err) {
    return (err as { revert?: { name: string } }).revert?.name ?? (err as Error).message;
  }
}

const rowText = (table: string) => rowTextSql(store.db, table);
let snapshotSql: string | undefined;

/**
 * Every row of the payee's channels and vouchers tables, as text built by SQLite on the
 * store's own connection (the rows grow with every case: a JSON.stringify of them per step,
 * as helpers/cli.ts dbSnapshot does, made 500 cases quadratic in JavaScript).
 */
function dbText(): string {
  snapshotSql ??= `SELECT coalesce((SELECT group_concat(r, char(10)) FROM (SELECT ${rowText('channels')} AS r FROM channels ORDER BY network, id)), '')
    || char(10) || '--' || char(10) || coalesce((SELECT group_concat(r, char(10)) FROM (SELECT ${rowText('vouchers')} AS r FROM vouchers ORDER BY network, channel_id, lane, nonce)), '') AS t`;
  return (store.db.prepare(snapshotSql).get() as { t: string }).t;
}

/** Redeems the best voucher of every lane (lanes a merge superseded left out, merges last) for real and checks the contract agrees with the payee's books. */
async function redeemAll(id: string): Promise<void> {
  const best = redeemOrder(store.vouchers.effectivePerLane(m.network.caip2, id).map((v) => voucherOfFamily(v, 'evm')));
  if (best.length === 0) return;
  await send(payee.address, (o) => asPayee.updateMany(best.map(voucherMessage), best.map((v) => v.signature), best.map(() => '0x'), o));
  const on = await asPayee.getChannel(id);
  const row = store.channels.get(m.network.caip2, id)!;
  expect(on.redeemed).toBe(spentAcrossLanes(best));
  expect(on.redeemed >= row.charged).toBe(true);
  expect(on.redeemed <= on.deposit).toBe(true);
}

interface Tally { accepted: number; refused: number; topUps: number; cases: number; merges: number }

/** Runs one generated case through `accept`, checking each acceptance against the contract. */
async function runCase(
  c: { deposit: bigint; settleDelay: number; steps: (Step | { kind: 'topup'; amount: bigint })[] },
  accept: (v: Voucher, step: Step) => Promise<unknown>,
  isRefusal: (err: unknown) => boolean,
  tally: Tally,
): Promise<void> {
  const id = await open(c.deposit, c.settleDelay);
  let deposit = c.deposit;
  tally.cases++;
  for (const step of c.steps) {
    if (step.kind === 'topup') {
      await send(payer.address, (o) => asPayer.deposit(id, step.amount, { ...o, value: step.amount }));
      deposit += step.amount;
      tally.topUps++;
      continue;
    }
    const v = build(step, id, deposit);
    const before = dbText();
    let accepted = true;
    try {
      await accept(v, step);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      accepted = false;
    }
    if (!accepted) {
      tally.refused++;
      expect(dbText(), 'a refused voucher changed the database').toBe(before);
      continue;
    }
    tally.accepted++;
    if (v.merges.length) tally.merges++;
    const refusal = await contractRefusal(v);
    expect(refusal, `accepted but the contract refuses it: ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}`).toBeUndefined();
  }
  await redeemAll(id);
}

describe('differential: what the payee accepts, the contract redeems', () => {
  it(`the paywall's acceptance path (${RUNS} generated cases)`, async () => {
    const tally: Tally = { accepted: 0, refused: 0, topUps: 0, cases: 0, merges: 0 };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(caseArb, (c) =>
        runCase(c, async (v, step) => {
          const header = encodePaymentSignature(entry, { type: 'voucher', channelId: v.channelId, voucher: v });
          const checked = checkPaymentHeader(header, { network: entry.network, chainId: CHAIN_ID, contract }, (w, d) => recoverVoucherSigner(voucherOfFamily(w, 'evm'), d.chainId, d.contract));
          if (checked.ok && !checked.recovered) throw new Error('the header check did not recover the signer');
          if (!checked.ok) throw new VoucherRefusedError(checked.message, 'bad_header');
          if (checked.payload.type === 'routed') throw new Error('a voucher header decoded as a routed payload');
          return acceptVoucher(m, voucherOfFamily(checked.payload.voucher, 'evm'), step.price, POLICY, checked.recovered);
        }, (err) => err instanceof VoucherRefusedError, tally),
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    console.log(`paywall property: ${tally.cases} cases, ${tally.accepted} vouchers accepted (${tally.merges} merges), ${tally.refused} refused, ${tally.topUps} top-ups, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Not vacuous: the generator reaches both sides of the rules.
    expect(tally.cases).toBe(RUNS);
    expect(tally.accepted).toBeGreaterThan(RUNS / 2);
    expect(tally.refused).toBeGreaterThan(RUNS / 2);
    expect(tally.merges).toBeGreaterThan(0); // merge vouchers are accepted too (issue 11 §3)
  }, 30 * 60_000);

  it(`voucher add (${Math.ceil(RUNS / 3)} generated cases)`, async () => {
    const tally: Tally = { accepted: 0, refused: 0, topUps: 0, cases: 0, merges: 0 };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(caseArb, (c) =>
        runCase(c, async (w) => {
          const v = decodeVoucher(encodeVoucher(w), 'evm'); // the CLI's path: the token, then the network's wire schema
          let channel;
          try {
            channel = { ...m.channel(v.channelId), stored: true };
          } catch {
            channel = await learnChannel(m, v.channelId, { minSettleDelay: 1 });
          }
          return addVoucher(m, channel, v);
        }, (err) => err instanceof UsageError || err instanceof VoucherRefusedError, tally),
      ),
      { numRuns: Math.ceil(RUNS / 3), seed: SEED, endOnFailure: true },
    );
    console.log(`voucher add property: ${tally.cases} cases, ${tally.accepted} accepted (${tally.merges} merges), ${tally.refused} refused, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(tally.accepted).toBeGreaterThan(RUNS / 6);
    expect(tally.refused).toBeGreaterThan(RUNS / 6);
  }, 30 * 60_000);
});
