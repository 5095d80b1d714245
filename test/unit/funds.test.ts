/**
 * The funds bookkeeping of core/channel/funds.ts (issue 11 §2, Lotus FundManager): its pure
 * arithmetic, table-driven, and its store transactions on a real SQLite file — reserve queues
 * what the channel lacks, one claim at a time turns the queue into the pending deposit (signed
 * inside the write lock), a mined deposit confirms it, a dropped one goes back to the queue,
 * releases never go below zero, lanes are never handed out twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type ChannelRecord } from '../../src/core/store/index.js';
import {
  allocateLane, availableFunds, claimQueued, fundsNeed, lookupChannel, releaseFunds, reserveFunds, settleDeposit, voucherFunds, type Funds,
} from '../../src/core/channel/funds.js';
import { ChannelStateError, InsufficientFundsError, NotFoundError, UsageError } from '../../src/core/errors.js';
import { ZERO_HASH } from '../../src/core/channel/voucher.js';

const NET = 'eip155:31337';
const F = (o: Partial<Funds>): Funds => ({ confirmed: 0n, pending: 0n, queued: 0n, reserved: 0n, spent: 0n, closeReserve: 0n, ...o });

describe('pure arithmetic', () => {
  it.each([
    // confirmed, pending, queued, reserved, spent, closeReserve → need, available
    [F({ confirmed: 1000n }), -1000n, 1000n],
    [F({ confirmed: 1000n, reserved: 1500n, spent: 200n }), 700n, 0n],
    [F({ confirmed: 1000n, pending: 500n, reserved: 300n, spent: 200n }), -1000n, 500n],
    [F({ confirmed: 1000n, pending: 500n, queued: 700n, reserved: 2400n }), 200n, 0n],
    [F({ confirmed: 1000n, spent: 100n, closeReserve: 344n }), -556n, 556n],
  ])('%o: need %s, available %s', (f, need, available) => {
    expect(fundsNeed(f)).toBe(need);
    expect(availableFunds(f)).toBe(available);
  });

  it.each([
    // deposit, reserved, closeReserve, spentBefore, totalAfter, useReserved → reservedAfter, shortfall
    [1000n, 400n, 0n, 600n, 800n, true, 200n, 0n],
    [1000n, 400n, 0n, 600n, 800n, false, 400n, 200n], // without the reservation, only 1000 − 600 − 400 = 0 is free
    [1000n, 400n, 0n, 0n, 600n, false, 400n, 0n],
    [1000n, 400n, 0n, 0n, 601n, false, 400n, 1n],
    [1000n, 400n, 0n, 600n, 1100n, true, 0n, 100n], // takes at most what is reserved
    [1000n, 0n, 344n, 0n, 657n, false, 0n, 1n], // the family's close reserve is never spendable
    [1000n, 300n, 0n, 800n, 800n, true, 300n, 100n], // adds nothing: keeps the reservation (it was over already)
  ])('deposit %s reserved %s closeReserve %s: %s → %s (reserved: %s) leaves %s, short %s', (deposit, reserved, closeReserve, before, after, use, left, short) => {
    expect(voucherFunds({ deposit, reserved, closeReserve }, before, after, use)).toStrictEqual({ reservedAfter: left, shortfall: short });
  });
});

describe('store transactions', () => {
  let home: string;
  let store: Store;
  let n = 0;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'channels-funds-'));
    store = Store.open(home);
  });
  afterEach(() => {
    store.close();
    rmSync(home, { recursive: true, force: true });
  });

  function channel(o: { deposit?: bigint; direction?: 'outbound' | 'inbound'; payee?: string; state?: 'open' | 'settling' } = {}): ChannelRecord {
    const id = '0x' + (++n).toString(16).padStart(64, '0');
    return store.channels.insert({
      network: NET, id, family: 'evm', direction: o.direction ?? 'outbound', payer: '0xpayer', payee: o.payee ?? '0xpayee', asset: '0x0',
      deposit: o.deposit ?? 1000n, redeemed: 0n, charged: 0n, state: o.state ?? 'open', keyName: 'k', data: { contract: '0xc', settleDelay: 60 },
    });
  }
  const voucher = (c: ChannelRecord, lane: bigint, amount: bigint) =>
    store.vouchers.insert(NET, {
      family: 'evm', channelId: c.id, lane, nonce: 1n, amount, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], signature: '0x',
    });
  const row = (c: ChannelRecord) => store.channels.get(c.network, c.id)!;
  const topUp = { topUp: true, closeReserve: 0n };
  let signed = 0;
  const sign = (amount: bigint) => ({ hash: `0xhash${++signed}`, raw: `0xraw-${amount}` });

  it('reserve within the deposit queues nothing; beyond it queues exactly what is lacking', () => {
    const c = channel({ deposit: 1000n });
    voucher(c, 0n, 200n);
    expect(reserveFunds(store, c, 500n, topUp).queuedNow).toBe(0n);
    expect(reserveFunds(store, c, 800n, topUp).queuedNow).toBe(500n); // 200 + 1300 − 1000
    expect(row(c)).toMatchObject({ reserved: 1300n, queued: 500n, pendingDeposit: 0n });
    expect(reserveFunds(store, c, 100n, topUp).queuedNow).toBe(100n);
    expect(row(c).queued).toBe(600n);
  });

  it('one claim at a time: the queue becomes the pending deposit, signed inside the lock; later top-ups queue behind it', () => {
    const c = channel({ deposit: 1000n });
    reserveFunds(store, c, 1500n, topUp);
    const claim = claimQueued(store, c, 0n, sign)!;
    expect(claim).toMatchObject({ amount: 500n, raw: '0xraw-500' });
    expect(row(c)).toMatchObject({ pendingDeposit: 500n, queued: 0n, pendingTx: claim.hash, pendingRaw: '0xraw-500' });
    expect(reserveFunds(store, c, 300n, topUp).queuedNow).toBe(300n);
    expect(claimQueued(store, c, 0n, sign)).toBeUndefined(); // a deposit is pending
    expect(row(c).queued).toBe(300n);
    // Mined: confirmed is the chain's deposit, and the queue may go.
    expect(settleDeposit(store, c, { outcome: 'mined', hash: claim.hash, amount: 500n, deposit: 1500n })).toBe(true);
    expect(settleDeposit(store, c, { outcome: 'mined', hash: claim.hash, amount: 500n, deposit: 1500n })).toBe(false); // recorded once
    expect(row(c)).toMatchObject({ deposit: 1500n, pendingDeposit: 0n, pendingTx: undefined, pendingRaw: undefined, queued: 300n });
    const next = claimQueued(store, c, 0n, sign)!;
    expect(next.amount).toBe(300n);
    // Dropped: back to the queue, to be claimed again (a new transaction).
    settleDeposit(store, c, { outcome: 'dropped', hash: next.hash, amount: 300n });
    expect(row(c)).toMatchObject({ pendingDeposit: 0n, queued: 300n, pendingTx: undefined });
    expect(claimQueued(store, c, 0n, sign)!.amount).toBe(300n);
  });

  it('a claim sends only what is still lacking (a release since) and drops a queue that is no longer needed', () => {
    const c = channel({ deposit: 1000n });
    reserveFunds(store, c, 1500n, topUp);
    releaseFunds(store, c, 200n);
    expect(claimQueued(store, c, 0n, sign)!.amount).toBe(300n);
    const d = channel({ deposit: 1000n });
    reserveFunds(store, d, 1500n, topUp);
    releaseFunds(store, d, 1500n);
    expect(claimQueued(store, d, 0n, sign)).toBeUndefined();
    expect(row(d).queued).toBe(0n);
  });

  it('refusals write nothing', () => {
    const c = channel({ deposit: 1000n });
    expect(() => reserveFunds(store, c, 1001n, { topUp: false, closeReserve: 0n, noTopUp: 'fixed' })).toThrowError(InsufficientFundsError);
    expect(() => reserveFunds(store, c, 1001n, { topUp: false, closeReserve: 0n })).toThrowError(expect.objectContaining({ shortfall: 1n, message: expect.stringMatching(/lacks 1 /) }));
    expect(() => reserveFunds(store, c, 0n, topUp)).toThrowError(UsageError);
    expect(() => releaseFunds(store, c, 1n)).toThrowError(/has 0 reserved; cannot release 1/);
    expect(() => reserveFunds(store, channel({ direction: 'inbound' }), 1n, topUp)).toThrowError(ChannelStateError);
    expect(() => reserveFunds(store, channel({ state: 'settling' }), 1n, topUp)).toThrowError(/settling; funds can be reserved only while it is open/);
    expect(row(c)).toMatchObject({ reserved: 0n, queued: 0n });
  });

  it('lookup: most available first, reservations are not free, NotFoundError when none fits', () => {
    const a = channel({ deposit: 1000n, payee: '0xabc' });
    const b = channel({ deposit: 3000n, payee: '0xabc' });
    channel({ deposit: 9000n, payee: '0xother' });
    const ids = () => lookupChannel(store, NET, '0xabc', 1n, () => 0n).map((p) => [p.channel.id, p.available]);
    expect(ids()).toEqual([[b.id, 3000n], [a.id, 1000n]]);
    reserveFunds(store, b, 2500n, topUp);
    expect(ids()).toEqual([[a.id, 1000n], [b.id, 500n]]);
    expect(() => lookupChannel(store, NET, '0xabc', 1001n, () => 0n)).toThrowError(NotFoundError);
  });

  it('allocateLane starts at 1, never repeats, and skips lanes vouchers use', () => {
    const c = channel();
    expect(allocateLane(store, c)).toBe(1n);
    expect(allocateLane(store, c)).toBe(2n);
    voucher(c, 9n, 10n);
    expect(allocateLane(store, c)).toBe(10n);
    expect(row(c).nextLane).toBe(11n);
    expect(() => allocateLane(store, channel({ direction: 'inbound' }))).toThrowError(ChannelStateError);
  });
});
