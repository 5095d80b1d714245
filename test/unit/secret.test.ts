/**
 * Hash locks' secrets (DESIGN §11): drawing, hashing (sha256, as the contract and ILP use
 * it) and ECIES to the payee's secp256k1 key (eciesjs's format, core/channel/ecies.ts). Property tests over generated
 * secrets and keys: every encryption decrypts with the right key only, and a decrypted
 * secret is returned only when it opens the hash it must.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SigningKey, Wallet } from 'ethers';
import { decryptSecret, drawSecret, encryptSecret, secretHashOf, secretProof } from '../../src/core/channel/secret.js';
import { InvalidVoucherError, UsageError } from '../../src/core/errors.js';

const runs = Number(process.env.FUZZ_RUNS ?? 40);
const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => b.some((x) => x !== 0)).map((b) => {
  try {
    return new SigningKey('0x' + Buffer.from(b).toString('hex'));
  } catch {
    return new SigningKey('0x' + '11'.repeat(32));
  }
});

describe('hash-lock secrets', () => {
  it('drawSecret gives 32 random bytes and their sha256', () => {
    const a = drawSecret();
    const b = drawSecret();
    expect(a.secret).toMatch(/^0x[0-9a-f]{64}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a.secretHash).toBe('0x' + createHash('sha256').update(Buffer.from(a.secret.slice(2), 'hex')).digest('hex'));
    expect(secretHashOf(a.secret.toUpperCase().replace('0X', '0x'))).toBe(a.secretHash);
    expect(() => secretHashOf('abc')).toThrow(UsageError);
  });

  it('a secret and its amount encrypted to a key decrypt with that key only, compressed or not, and must open its hash', () => {
    fc.assert(
      fc.property(key, key, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.boolean(), (k, other, bytes, amount, compressed) => {
        const secret = '0x' + Buffer.from(bytes).toString('hex');
        const hash = secretHashOf(secret);
        const pub = compressed ? k.compressedPublicKey : k.publicKey;
        const c = encryptSecret(pub, secret, amount);
        expect(decryptSecret(k.privateKey, c, hash)).toEqual({ secret, amount });
        if (other.privateKey !== k.privateKey) expect(() => decryptSecret(other.privateKey, c, hash)).toThrow(InvalidVoucherError);
        expect(() => decryptSecret(k.privateKey, c, secretHashOf(secret + '00'))).toThrow(/does not open the hash lock/);
        // Any flipped byte of the ciphertext is caught (AES-GCM's tag), never a wrong secret.
        const flipped = c.slice(0, -2) + ((parseInt(c.slice(-2), 16) ^ 1).toString(16).padStart(2, '0'));
        expect(() => decryptSecret(k.privateKey, flipped, hash)).toThrow(InvalidVoucherError);
      }),
      { numRuns: runs },
    );
  });

  it('refuses malformed keys and ciphertexts with a clear error', () => {
    const w = Wallet.createRandom();
    const { secret, secretHash } = drawSecret();
    expect(() => encryptSecret('0x1234', secret, 1n)).toThrow(/33 or 65 bytes/);
    expect(() => encryptSecret(w.signingKey.compressedPublicKey, 'zz', 1n)).toThrow(UsageError);
    expect(() => encryptSecret(w.signingKey.compressedPublicKey, secret, -1n)).toThrow(UsageError);
    expect(() => decryptSecret(w.privateKey, 'not hex', secretHash)).toThrow(InvalidVoucherError);
    expect(() => decryptSecret(w.privateKey, '0x' + 'ab'.repeat(2000), secretHash)).toThrow(/at most 1 KiB/);
  });

  it("a proof of the secret answers one challenge only, and shows no secret", () => {
    const { secret } = drawSecret();
    const [c1, c2] = [drawSecret().secret, drawSecret().secret];
    expect(secretProof(secret, c1)).toBe(secretProof(secret.toUpperCase().replace('0X', '0x'), c1));
    expect(secretProof(secret, c1)).not.toBe(secretProof(secret, c2));
    expect(secretProof(secret, c1)).not.toBe(secretProof(drawSecret().secret, c1));
    expect(secretProof(secret, c1)).not.toContain(secret.slice(2));
    expect(() => secretProof(secret, 'nope')).toThrow(UsageError);
  });
});
