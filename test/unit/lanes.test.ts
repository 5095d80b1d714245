/**
 * Lanes, merges and reconciliation without a chain (issue 11 §3): the one rule for which
 * lanes count (`effectiveLanes`), the payee's projection of redeeming what it holds
 * (`simulateRedeem`, against `redeemRefusal`), the payer's reconciliation rule, and the
 * reconciliation wire forms refusing hostile input (each a UsageError, exit 2).
 */
import { describe, expect, it } from 'vitest';
import { HDNodeWallet, ethers } from 'ethers';
import { ZERO_HASH, effectiveLanes, mergerOf, spentAcrossLanes, voucherToWire, type EvmVoucher, type UnsignedVoucher } from '../../src/core/channel/voucher.js';
import {
  reconcileRefusal, reconcileRequestFromWire, reconcileRequestToWire, reconcileResponseFromWire, reconcileResponseToWire,
} from '../../src/core/channel/reconcile.js';
import { mergeConflict, redeemOrder, replaceHeld, simulateRedeem } from '../../src/families/evm/merges.js';
import { signVoucher } from '../../src/families/evm/voucher.js';
import { UsageError } from '../../src/core/errors.js';

const PAYER = HDNodeWallet.fromPhrase('test test test test test test test test test test test junk', undefined, "m/44'/60'/0'/0/0");
const CONTRACT = '0x00000000000000000000000000000000000000C1';
const ID = ethers.id('channel-1');
const v = (fields: Partial<UnsignedVoucher>): EvmVoucher => signVoucher({
  channelId: ID, lane: 0n, nonce: 1n, amount: 1000n, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], ...fields,
}, PAYER, 31337n, CONTRACT);
const view = { deposit: 100_000n, redeemed: 0n, settleAt: 0, now: 1000 };

describe('effectiveLanes: a lane merged by a later voucher is not counted twice', () => {
  const l1 = v({ lane: 1n, nonce: 3n, amount: 1000n });
  const l2 = v({ lane: 2n, nonce: 1n, amount: 2000n });
  const merge = v({ lane: 0n, nonce: 1n, amount: 3000n, merges: [{ lane: 1n, nonce: 4n }, { lane: 2n, nonce: 2n }] });

  it('leaves out the lanes a merge supersedes; the sum is the merge voucher\'s amount', () => {
    expect(effectiveLanes([l1, l2], [])).toEqual([l1, l2]);
    expect(effectiveLanes([merge, l1, l2], [merge])).toEqual([merge]);
    expect(spentAcrossLanes(effectiveLanes([merge, l1, l2], [merge]))).toBe(3000n);
  });

  it('a merge at a nonce not above the lane\'s latest does not supersede it; any merge closes the lane to new vouchers', () => {
    const stale = v({ lane: 0n, nonce: 1n, amount: 3000n, merges: [{ lane: 1n, nonce: 3n }] });
    expect(effectiveLanes([stale, l1], [stale])).toEqual([stale, l1]);
    expect(mergerOf(1n, [stale])).toBe(stale);
    expect(mergerOf(0n, [stale])).toBeUndefined();
  });
});

describe('the payee\'s projection (simulateRedeem) follows the contract', () => {
  const l1 = v({ lane: 1n, nonce: 1n, amount: 1000n });
  const l2 = v({ lane: 2n, nonce: 1n, amount: 2000n });

  it('a merge replacing two held lanes is worth their sum; merges go last in the redemption order', () => {
    const merge = v({ lane: 1n, nonce: 2n, amount: 3000n, merges: [{ lane: 2n, nonce: 2n }] });
    const before = simulateRedeem(view, new Map(), [l1, l2]);
    const held = replaceHeld([l1, l2], merge);
    expect(held).toEqual([merge]);
    const after = simulateRedeem(view, new Map(), held);
    expect(before.ok && before.redeemed).toBe(3000n);
    expect(after.ok && after.redeemed).toBe(3000n);
    expect(redeemOrder([merge, l2])).toEqual([l2, merge]);
  });

  it('redeeming a merged lane\'s voucher after its merger is refused (MergeNonceTooLow order), and over the deposit too', () => {
    const merge = v({ lane: 0n, nonce: 1n, amount: 3000n, merges: [{ lane: 2n, nonce: 1n }] });
    // l2 (nonce 1) first raises lane 2 to nonce 1: the merge at nonce 1 no longer applies.
    const r = simulateRedeem(view, new Map(), [l2, merge]);
    expect(r.ok || r.reason).toBe('merge_nonce_too_low');
    const big = simulateRedeem({ ...view, deposit: 2500n }, new Map(), [l1, l2]);
    expect(big.ok || big.reason).toBe('above_deposit');
  });

  it('mergeConflict refuses a voucher on a merged lane, and a merge not above the held voucher of the lane it merges', () => {
    const merge = v({ lane: 0n, nonce: 1n, amount: 3000n, merges: [{ lane: 2n, nonce: 2n }] });
    expect(mergeConflict(v({ lane: 2n, nonce: 9n }), [merge], [merge])).toMatch(/lane 2 is merged into lane 0/);
    expect(mergeConflict(v({ lane: 0n, nonce: 2n, merges: [{ lane: 2n, nonce: 1n }] }), [l2], [])).toMatch(/not above the stored voucher's nonce 1/);
    expect(mergeConflict(v({ lane: 0n, nonce: 2n, amount: 4000n, merges: [{ lane: 2n, nonce: 2n }] }), [merge], [merge])).toBeUndefined(); // carried forward
  });
});

describe('reconciliation: the payer\'s rule and the wire forms', () => {
  it('grants reqVal ≤ sum with a discount of at least minDiscount', () => {
    expect(reconcileRefusal(3000n, 2000n, 1000n)).toBeUndefined();
    expect(reconcileRefusal(3000n, 2500n, 1000n)).toMatch(/discount 500 is below this payer's minimum 1000/);
    expect(reconcileRefusal(3000n, 3001n, 0n)).toMatch(/above the vouchers' sum 3000/);
  });

  const l0 = v({ lane: 0n, nonce: 1n, amount: 1000n });
  const l1 = v({ lane: 1n, nonce: 1n, amount: 2000n });
  const wire = reconcileRequestToWire({ channelId: ID, vouchers: [l0, l1], reqVal: 2500n });

  it('round-trips a request and a response', () => {
    expect(wire).toEqual({ channelId: ID, vouchers: [voucherToWire(l0), voucherToWire(l1)], reqVal: '2500' });
    expect(reconcileRequestFromWire('evm', JSON.parse(JSON.stringify(wire)))).toEqual({ channelId: ID, vouchers: [l0, l1], reqVal: 2500n });
    const ok = reconcileResponseToWire({ combined: l0, status: 'Success', message: 'granted' });
    expect(reconcileResponseFromWire('evm', JSON.parse(JSON.stringify(ok)))).toEqual({ combined: l0, status: 'Success', message: 'granted' });
    expect(reconcileResponseFromWire('evm', { status: 'Failure', message: 'no' })).toEqual({ status: 'Failure', message: 'no' });
  });

  const HOSTILE: { name: string; input: unknown; message: RegExp }[] = [
    { name: 'not an object', input: 'hello', message: /Malformed reconciliation request/ },
    { name: 'an extra field', input: { ...wire, extra: 1 }, message: /Unrecognized key/ },
    { name: 'one voucher', input: { ...wire, vouchers: wire.vouchers.slice(0, 1) }, message: /at least two lanes/ },
    { name: '17 vouchers', input: { ...wire, vouchers: Array(17).fill(wire.vouchers[0]) }, message: /vouchers/ },
    { name: 'a negative reqVal', input: { ...wire, reqVal: '-1' }, message: /reqVal/ },
    { name: 'a reqVal of 79 digits', input: { ...wire, reqVal: '1'.repeat(79) }, message: /reqVal/ },
    { name: 'a malformed voucher', input: { ...wire, vouchers: [wire.vouchers[0], { ...wire.vouchers[1], signature: '0x12' }] }, message: /vouchers\.1: .*signature/ },
    { name: 'a voucher of another channel', input: { ...wire, vouchers: [wire.vouchers[0], { ...wire.vouchers[1], channelId: ethers.id('other') }] }, message: /is for channel/ },
    { name: 'two vouchers on one lane', input: { ...wire, vouchers: [wire.vouchers[0], wire.vouchers[0]] }, message: /same lane/ },
  ];
  it.each(HOSTILE)('refuses a request with $name (UsageError)', ({ input, message }) => {
    expect(() => reconcileRequestFromWire('evm', input)).toThrowError(UsageError);
    expect(() => reconcileRequestFromWire('evm', input)).toThrowError(message);
  });

  it('refuses a Success without the combined voucher, and an unknown status', () => {
    expect(() => reconcileResponseFromWire('evm', { status: 'Success', message: 'x' })).toThrowError(/a Success carries the combined voucher/);
    expect(() => reconcileResponseFromWire('evm', { status: 'Maybe', message: 'x' })).toThrowError(UsageError);
  });
});
