/**
 * Concurrent `channels pay` processes on one channel (DESIGN §7: nonce allocation is
 * one BEGIN IMMEDIATE transaction). Ten real processes race on one payer database, in
 * rounds: each round starts ten `pay` processes at the same instant and waits for all of
 * them, so every round is a fresh ten-way race for the next nonces (free-running loops drift
 * apart after the first payments and race less). Five rounds make 50 payments; afterwards the
 * database must hold exactly one voucher per nonce 1..50 with cumulative amounts 1000·nonce,
 * and a deposit that covers only 35 of 50 concurrent payments must stop exactly at 35 (exit 5
 * with the shortfall for the rest) without storing anything above the deposit.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Wallet } from 'ethers';
import { makeWallet, startChain, type Chain, type RunResult, type TestWallet } from '../helpers/cli.js';

const STEP = 1000n;
const PROCESSES = 10;
const ROUNDS = 5;
const TOTAL = PROCESSES * ROUNDS;

let chain: Chain;
let payer: TestWallet;
const payee = Wallet.createRandom().address;

beforeAll(async () => {
  chain = await startChain();
  payer = await makeWallet('payer', chain.anvil.rpcUrl);
  await chain.fund(payer.address, '5');
});

afterAll(async () => {
  await chain?.stop();
});

/** The payer's vouchers for `channelId`, read straight from its SQLite file. */
function vouchers(channelId: string): { lane: number; nonce: number; amount: string }[] {
  const db = new Database(join(payer.home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT lane, nonce, amount FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce').all(channelId) as any[];
  } finally {
    db.close();
  }
}

async function open(deposit: string): Promise<string> {
  const r = await payer.run(['open', payee, deposit, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.json.state).toBe('open');
  expect(r.json.endpoint ?? null).toBeNull(); // no --url: pay prints the voucher
  return r.json.channelId;
}

/**
 * `rounds` rounds of PROCESSES `pay … --no-deliver --json` processes started at once; a round
 * starts when every process of the previous one has exited.
 */
async function payConcurrently(channelId: string, rounds = ROUNDS): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (let round = 0; round < rounds; round++) {
    results.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => payer.run(['pay', channelId, STEP.toString(), '--no-deliver', '--json'])))));
  }
  return results;
}

describe('concurrent channels pay on one channel', () => {
  it(`${ROUNDS} rounds of ${PROCESSES} processes racing: nonces 1..${TOTAL}, amounts 1000·nonce, every pay exits 0`, async () => {
    const deposit = 10n ** 18n;
    const channelId = await open('1eth');
    const results = await payConcurrently(channelId);

    const failed = results.filter((r) => r.code !== 0);
    expect(failed.map((r) => r.stdout + r.stderr)).toEqual([]);
    // Each process printed the voucher it committed; together they are nonces 1..TOTAL once each.
    const printed = results.map((r) => Number(r.json.nonce)).sort((a, b) => a - b);
    expect(printed).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    for (const r of results) {
      expect(r.json.delivered).toBe(false);
      expect(r.json.amount).toBe((STEP * BigInt(r.json.nonce)).toString());
      expect(typeof r.json.encoded).toBe('string');
    }

    const rows = vouchers(channelId);
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((v) => `${v.lane}/${v.nonce}`)).size).toBe(TOTAL);
    rows.forEach((v, i) => {
      expect(v.lane).toBe(0);
      expect(v.nonce).toBe(i + 1); // no gap, no repeat
      expect(BigInt(v.amount)).toBe(STEP * BigInt(v.nonce));
      expect(BigInt(v.amount)).toBeLessThanOrEqual(deposit);
    });

    const status = await payer.run(['status', channelId, '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.json.vouchers).toBe(TOTAL);
  }, 400_000);

  // 5 rounds of 10 processes against a deposit that covers 35: the fourth round's ten race for the last five.
  const ATTEMPTS = PROCESSES * 5;
  it(`a deposit covering 35 of ${ATTEMPTS} concurrent payments: exactly 35 succeed, ${ATTEMPTS - 35} exit 5 with a shortfall, nothing above the deposit is stored`, async () => {
    const covered = 35n;
    const deposit = covered * STEP;
    const channelId = await open(deposit.toString());
    const results = await payConcurrently(channelId, 5);

    const ok = results.filter((r) => r.code === 0);
    const refused = results.filter((r) => r.code !== 0);
    expect(ok).toHaveLength(Number(covered));
    expect(refused).toHaveLength(ATTEMPTS - Number(covered));
    for (const r of refused) {
      expect(r.code, r.stdout + r.stderr).toBe(5);
      expect(r.json.error.code).toBe('INSUFFICIENT_FUNDS');
      // the deposit is fully spent at 35 000; one more step of 1000 is missing
      expect(r.json.error.data.shortfall).toBe(STEP.toString());
    }
    expect(ok.map((r) => Number(r.json.nonce)).sort((a, b) => a - b)).toEqual(Array.from({ length: Number(covered) }, (_, i) => i + 1));

    const rows = vouchers(channelId);
    expect(rows).toHaveLength(Number(covered));
    expect(new Set(rows.map((v) => `${v.lane}/${v.nonce}`)).size).toBe(Number(covered));
    rows.forEach((v, i) => {
      expect(v.nonce).toBe(i + 1);
      expect(BigInt(v.amount)).toBe(STEP * BigInt(v.nonce));
      expect(BigInt(v.amount)).toBeLessThanOrEqual(deposit);
    });
    expect(BigInt(rows.at(-1)!.amount)).toBe(deposit);
  }, 400_000);
});
