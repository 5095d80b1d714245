/**
 * Issue 11 §4, the redemption service from the library (families/evm/redeemer.ts) on a real
 * anvil with real stores: channels with several lanes (their extra lanes in one updateMany
 * before the closeMany), `redeem.batchSize`, a deferral's words, and a batch the contract
 * refuses because one channel was closed meanwhile — redone channel by channel, so the bad
 * channel does not block the others.
 */
import { Interface } from 'ethers';
import { createHash, randomBytes } from 'node:crypto';
import { signVoucher } from '../../src/families/evm/voucher.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redeemPolicy } from '../../src/core/config-fields.js';
import { type ChannelRecord } from '../../src/core/store/index.js';
import { voucherOfFamily } from '../../src/core/channel/voucher.js';
import type { SettlerEvent } from '../../src/core/channel/settler.js';
import { ChannelManager } from '../../src/families/evm/manager.js';
import { addVoucher } from '../../src/families/evm/operations.js';
import { acceptVoucher, learnChannel } from '../../src/families/evm/inbound.js';
import { assessChannel, redeemBatch, redeemRound, type RedeemCandidate } from '../../src/families/evm/redeemer.js';
import { artifact } from '../helpers/deploy.js';
import { startChain, type Chain } from '../helpers/cli.js';
import { managersOn } from '../helpers/managers.js';

const DEPOSIT = 10n ** 17n;
const PRICE = 10n ** 16n;
const iface = new Interface(artifact('PaymentChannels').abi);

let chain: Chain;
let payer: ChannelManager;
let payee: ChannelManager;

let pool: ReturnType<typeof managersOn>;
const manager = (name: string) => pool.manager(name, '10');

beforeAll(async () => {
  chain = await startChain();
  pool = managersOn(chain, 'redeem');
  payer = await manager('payer');
  payee = await manager('shop');
}, 60_000);

afterAll(async () => {
  pool?.close();
  await chain?.stop();
});

/** A channel from payer to payee whose lanes hold vouchers worth `lanes[i]` each, every one stored by the payee. */
async function paidChannel(lanes: bigint[]): Promise<ChannelRecord> {
  const c = await payer.open({ payee: payee.address, deposit: DEPOSIT, settleDelay: 3600 });
  for (const [lane, amount] of lanes.entries()) {
    const v = await payer.createVoucher(c, (prev) => prev + amount, BigInt(lane));
    const learned = await learnChannel(payee, c.id, { minSettleDelay: 60 });
    await addVoucher(payee, learned, voucherOfFamily(v, 'evm'));
  }
  return payee.store.channels.get(payee.network.caip2, c.id)!;
}

const row = (id: string) => payee.store.channels.get(payee.network.caip2, id)!;
const submitted = (id: string): [bigint, string | undefined][] => payee.store.vouchers.list(payee.network.caip2, id).map((v) => [v.lane, v.submittedTx]);
const txOf = (e: SettlerEvent) => /in (0x[0-9a-f]{64})/.exec(e.detail)?.[1];

describe('redeemRound and redeemBatch', { timeout: 120_000 }, () => {
  it('redeems several lanes (updateMany, then closeMany) in batches of redeem.batchSize', async () => {
    const a = await paidChannel([PRICE, 2n * PRICE]);
    const b = await paidChannel([PRICE]);
    const c = await paidChannel([3n * PRICE]);
    const events = await redeemRound(payee, redeemPolicy({ batchSize: 2 }));
    expect(events.map((e) => e.kind)).toEqual(['redeemed', 'redeemed', 'redeemed']);
    expect(events.map((e) => e.channelId).sort()).toEqual([a.id, b.id, c.id].sort());
    // Two batches (in the store's order of channels): a closeMany of two channels, then one of one.
    const txs = events.map(txOf);
    expect(txs[0]).toBe(txs[1]);
    expect(txs[2]).not.toBe(txs[0]);
    for (const [hash, n] of [[txs[0], 2], [txs[2], 1]] as const) {
      const tx = (await chain.provider.getTransaction(hash!))!;
      expect(iface.parseTransaction(tx)!.name).toBe('closeMany');
      expect(iface.parseTransaction(tx)!.args[0]).toHaveLength(n);
    }
    const ta = txs[events.findIndex((e) => e.channelId === a.id)];
    const tc = txs[events.findIndex((e) => e.channelId === c.id)];
    // a's lane 0 went first, in an updateMany of its own.
    const [[, lane0Tx], [, lane1Tx]] = submitted(a.id);
    expect(lane1Tx).toBe(ta);
    expect(iface.parseTransaction((await chain.provider.getTransaction(lane0Tx!))!)!.name).toBe('updateMany');
    expect([row(a.id).state, row(a.id).redeemed, row(a.id).closeTx]).toEqual(['closed', 3n * PRICE, ta]);
    expect([row(b.id).state, row(b.id).redeemed]).toEqual(['closed', PRICE]);
    expect([row(c.id).state, row(c.id).redeemed, row(c.id).closeTx]).toEqual(['closed', 3n * PRICE, tc]);
    expect(await payee.backend.getChannel(a.id)).toBeUndefined();
    // Nothing is left: the next round does nothing.
    expect(await redeemRound(payee, redeemPolicy({}))).toEqual([]);
  });

  it('defers a channel below redeem.minProfit and says why', async () => {
    const d = await paidChannel([PRICE]);
    const events = await redeemRound(payee, redeemPolicy({ minProfit: (PRICE * 2n).toString() }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ channelId: d.id, kind: 'deferred' });
    expect(events[0].detail).toMatch(new RegExp(`holds ${PRICE} unredeemed; gas ≈ \\d+ × \\d+ = \\d+, so the profit \\d+ is below redeem.minProfit ${PRICE * 2n}: left until it is worth more`));
    expect(row(d.id).state).toBe('open');
    expect((await payee.backend.getChannel(d.id))!.redeemed).toBe(0n);
    // Worth it at minProfit 0: redeemed.
    const now = await redeemRound(payee, redeemPolicy({}));
    expect(now.map((e) => [e.channelId, e.kind])).toEqual([[d.id, 'redeemed']]);
  });

  it('a batch refused because one channel closed meanwhile is redone channel by channel', async () => {
    const a = await paidChannel([PRICE, 2n * PRICE]);
    const b = await paidChannel([PRICE]);
    const bad = await paidChannel([PRICE]);
    const now = await payee.backend.now();
    const seen: SettlerEvent[] = [];
    const batch: RedeemCandidate[] = [];
    for (const ch of [a, b, bad]) batch.push((await assessChannel(payee, ch, now, seen))!);
    expect(seen).toEqual([]);
    // Another process closes `bad` on chain after this round assessed it.
    const [bv] = payee.store.vouchers.latestPerLane(bad.network, bad.id);
    await payee.backend.close(await payee.signer(), voucherOfFamily(bv, 'evm'));

    const events = await redeemBatch(payee, batch);
    expect(events.map((e) => [e.channelId, e.kind])).toEqual([[a.id, 'redeemed'], [b.id, 'redeemed'], [bad.id, 'error']]);
    expect(events[0].detail).toMatch(/^redeemed alone \(the batch was refused: The contract refused: ChannelNotFound\.\): paid 30000000000000000 and closed in 0x/);
    expect(events[2].detail).toMatch(/Every voucher of channel .* is redeemed already/);
    expect([row(a.id).state, row(a.id).redeemed]).toEqual(['closed', 3n * PRICE]);
    expect([row(b.id).state, row(b.id).redeemed]).toEqual(['closed', PRICE]);
    // Every voucher of a is marked with the transaction that redeemed it (lane 0 in the batch's updateMany).
    expect(submitted(a.id).every(([, tx]) => typeof tx === 'string')).toBe(true);
    // The next round finds `bad` gone from the chain and marks it closed.
    expect(row(bad.id).state).toBe('open');
    const next = await redeemRound(payee, redeemPolicy({}));
    expect(next).toEqual([{ channelId: bad.id, kind: 'closed', detail: 'no longer on chain' }]);
    expect(row(bad.id).state).toBe('closed');
  });

  it('a channel being closed takes no voucher; one that took a voucher after its assessment waits for the next round', async () => {
    const c = await paidChannel([PRICE]);
    const now = await payee.backend.now();
    const cand = (await assessChannel(payee, c, now, []))!;
    // The paywall takes one more voucher after the assessment: the close must not go ahead with the older one.
    const v2 = await payer.createVoucher(payer.store.channels.get(payer.network.caip2, c.id)!, (prev) => prev + PRICE, 0n);
    await acceptVoucher(payee, voucherOfFamily(v2, 'evm'), PRICE, { minSettleDelay: 60 });
    const deferred = await redeemBatch(payee, [cand]);
    expect(deferred).toEqual([{ channelId: c.id, kind: 'deferred', detail: expect.stringContaining('took a voucher while it was assessed') }]);
    expect(row(c.id).state).toBe('open');
    expect(payee.closing.has(c.id)).toBe(false);

    // While a close is in flight the paywall refuses, and nothing is stored.
    payee.closing.add(c.id);
    const v3 = await payer.createVoucher(payer.store.channels.get(payer.network.caip2, c.id)!, (prev) => prev + PRICE, 0n);
    await expect(acceptVoucher(payee, voucherOfFamily(v3, 'evm'), PRICE, { minSettleDelay: 60 })).rejects.toThrow(/being closed by the merchant/);
    expect(payee.store.vouchers.latest(c.network, c.id, 0n)!.nonce).toBe(v2.nonce);
    payee.closing.delete(c.id);

    // The next round closes with the voucher taken after the first assessment: the payee gets both prices.
    const events = await redeemRound(payee, redeemPolicy({}));
    expect(events.map((e) => [e.channelId, e.kind])).toEqual([[c.id, 'redeemed']]);
    expect([row(c.id).state, row(c.id).redeemed]).toEqual(['closed', 2n * PRICE]);
  });

  it('a hash-locked voucher stored with its secret is redeemed with it before its timeLockMax, even below redeem.minProfit', async () => {
    const c = await payer.open({ payee: payee.address, deposit: DEPOSIT, settleDelay: 3600 });
    const secret = '0x' + randomBytes(32).toString('hex');
    const secretHash = '0x' + createHash('sha256').update(Buffer.from(secret.slice(2), 'hex')).digest('hex');
    const now = await payee.backend.now();
    const locked = signVoucher(
      { channelId: c.id, lane: 5n, nonce: 1n, amount: PRICE, secretHash, timeLockMin: 0n, timeLockMax: BigInt(now + 1800), minSettleAt: 0n, merges: [] },
      await payer.signer(), payee.backend.chainId, payee.backend.contract,
    );
    const learned = await learnChannel(payee, c.id, { minSettleDelay: 60 });
    expect(await addVoucher(payee, learned, locked, 0n, secret)).toBe(PRICE);
    expect(payee.store.vouchers.latest(c.network, c.id, 5n)!.secret).toBe(secret);

    // Far below the least profit, and its lock (1800 s) beyond redeem.lockMargin: left for now (issue 12: a lock far
    // off is no reason to redeem; a payment through a hub is simplified long before). redeem.margin is settleAt's only.
    const early = await redeemRound(payee, redeemPolicy({ minProfit: (PRICE * 100n).toString(), margin: 3600, lockMargin: 60 }));
    expect(early.map((e) => [e.channelId, e.kind])).toEqual([[c.id, 'deferred']]);
    expect(early[0].detail).toContain('redeem.lockMargin 60 s');
    // Within redeem.lockMargin of its lock: redeemed now, with the secret, by an update that leaves the channel open
    // (its payer is still paying on it).
    const events = await redeemRound(payee, redeemPolicy({ minProfit: (PRICE * 100n).toString(), lockMargin: 1800 }));
    expect(events.map((e) => [e.channelId, e.kind])).toEqual([[c.id, 'redeemed']]);
    expect([row(c.id).state, row(c.id).redeemed]).toEqual(['open', PRICE]);
    expect(submitted(c.id)).toEqual([[5n, txOf(events[0])]]);
    expect((await payee.backend.getChannel(c.id))!.redeemed).toBe(PRICE);
  });
});
