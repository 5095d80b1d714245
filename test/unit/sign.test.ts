/**
 * The payer's native signer (families/evm/recover.ts `signDigest`, libsecp256k1) against ethers'
 * `SigningKey.sign`, the signer it replaces: over generated private keys, digests and vouchers the
 * signatures are the same bytes (RFC 6979 nonce, low s, v = 27/28), and they recover to the signer
 * through the paywall's `recoverVoucherSigner`. ethers is the reference here, not a mock.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SigningKey, Wallet, type HDNodeWallet } from 'ethers';
import { ZERO_HASH, type UnsignedVoucher } from '../../src/core/channel/voucher.js';
import { UsageError } from '../../src/core/errors.js';
import { signDigest, verifierBackend, voucherDigestBytes } from '../../src/families/evm/recover.js';
import { recoverVoucherSigner, signVoucher, voucherDigest } from '../../src/families/evm/voucher.js';

const runs = Number(process.env.FUZZ_RUNS ?? 200);
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (n: bigint) => '0x' + n.toString(16).padStart(64, '0');
const bytes32 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

/** Private keys over the whole range [1, n-1], with its ends. */
const privateKey = fc.oneof(
  fc.bigInt({ min: 1n, max: N - 1n }),
  fc.constantFrom(1n, 2n, N - 1n, N - 2n, (1n << 255n) - 1n),
).map(hex32);
/** Digests over all 32-byte strings, with the ones at and above the group order (reduced mod n for the nonce). */
const digest = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.constantFrom(0n, 1n, N - 1n, N, N + 1n, (1n << 256n) - 1n).map(bytes32),
  fc.bigInt({ min: N, max: (1n << 256n) - 1n }).map(bytes32),
);
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => '0x' + Buffer.from(b).toString('hex'));
const voucher: fc.Arbitrary<UnsignedVoucher> = fc.record({
  channelId: b32,
  lane: u64,
  nonce: u64,
  amount: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  secretHash: fc.oneof(fc.constant(ZERO_HASH), b32),
  timeLockMin: u64,
  timeLockMax: u64,
  minSettleAt: u64,
  merges: fc.array(fc.record({ lane: u64, nonce: u64 }), { maxLength: 3 }),
});
const chainId = fc.oneof(fc.constantFrom(1n, 31337n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const contract = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => '0x' + Buffer.from(b).toString('hex'));

describe('voucher signing: libsecp256k1 against ethers', () => {
  it('signs with the native libsecp256k1 binding here (CI builds the secp256k1 binding)', () => {
    expect(verifierBackend()).toBe('libsecp256k1');
  });

  it('signs any digest with any key byte for byte as ethers SigningKey.sign', () => {
    fc.assert(
      fc.property(privateKey, digest, (key, d) => {
        const expected = new SigningKey(key).sign(d).serialized;
        expect(signDigest(key, d)).toBe(expected);
        expect(signDigest(Buffer.from(key.slice(2), 'hex'), d)).toBe(expected);
      }),
      { numRuns: runs * 2 },
    );
  });

  it('signs any voucher as ethers did, and the paywall recovers the signer', () => {
    fc.assert(
      fc.property(privateKey, voucher, chainId, contract, (key, v, id, verifying) => {
        const wallet = new Wallet(key);
        const s = signVoucher(v, wallet as unknown as HDNodeWallet, id, verifying);
        expect(s.signature).toBe(wallet.signingKey.sign(voucherDigest(v, id, verifying)).serialized);
        expect(signDigest(key, voucherDigestBytes(v, id, verifying))).toBe(s.signature);
        expect(recoverVoucherSigner(s, id, verifying)).toBe(wallet.address);
      }),
      { numRuns: runs },
    );
  });

  it('refuses keys and digests that are not 32 bytes, and keys outside [1, n-1], as ethers does', () => {
    const d = new Uint8Array(32).fill(7);
    const cases: [string | Uint8Array, Uint8Array, RegExp][] = [
      [hex32(0n), d, /not a valid secp256k1 key/],
      [hex32(N), d, /not a valid secp256k1 key/],
      [hex32((1n << 256n) - 1n), d, /not a valid secp256k1 key/],
      ['0x' + '11'.repeat(31), d, /32 bytes of hex/],
      ['11'.repeat(32), d, /32 bytes of hex/],
      [new Uint8Array(31).fill(1), d, /must be 32 bytes/],
      [hex32(1n), new Uint8Array(31), /digest to sign must be 32 bytes/],
    ];
    for (const [key, dig, message] of cases) {
      expect(() => new SigningKey(key).sign(dig)).toThrow();
      expect(() => signDigest(key, dig)).toThrow(UsageError);
      expect(() => signDigest(key, dig)).toThrow(message);
    }
  });
});
