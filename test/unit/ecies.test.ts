/**
 * The native ECIES (core/channel/ecies.ts: libsecp256k1 + node:crypto) against eciesjs, the library whose format
 * it computes: over generated keys, plaintexts and alterations, each opens what the other sealed, and both accept
 * or refuse the same payloads with the same result. eciesjs is the reference here, not a mock: it is the package
 * the format comes from.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SigningKey } from 'ethers';
import { decrypt as eciesjsDecrypt, encrypt as eciesjsEncrypt } from 'eciesjs';
import { eciesBackend, eciesBackends } from '../../src/core/channel/ecies.js';

const runs = Number(process.env.FUZZ_RUNS ?? 60);
const native = eciesBackends.native();
const reference = eciesBackends.eciesjs();

const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => {
  try {
    return Boolean(new SigningKey(b));
  } catch {
    return false;
  }
});
const bytes = (b: Uint8Array | string) => Buffer.from(b).toString('hex');

/** What a backend does with a payload: the plaintext it opens, or that it refuses. */
function opened(f: () => Uint8Array): string {
  try {
    return 'ok:' + bytes(f());
  } catch {
    return 'refused';
  }
}

describe('ECIES: libsecp256k1 + node:crypto against eciesjs', () => {
  it('loads the native backend here (CI builds the secp256k1 binding)', () => {
    expect(eciesBackend()).toBe('libsecp256k1');
  });

  it('each opens what the other sealed, to compressed and uncompressed keys', () => {
    fc.assert(
      fc.property(secretKey, fc.uint8Array({ maxLength: 200 }), fc.boolean(), (sk, plain, compressed) => {
        const k = new SigningKey(sk);
        const pub = Buffer.from((compressed ? k.compressedPublicKey : k.publicKey).slice(2), 'hex');
        const sealedHere = native.encrypt(pub, plain);
        expect(sealedHere.length).toBe(97 + plain.length);
        expect(bytes(eciesjsDecrypt(sk, sealedHere))).toBe(bytes(plain));
        expect(bytes(native.decrypt(sk, eciesjsEncrypt(pub, plain)))).toBe(bytes(plain));
        expect(bytes(reference.decrypt(sk, native.encrypt(pub, plain)))).toBe(bytes(plain));
      }),
      { numRuns: runs },
    );
  });

  it('both refuse the same altered payloads: a flipped byte, a cut, another ephemeral key encoding, another key', () => {
    const alteration = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('prefix' as const), to: fc.constantFrom(0, 2, 3, 5, 6, 7) }),
      fc.record({ kind: fc.constant('otherKey' as const) }),
      fc.record({ kind: fc.constant('random' as const), junk: fc.uint8Array({ maxLength: 160 }) }),
    );
    fc.assert(
      fc.property(secretKey, secretKey, fc.uint8Array({ minLength: 1, maxLength: 64 }), alteration, (sk, otherSk, plain, a) => {
        const pub = Buffer.from(new SigningKey(sk).publicKey.slice(2), 'hex');
        let payload = Buffer.from(eciesjsEncrypt(pub, plain));
        let key = sk;
        if (a.kind === 'flip') payload[a.at % payload.length] ^= 1 << a.bit;
        if (a.kind === 'cut') payload = payload.subarray(0, a.at % payload.length);
        if (a.kind === 'prefix') payload[0] = a.to;
        if (a.kind === 'otherKey') key = otherSk;
        if (a.kind === 'random') payload = Buffer.from(a.junk);
        const here = opened(() => native.decrypt(key, payload));
        expect(here).toBe(opened(() => eciesjsDecrypt(key, payload)));
        // an alteration never opens to another plaintext: refused, or (another key equal to the first) the same one
        if (here !== 'refused') expect(here).toBe('ok:' + bytes(plain));
      }),
      { numRuns: runs * 3 },
    );
  });

  it('both refuse public keys that are not points of the curve, and accept the same ones', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 4), fc.uint8Array({ minLength: 64, maxLength: 64 }), (prefix, xy) => {
        const pub = Buffer.concat([Buffer.from([prefix]), prefix === 4 ? xy : xy.subarray(0, 32)]);
        const sealed = (f: () => Uint8Array) => {
          try {
            return f().length;
          } catch {
            return -1;
          }
        };
        expect(sealed(() => native.encrypt(pub, Buffer.from('x')))).toBe(sealed(() => eciesjsEncrypt(pub, Buffer.from('x'))));
      }),
      { numRuns: runs },
    );
  });
});
