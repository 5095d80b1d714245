/**
 * The voucher model (src/core/channel/voucher.ts): wire form round trips, invalid
 * wire inputs (each a UsageError, exit 2), signer recovery with the high-s twin
 * refused, and the TypeScript EIP-712 digest checked against the deployed
 * contract's own `voucherDigest` on a real anvil.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDNodeWallet, Wallet, ethers, type Contract } from 'ethers';
import {
  ZERO_HASH, bitcoinPayment, bitcoinVoucherToWire, encodeVoucher, voucherOfFamily, voucherToWire, type UnsignedVoucher, type EvmVoucher as Voucher,
} from '../../src/core/channel/voucher.js';
import { VOUCHER_TYPES, recoverVoucherSigner, signVoucher, voucherDigest, voucherDomain, voucherMessage } from '../../src/families/evm/voucher.js';
import { bitcoinVoucherFromWire, decodeVoucher, voucherFromUntaggedWire, voucherFromWire } from '../../src/core/channel/voucher-wire.js';
import { familyOfNetwork } from '../../src/core/config-fields.js';
import { ExitCode, InvalidVoucherError, UsageError } from '../../src/core/errors.js';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../helpers/anvil.js';
import { deployPaymentChannels, provider } from '../helpers/deploy.js';
import { highS } from '../helpers/voucher.js';

const CHAIN_ID = 31337n;
/** Any address works for offline signing; the on-chain test uses the real one. */
const CONTRACT = '0x00000000000000000000000000000000000000C1';
const PAYER = HDNodeWallet.fromPhrase('test test test test test test test test test test test junk', undefined, "m/44'/60'/0'/0/0");
const STRANGER = HDNodeWallet.fromPhrase('test test test test test test test test test test test junk', undefined, "m/44'/60'/0'/0/1");
const MAX_U64 = (1n << 64n) - 1n;
const MAX_INDEX = (1n << 63n) - 1n;
const MAX_U256 = (1n << 256n) - 1n;

const base = (fields: Partial<UnsignedVoucher> = {}): UnsignedVoucher => ({
  channelId: ethers.id('channel-1'),
  lane: 0n,
  nonce: 1n,
  amount: 1000n,
  secretHash: ZERO_HASH,
  timeLockMin: 0n,
  timeLockMax: 0n,
  minSettleAt: 0n,
  merges: [],
  ...fields,
});

const VOUCHERS: { name: string; v: UnsignedVoucher }[] = [
  { name: 'plain', v: base() },
  { name: 'zero amount, nonce 0', v: base({ nonce: 0n, amount: 0n }) },
  { name: 'largest values', v: base({ lane: MAX_INDEX, nonce: MAX_INDEX, amount: MAX_U256, timeLockMin: MAX_U64, timeLockMax: MAX_U64, minSettleAt: MAX_U64 }) },
  { name: 'hash lock and time locks', v: base({ secretHash: ethers.sha256('0x1234'), timeLockMin: 1_700_000_000n, timeLockMax: 1_800_000_000n, minSettleAt: 1_750_000_000n }) },
  { name: 'with merges', v: base({ lane: 2n, merges: [{ lane: 0n, nonce: 5n }, { lane: 1n, nonce: 9n }] }) },
];

const signed = (v: UnsignedVoucher = base(), signer: HDNodeWallet = PAYER, contract = CONTRACT): Voucher => signVoucher(v, signer, CHAIN_ID, contract);

describe('voucher wire form', () => {
  it.each(VOUCHERS)('round-trips a $name voucher through voucherToWire/voucherFromWire and encodeVoucher/decodeVoucher', ({ v }) => {
    const s = signed(v);
    const wire = voucherToWire(s);
    // integers are decimal strings on the wire
    for (const k of ['lane', 'nonce', 'amount', 'timeLockMin', 'timeLockMax', 'minSettleAt'] as const) expect(typeof wire[k]).toBe('string');
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire);
    expect(voucherFromWire(JSON.parse(JSON.stringify(wire)))).toEqual(s);
    const token = encodeVoucher(s);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeVoucher(token)).toEqual(s);
  });

  it('lower-cases hex and fills defaults for optional fields', () => {
    const s = signed();
    const v = voucherFromWire({ channelId: s.channelId.toUpperCase().replace('0X', '0x'), lane: '0', nonce: '1', amount: '1000', signature: s.signature });
    expect(v).toEqual(s);
  });

  const good = () => voucherToWire(signed()) as Record<string, unknown>;
  const tokenOf = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const INVALID: { name: string; decode: () => unknown; message: RegExp }[] = [
    { name: 'truncated token', decode: () => decodeVoucher(encodeVoucher(signed()).slice(0, 40)), message: /Malformed voucher: not JSON inside/ },
    { name: 'token with a non-base64url character', decode: () => decodeVoucher(encodeVoucher(signed()) + '='), message: /not a base64url token/ },
    { name: 'empty token', decode: () => decodeVoucher(''), message: /not a base64url token/ },
    { name: 'token over 8 KiB', decode: () => decodeVoucher('A'.repeat(8193)), message: /not a base64url token/ },
    { name: 'extra field', decode: () => voucherFromWire({ ...good(), extra: 1 }), message: /Malformed voucher: voucher: Unrecognized key/ },
    { name: 'extra field in a token', decode: () => decodeVoucher(tokenOf({ ...good(), payee: '0x' })), message: /Unrecognized key/ },
    { name: 'lane = 2^63', decode: () => voucherFromWire({ ...good(), lane: (1n << 63n).toString() }), message: /Malformed voucher: lane: lane 9223372036854775808 is too large/ },
    { name: 'nonce = 2^64', decode: () => voucherFromWire({ ...good(), nonce: (1n << 64n).toString() }), message: /Malformed voucher: nonce: nonce 18446744073709551616 is too large/ },
    { name: 'timeLockMax = 2^64', decode: () => voucherFromWire({ ...good(), timeLockMax: (1n << 64n).toString() }), message: /timeLockMax/ },
    { name: 'amount = 2^256', decode: () => voucherFromWire({ ...good(), amount: (1n << 256n).toString() }), message: /Malformed voucher: amount: .*above 2\^256/ },
    { name: 'negative amount', decode: () => voucherFromWire({ ...good(), amount: '-1' }), message: /Malformed voucher: amount: Invalid amount "-1"/ },
    { name: 'amount as a JSON number', decode: () => voucherFromWire({ ...good(), amount: 1000 }), message: /Malformed voucher: amount: Expected string/ },
    { name: 'amount with a leading zero', decode: () => voucherFromWire({ ...good(), amount: '01000' }), message: /Malformed voucher: amount/ },
    { name: 'signature of 64 bytes', decode: () => voucherFromWire({ ...good(), signature: (good().signature as string).slice(0, 130) }), message: /Malformed voucher: signature: expected a 65-byte hex signature/ },
    { name: 'signature of 66 bytes', decode: () => voucherFromWire({ ...good(), signature: good().signature + '00' }), message: /signature: expected a 65-byte hex signature/ },
    { name: 'missing signature', decode: () => voucherFromWire({ ...good(), signature: undefined }), message: /Malformed voucher: signature: Required/ },
    { name: 'non-hex channelId', decode: () => voucherFromWire({ ...good(), channelId: '0x' + 'zz'.repeat(32) }), message: /Malformed voucher: channelId: expected 0x and 64 hex digits/ },
    { name: 'channelId of 31 bytes', decode: () => voucherFromWire({ ...good(), channelId: '0x' + 'ab'.repeat(31) }), message: /channelId: expected 0x and 64 hex digits/ },
    { name: 'merge with an extra field', decode: () => voucherFromWire({ ...good(), merges: [{ lane: '1', nonce: '1', amount: '5' }] }), message: /Malformed voucher: merges\.0: Unrecognized key/ },
    { name: '17 merges', decode: () => voucherFromWire({ ...good(), merges: Array.from({ length: 17 }, (_, i) => ({ lane: String(i + 1), nonce: '1' })) }), message: /Malformed voucher: merges/ },
    { name: 'not an object', decode: () => voucherFromWire('voucher'), message: /Malformed voucher: voucher: Expected object/ },
  ];

  it.each(INVALID)('refuses $name with a UsageError (exit 2)', ({ decode, message }) => {
    expect(decode).toThrow(UsageError);
    expect(decode).toThrow(expect.objectContaining({ exitCode: ExitCode.usage }));
    expect(decode).toThrow(message);
  });

  it('pins the message for a lane at 2^63', () => {
    expect(() => voucherFromWire({ ...good(), lane: '9223372036854775808' })).toThrowErrorMatchingInlineSnapshot(`[UsageError: Malformed voucher: lane: lane 9223372036854775808 is too large (max 9223372036854775807)]`);
  });
});

describe('the family tag', () => {
  const payment = bitcoinPayment(ethers.id('channel-1'), 3n, 5000n, '02' + 'ab'.repeat(60));
  const tokenOf = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('is not on the wire: an EVM voucher and a Bitcoin payment keep their wire forms', () => {
    expect(Object.keys(voucherToWire(signed()))).not.toContain('family');
    expect(bitcoinVoucherToWire(payment)).toEqual({ channelId: payment.channelId, lane: '0', nonce: '3', amount: '5000', paymentTx: payment.paymentTx });
    expect(JSON.parse(Buffer.from(encodeVoucher(payment), 'base64url').toString())).toEqual(bitcoinVoucherToWire(payment));
  });

  it('comes from the context: the network\'s family decodes a token, the untagged decoder only by the schemas', () => {
    const s = signed();
    expect(decodeVoucher(encodeVoucher(s), 'evm')).toEqual(s);
    expect(decodeVoucher(encodeVoucher(payment), 'bitcoin')).toEqual(payment);
    expect(bitcoinVoucherFromWire(bitcoinVoucherToWire(payment))).toEqual(payment);
    // without a family, exactly one strict schema takes each wire form
    expect(decodeVoucher(encodeVoucher(s))).toEqual(s);
    expect(decodeVoucher(encodeVoucher(payment))).toEqual(payment);
    expect(voucherFromUntaggedWire(JSON.parse(JSON.stringify(bitcoinVoucherToWire(payment))))).toEqual(payment);
  });

  it.each([
    { name: 'an EVM token read on a Bitcoin network', decode: () => decodeVoucher(encodeVoucher(signed()), 'bitcoin'), message: /^Malformed payment: it is an EVM voucher, not a Bitcoin payment; was it made on another network\?$/ },
    { name: 'a Bitcoin token read on an EVM network', decode: () => decodeVoucher(encodeVoucher(payment), 'evm'), message: /^Malformed voucher: it is a Bitcoin payment, not an EVM voucher; was it made on another network\?$/ },
    { name: 'a malformed Bitcoin token read on a Bitcoin network', decode: () => decodeVoucher(tokenOf({ ...bitcoinVoucherToWire(payment), lane: '1' }), 'bitcoin'), message: /^Malformed payment: lane: Invalid literal value, expected "0"$/ },
    { name: 'an untagged payment with a bad transaction', decode: () => decodeVoucher(tokenOf({ ...bitcoinVoucherToWire(payment), paymentTx: 'zz' })), message: /^Malformed payment: paymentTx: expected transaction hex$/ },
    { name: 'an untagged voucher with a short signature', decode: () => decodeVoucher(tokenOf({ ...voucherToWire(signed()), signature: '0x12' })), message: /^Malformed voucher: signature: expected a 65-byte hex signature$/ },
    { name: 'an untagged object of neither shape', decode: () => voucherFromUntaggedWire({ channelId: ethers.id('c'), lane: '0', nonce: '1', amount: '1' }), message: /^Malformed voucher: signature: Required$/ },
  ])('refuses $name as a UsageError naming the field', ({ decode, message }) => {
    expect(decode).toThrow(UsageError);
    expect(decode).toThrow(message);
  });

  it('narrows with voucherOfFamily, refusing the other family', () => {
    expect(voucherOfFamily(payment, 'bitcoin')).toBe(payment);
    expect(() => voucherOfFamily(payment, 'evm')).toThrow(InvalidVoucherError);
    expect(() => voucherOfFamily(signed(), 'bitcoin')).toThrowErrorMatchingInlineSnapshot(`[Voucher.InvalidVoucherError: Expected a Bitcoin payment, got an EVM voucher.]`);
  });

  it('maps a network to its family by the CAIP-2 namespace', () => {
    expect(familyOfNetwork('eip155:31337')).toBe('evm');
    expect(familyOfNetwork('bip122:530827f38f93b43ed12af0b3ad25a288')).toBe('bitcoin');
    for (const n of ['solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', 'eip155', 'eip1550', 'bip122', '', ':1', 'EIP155:1']) expect(familyOfNetwork(n), n).toBeUndefined();
  });

  it.each(VOUCHERS)('is ignored by EIP-712: ethers\' encoder and voucherDigest give the same digest with and without it ($name)', ({ v }) => {
    const s = signed(v);
    expect(s.family).toBe('evm');
    const dom = voucherDomain(CHAIN_ID, CONTRACT);
    const untagged = { ...v } as Record<string, unknown>;
    delete untagged.family;
    const digest = ethers.TypedDataEncoder.hash(dom, VOUCHER_TYPES, untagged);
    expect(ethers.TypedDataEncoder.hash(dom, VOUCHER_TYPES, s)).toBe(digest); // the tagged voucher itself, extra keys and all
    expect(voucherDigest(s, CHAIN_ID, CONTRACT)).toBe(digest);
    expect(Object.keys(voucherMessage(s))).not.toContain('family');
    expect(ethers.recoverAddress(digest, s.signature)).toBe(PAYER.address);
  });
});

describe('recoverVoucherSigner', () => {
  it.each(VOUCHERS)('recovers the payer of a $name voucher', ({ v }) => {
    expect(recoverVoucherSigner(signed(v), CHAIN_ID, CONTRACT)).toBe(PAYER.address);
  });

  it('recovers another address for another key, chain or contract', () => {
    expect(recoverVoucherSigner(signed(base(), STRANGER), CHAIN_ID, CONTRACT)).toBe(STRANGER.address);
    const s = signed();
    expect(recoverVoucherSigner(s, 1n, CONTRACT)).not.toBe(PAYER.address);
    expect(recoverVoucherSigner(s, CHAIN_ID, '0x00000000000000000000000000000000000000C2')).not.toBe(PAYER.address);
    expect(recoverVoucherSigner({ ...s, amount: s.amount + 1n }, CHAIN_ID, CONTRACT)).not.toBe(PAYER.address);
  });

  it('refuses the high-s twin of a valid signature (which ecrecover alone would accept)', () => {
    const s = signed();
    const twin = highS(s.signature);
    expect(twin).not.toBe(s.signature);
    // the twin is s' = n − s with the recovery byte flipped: the same r, a high s
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const sOf = (sig: string) => BigInt('0x' + sig.slice(66, 130));
    expect(twin.slice(0, 66)).toBe(s.signature.slice(0, 66));
    expect(sOf(twin)).toBe(N - sOf(s.signature));
    expect(sOf(twin) > N / 2n).toBe(true);
    expect(() => recoverVoucherSigner({ ...s, signature: twin }, CHAIN_ID, CONTRACT)).toThrow(UsageError);
    expect(() => recoverVoucherSigner({ ...s, signature: twin }, CHAIN_ID, CONTRACT)).toThrowErrorMatchingInlineSnapshot(`[UsageError: Voucher signature has a high s value (malleable twin); refused.]`);
  });

  it.each([
    { name: 'recovery byte 0', mutate: (sig: string) => sig.slice(0, 130) + '00', message: /invalid recovery byte/ },
    { name: 'recovery byte 29', mutate: (sig: string) => sig.slice(0, 130) + '1d', message: /invalid recovery byte/ },
    { name: '64 bytes', mutate: (sig: string) => sig.slice(0, 130), message: /must be 65 bytes/ },
    { name: 'no 0x', mutate: (sig: string) => sig.slice(2) + '00', message: /must be 65 bytes/ },
    { name: 'r = 0', mutate: (sig: string) => '0x' + '0'.repeat(64) + sig.slice(66), message: /does not recover/ },
  ])('refuses a signature with $name', ({ mutate, message }) => {
    const s = signed();
    expect(() => recoverVoucherSigner({ ...s, signature: mutate(s.signature) }, CHAIN_ID, CONTRACT)).toThrow(UsageError);
    expect(() => recoverVoucherSigner({ ...s, signature: mutate(s.signature) }, CHAIN_ID, CONTRACT)).toThrow(message);
  });
});

describe('voucherDigest against the deployed contract', () => {
  let anvil: Anvil;
  let pc: Contract;

  beforeAll(async () => {
    anvil = await startAnvil(); // throws (fails the file) when anvil is missing
    const p = provider(anvil.rpcUrl, anvil.chainId);
    pc = await deployPaymentChannels(new Wallet(ANVIL_KEYS[0], p));
  });
  afterAll(async () => {
    (pc?.runner?.provider as ethers.JsonRpcProvider | undefined)?.destroy();
    await anvil?.stop();
  });

  it.each(VOUCHERS)('equals PaymentChannels.voucherDigest for a $name voucher', async ({ v }) => {
    const address = await pc.getAddress();
    const ts = voucherDigest(v, BigInt(anvil.chainId), address);
    expect(ts).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await pc.voucherDigest(v)).toBe(ts);
    // and the digest depends on the domain: another chain id or contract gives another one
    expect(voucherDigest(v, 1n, address)).not.toBe(ts);
    expect(voucherDigest(v, BigInt(anvil.chainId), CONTRACT)).not.toBe(ts);
  });

  it('takes a tagged voucher as its struct: the family tag changes neither the contract\'s digest nor the signer', async () => {
    const address = await pc.getAddress();
    const s = signVoucher(base({ amount: 78n }), PAYER, BigInt(anvil.chainId), address);
    expect(s.family).toBe('evm');
    const { signature, ...tagged } = s;
    expect(await pc.voucherDigest(tagged)).toBe(await pc.voucherDigest(base({ amount: 78n })));
    expect(ethers.recoverAddress(await pc.voucherDigest(tagged), signature)).toBe(PAYER.address);
    // what a wallet's signTypedData signs over the tagged voucher is what the contract recovers
    const typed = await PAYER.signTypedData(voucherDomain(BigInt(anvil.chainId), address), VOUCHER_TYPES, tagged);
    expect(ethers.recoverAddress(await pc.voucherDigest(tagged), typed)).toBe(PAYER.address);
  });

  it('a voucher signed by signVoucher recovers to the payer under the contract digest', async () => {
    const address = await pc.getAddress();
    const s = signVoucher(base({ amount: 77n }), PAYER, BigInt(anvil.chainId), address);
    const onChain: string = await pc.voucherDigest(base({ amount: 77n }));
    expect(ethers.recoverAddress(onChain, s.signature)).toBe(PAYER.address);
    expect(recoverVoucherSigner(s, BigInt(anvil.chainId), address)).toBe(PAYER.address);
  });
});
