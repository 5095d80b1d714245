/**
 * The paywall's fast verify path (src/core/channel/recover.ts): the hand-hashed
 * EIP-712 digest and the libsecp256k1 recovery must agree with ethers'
 * `TypedDataEncoder` and `recoverAddress` on random vouchers, and refuse what
 * ethers' path refused.
 */
import { describe, expect, it } from 'vitest';
import { HDNodeWallet, Signature, SigningKey, TypedDataEncoder, Wallet, getAddress, hexlify, randomBytes, recoverAddress } from 'ethers';
import {
  VOUCHER_TYPES, recoverVoucherSigner, signVoucher, voucherDigest, voucherDomain, voucherMessage, voucherProof,
} from '../../src/families/evm/voucher.js';
import { ZERO_HASH, type UnsignedVoucher } from '../../src/core/channel/voucher.js';
import { verifierBackend } from '../../src/families/evm/recover.js';
import { UsageError } from '../../src/core/errors.js';

const rand = (bits: number): bigint => BigInt(hexlify(randomBytes(Math.ceil(bits / 8)))) >> BigInt(8 * Math.ceil(bits / 8) - bits);
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

function randomVoucher(): UnsignedVoucher {
  const small = Math.random() < 0.5;
  return {
    channelId: hexlify(randomBytes(32)),
    lane: small ? rand(4) : rand(63),
    nonce: small ? rand(16) : rand(63),
    amount: pick([0n, rand(64), rand(256)]),
    secretHash: Math.random() < 0.7 ? ZERO_HASH : hexlify(randomBytes(32)),
    timeLockMin: Math.random() < 0.7 ? 0n : rand(64),
    timeLockMax: Math.random() < 0.7 ? 0n : rand(64),
    minSettleAt: Math.random() < 0.7 ? 0n : rand(64),
    merges: Array.from({ length: pick([0, 0, 1, 3]) }, () => ({ lane: rand(63), nonce: rand(63) })),
  };
}

const KEYS = Array.from({ length: 8 }, () => Wallet.createRandom());
const CONTRACTS = ['0x00000000000000000000000000000000000000C1', getAddress(hexlify(randomBytes(20))), hexlify(randomBytes(20))];

describe('fast voucher verify path', () => {
  it('uses the native libsecp256k1 binding here', () => {
    expect(verifierBackend()).toBe('libsecp256k1');
  });

  it('agrees with ethers on the digest and the signer of 200 random vouchers', () => {
    for (let i = 0; i < 200; i++) {
      const v = randomVoucher();
      const chainId = pick([1n, 31337n, rand(64)]);
      const contract = pick(CONTRACTS);
      const key = pick(KEYS) as unknown as HDNodeWallet;
      const expected = TypedDataEncoder.hash(voucherDomain(chainId, contract), VOUCHER_TYPES, voucherMessage(v));
      expect(voucherDigest(v, chainId, contract)).toBe(expected);
      const s = signVoucher(v, key, chainId, contract);
      expect(recoverAddress(expected, Signature.from(s.signature))).toBe(key.address);
      expect(recoverVoucherSigner(s, chainId, contract)).toBe(key.address);
    }
  });

  it('refuses what ethers refuses: malformed, high-s, bad-v and unrecoverable signatures', () => {
    const s = signVoucher(randomVoucher(), KEYS[0] as unknown as HDNodeWallet, 1n, CONTRACTS[0]);
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = '0x' + s.signature.slice(2, 66) + (N - BigInt('0x' + s.signature.slice(66, 130))).toString(16).padStart(64, '0') + (s.signature.endsWith('1b') ? '1c' : '1b');
    const cases: [string, RegExp][] = [
      [s.signature.slice(0, 130), /65 bytes of hex/],
      [s.signature + '00', /65 bytes of hex/],
      [highS, /high s value/],
      [s.signature.slice(0, 130) + '01', /invalid recovery byte/],
      ['0x' + '0'.repeat(64) + s.signature.slice(66), /does not recover/],
      ['0x' + 'f'.repeat(64) + s.signature.slice(66), /does not recover/],
      [s.signature.slice(0, 66) + '0'.repeat(64) + s.signature.slice(130), /does not recover/],
    ];
    for (const [signature, message] of cases) {
      expect(() => recoverVoucherSigner({ ...s, signature }, 1n, CONTRACTS[0])).toThrow(UsageError);
      expect(() => recoverVoucherSigner({ ...s, signature }, 1n, CONTRACTS[0])).toThrow(message);
    }
  });

  it('refuses fields outside their Solidity types, as ethers does', () => {
    const v = randomVoucher();
    for (const bad of [{ lane: 1n << 64n }, { amount: -1n }, { amount: 1n << 256n }, { channelId: '0x1234' }, { merges: [{ lane: -1n, nonce: 0n }] }]) {
      const w = { ...v, ...bad };
      expect(() => TypedDataEncoder.hash(voucherDomain(1n, CONTRACTS[0]), VOUCHER_TYPES, voucherMessage(w))).toThrow();
      expect(() => voucherDigest(w, 1n, CONTRACTS[0])).toThrow(UsageError);
    }
  });
  it('voucherProof (a claim\'s digest, public key and signer) agrees with ethers on 100 random vouchers, and refuses what recovery refuses', () => {
    for (let i = 0; i < 100; i++) {
      const chainId = pick([1n, 31337n, rand(64)]);
      const contract = pick(CONTRACTS);
      const key = pick(KEYS) as unknown as HDNodeWallet;
      const s = signVoucher(randomVoucher(), key, chainId, contract);
      const digest = TypedDataEncoder.hash(voucherDomain(chainId, contract), VOUCHER_TYPES, voucherMessage(s));
      expect(voucherProof(s, chainId, contract)).toEqual({ digest, publicKey: SigningKey.recoverPublicKey(digest, s.signature), signer: key.address });
      expect(voucherProof(s, chainId, contract).publicKey).toBe(key.signingKey.publicKey);
    }
    const s = signVoucher(randomVoucher(), KEYS[1] as unknown as HDNodeWallet, 1n, CONTRACTS[0]);
    expect(() => voucherProof({ ...s, signature: s.signature.slice(0, 130) + '01' }, 1n, CONTRACTS[0])).toThrow(/invalid recovery byte/);
    expect(() => voucherProof({ ...s, signature: s.signature.slice(0, 130) }, 1n, CONTRACTS[0])).toThrow(UsageError);
  });
});
