/**
 * Issue 12: the family-independent rules of payments through a hub (core/channel/lock.ts) — the
 * fee policy (base + ppm, rounded up), the hub's terms check, and the strict wire schemas.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ForwardRequestWireSchema, LockRequestWireSchema, UnlockRequestWireSchema, feeFor, hubInfoFromWire, hubInfoToWire, lockRefusal, parseLockWire,
} from '../../src/core/channel/lock.js';
import { InvalidVoucherError } from '../../src/core/errors.js';

const hash = '0x' + 'ab'.repeat(32);
const runs = Number(process.env.FUZZ_RUNS ?? 200);

describe('the fee policy', () => {
  it('is base + ceil(amount × ppm / 10^6): never below the exact fee, less than one base unit above it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 1_000_000n }), fc.bigInt({ min: 0n, max: 10n ** 24n }), (amount, ppm, base) => {
        const fee = feeFor({ base, ppm }, amount);
        // fee − base is the least integer ≥ amount × ppm / 10^6
        expect((fee - base) * 1_000_000n >= amount * ppm).toBe(true);
        expect((fee - base - 1n) * 1_000_000n < amount * ppm).toBe(true);
      }),
      { numRuns: runs },
    );
    expect(feeFor({ base: 10n, ppm: 1000n }, 5000n)).toBe(15n);
    expect(feeFor({ base: 0n, ppm: 1n }, 1n)).toBe(1n); // rounded up: a hub never forwards for less than its policy
  });
});

describe("the hub's terms (the seed's lock_spend)", () => {
  const policy = { base: 10n, ppm: 1000n, minLock: 600 };
  const now = 1_800_000_000;
  const ok = { amount: 5000n, fee: 15n, timeLock: BigInt(now + 600), voucherHash: hash, hash };

  it('takes a payment with the least fee and the least lock', () => {
    expect(lockRefusal(ok, policy, now)).toBeUndefined();
  });

  it.each([
    ['amount_zero', { amount: 0n, fee: 10n }],
    ['fee_too_low', { fee: 14n }],
    ['hash_mismatch', { voucherHash: '0x' + 'cd'.repeat(32) }],
    ['lock_too_short', { timeLock: BigInt(now + 599) }],
    ['lock_too_short', { timeLock: BigInt(now + 1) }],
    ['lock_expired', { timeLock: BigInt(now) }],
    ['lock_expired', { timeLock: BigInt(now - 1) }],
  ])('refuses %s', (reason, change) => {
    expect(lockRefusal({ ...ok, ...change }, policy, now)?.reason).toBe(reason);
  });

  it('refuses exactly the fees below the policy, over generated amounts and fees', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.bigInt({ min: 0n, max: 10n ** 18n }), (amount, fee) => {
        const r = lockRefusal({ ...ok, amount, fee }, policy, now);
        expect(r?.reason === 'fee_too_low').toBe(fee < feeFor(policy, amount));
      }),
      { numRuns: runs },
    );
  });
});

describe('wire forms (hostile input)', () => {
  const lock = { network: 'eip155:31337', payee: '0x' + '11'.repeat(20), amount: '5000', fee: '15', hash, encryptedSecret: '0x' + 'ee'.repeat(129), voucher: {} };

  it('parses a lock request and lower-cases its hash', () => {
    expect(parseLockWire(LockRequestWireSchema, { ...lock, hash: hash.toUpperCase().replace('0X', '0x') }, 'lock request').hash).toBe(hash);
  });

  it.each([
    ['an unknown field', { extra: 1 }],
    ['a negative amount', { amount: '-1' }],
    ['an amount in floating point', { amount: '1e3' }],
    ['an amount of 79 digits', { amount: '9'.repeat(79) }],
    ['a short hash', { hash: '0x1234' }],
    ['a ciphertext over 1 KiB', { encryptedSecret: '0x' + 'ee'.repeat(1025) }],
    ['a ciphertext of odd length', { encryptedSecret: '0xeee' }],
    ['a payee that is no address', { payee: 'alice' }],
  ])('refuses %s with an InvalidVoucherError', (_, change) => {
    expect(() => parseLockWire(LockRequestWireSchema, { ...lock, ...change }, 'lock request')).toThrow(InvalidVoucherError);
  });

  it('the forward and unlock requests are strict too', () => {
    const { payee: _p, amount: _a, fee: _f, ...forward } = lock;
    expect(parseLockWire(ForwardRequestWireSchema, forward, 'forwarded payment').hash).toBe(hash);
    expect(() => parseLockWire(ForwardRequestWireSchema, { ...forward, amount: '1' }, 'forwarded payment')).toThrow(/malformed/);
    expect(parseLockWire(UnlockRequestWireSchema, { network: lock.network, hash, voucher: {} }, 'unlock request').hash).toBe(hash);
    expect(() => parseLockWire(UnlockRequestWireSchema, { network: lock.network, hash }, 'unlock request')).toThrow(/voucher/);
  });

  it("a hub's description round-trips, and a malformed one is refused", () => {
    const info = { network: 'eip155:31337', address: '0x' + '22'.repeat(20), feeBase: 10n, feePpm: 1000n, minLock: 600, margin: 300 };
    expect(hubInfoFromWire(JSON.parse(JSON.stringify(hubInfoToWire(info))))).toEqual({ ...info, contract: undefined });
    expect(() => hubInfoFromWire({ ...hubInfoToWire(info), feeBase: 10 })).toThrow(InvalidVoucherError);
    expect(() => hubInfoFromWire({ ...hubInfoToWire(info), minLock: -1 })).toThrow(InvalidVoucherError);
  });
});
