/**
 * The paywall's header check (src/core/transports/http402/verify-pool.ts), inline and on a real
 * worker thread from the built `dist/verify-worker.js`: the same answers either way,
 * bigint amounts intact across the thread boundary, the signer recovered under the
 * contract it names (so the main thread can tell when it must not reuse it), and
 * malformed headers turned into the paywall's 400 / 431 without throwing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDNodeWallet, Wallet, ethers } from 'ethers';
import { checkPaymentHeader, encodePaymentSignature, startHeaderVerifier, voucherOfFamily, type ChannelRequirement, type HeaderCheck, type HeaderVerifier, type UnsignedVoucher } from '../../dist/index.js';
import { recoverVoucherSigner, signVoucher } from '../../dist/families/evm/index.js';
import { highS } from '../helpers/voucher.js';

const CHAIN_ID = 31337n;
const NETWORK = 'eip155:31337';
const CONTRACT = '0x00000000000000000000000000000000000000C1';
const OTHER = '0x00000000000000000000000000000000000000C2';
const payer = Wallet.createRandom() as unknown as HDNodeWallet;
const channelId = ethers.hexlify(ethers.randomBytes(32));
const entry: ChannelRequirement = {
  scheme: 'channel', network: 'eip155:31337', amount: '1000', asset: ethers.ZeroAddress, payTo: Wallet.createRandom().address,
  maxTimeoutSeconds: 60, extra: { contract: CONTRACT, minDeposit: '100000', minSettleDelay: 60, endpoint: '/.well-known/channels' },
};
const unsigned: UnsignedVoucher = {
  channelId, lane: 0n, nonce: 7n, amount: 2n ** 200n + 1n, secretHash: ethers.ZeroHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [],
};
const good = signVoucher(unsigned, payer, CHAIN_ID, CONTRACT);
const header = (v = good, e = entry) => encodePaymentSignature(e, { type: 'voucher', channelId: v.channelId, voucher: v });

let pool: HeaderVerifier;
beforeAll(async () => {
  pool = await startHeaderVerifier(new URL('../../dist/verify-worker.js', import.meta.url), 1);
});
afterAll(async () => {
  await pool?.close();
});

describe.each([
  ['inline', async (h: string, contract = CONTRACT) => checkPaymentHeader(h, { network: NETWORK, chainId: CHAIN_ID, contract }, (v, d) => recoverVoucherSigner(voucherOfFamily(v, 'evm'), d.chainId, d.contract))],
  ['on a worker thread', async (h: string, contract = CONTRACT) => pool.check(h, { network: NETWORK, chainId: CHAIN_ID, contract })],
] as const)('checkPaymentHeader %s', (_, check: (h: string, contract?: string) => Promise<HeaderCheck>) => {
  it('decodes a good voucher and recovers its payer, bigint amounts intact', async () => {
    const r = await check(header());
    if (!r.ok || r.payload.type === 'routed') throw new Error(r.ok ? 'decoded as routed' : r.message);
    expect(r.recovered).toEqual({ contract: CONTRACT, signer: payer.address });
    expect(r.payload.voucher.amount).toBe(2n ** 200n + 1n);
    expect(r.payload.voucher.nonce).toBe(7n);
    expect(r.payload.channelId).toBe(channelId);
    expect(r.accepted.payTo).toBe(entry.payTo);
  });

  it('under another contract the recovered signer is someone else, and says which contract it was for', async () => {
    const r = await check(header(), OTHER);
    if (!r.ok) throw new Error(r.message);
    expect(r.recovered).toMatchObject({ contract: OTHER });
    expect((r.recovered as { signer: string }).signer).not.toBe(payer.address);
  });

  it('a high-s twin decodes but its recovery is refused', async () => {
    const r = await check(header({ ...good, signature: highS(good.signature) }));
    if (!r.ok) throw new Error(r.message);
    expect(r.recovered).toMatchObject({ contract: CONTRACT, error: expect.stringMatching(/high s value/) });
  });

  it.each([
    ['not base64 JSON', '%%%', 400, /not base64-encoded JSON/],
    ['another x402 version', Buffer.from(JSON.stringify({ x402Version: 1 })).toString('base64'), 400, /not an x402 version 2 payload/],
    ['over 8 KiB', 'A'.repeat(8193), 431, /larger than 8192 bytes/],
  ])('%s → { ok: false, status %i }', async (_name, h, status, message) => {
    const r = await check(h);
    expect(r).toMatchObject({ ok: false, status });
    expect((r as { message: string }).message).toMatch(message);
  });

  it('a bip122 payment is decoded, with no EVM signer to recover', async () => {
    const btc: ChannelRequirement = { ...entry, network: 'bip122:530827f38f93b43ed12af0b3ad25a288', asset: 'sat', extra: { minDeposit: '100000', minExpirySeconds: 0, closeMargin: 0, p2sh: false, endpoint: '/.well-known/channels' } as never };
    const tx = '02' + '00'.repeat(60);
    const h = Buffer.from(JSON.stringify({
      x402Version: 2, accepted: btc, payload: { type: 'voucher', channelId, voucher: { channelId, lane: '0', nonce: '3', amount: '5000', paymentTx: tx } },
    })).toString('base64');
    const r = await check(h);
    if (!r.ok || r.payload.type === 'routed') throw new Error(r.ok ? 'decoded as routed' : r.message);
    expect(r.recovered).toBeUndefined();
    expect(r.payload.voucher).toMatchObject({ family: 'bitcoin', nonce: 3n, amount: 5000n, paymentTx: tx });
  });

  // Issue 12: the proof of a payment through a hub carries a secret, no voucher: nothing to recover.
  const hash = '0x' + 'Ab'.repeat(32);
  const secret = '0x' + 'cD'.repeat(32);
  const routedHeader = (payload: object) => Buffer.from(JSON.stringify({ x402Version: 2, accepted: entry, payload })).toString('base64');

  it('a routed payload is decoded (hash and secret in lower case), with no signer recovered', async () => {
    const r = await check(encodePaymentSignature(entry, { type: 'routed', hash, secret }));
    expect(r).toEqual({ ok: true, accepted: entry, payload: { type: 'routed', hash: hash.toLowerCase(), secret: secret.toLowerCase() } });
  });

  it.each([
    ['a short secret', { type: 'routed', hash, secret: '0x' + 'cd'.repeat(31) }, /Malformed channel payload: secret must be 32 bytes/],
    ['no hash', { type: 'routed', secret }, /Malformed channel payload: hash/],
    ['a voucher beside the secret', { type: 'routed', hash, secret, voucher: {} }, /payload Unrecognized key/],
    ['a channelId beside the secret', { type: 'routed', hash, secret, channelId }, /payload Unrecognized key/],
  ])('a routed payload with %s → { ok: false, status 400 }', async (_name, payload, message) => {
    const r = await check(routedHeader(payload));
    expect(r).toMatchObject({ ok: false, status: 400 });
    expect((r as { message: string }).message).toMatch(message);
  });
});

describe('startHeaderVerifier', () => {
  it('fails at start when the worker module is missing, instead of on the first paid request', async () => {
    await expect(startHeaderVerifier(new URL('../../dist/no-such-worker.js', import.meta.url), 1)).rejects.toThrow(/no-such-worker/);
  });
});
