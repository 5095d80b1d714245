import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ethers, TypedDataEncoder } from 'ethers';
import { increaseTime, latestTimestamp } from '../helpers/anvil.js';
import { channelFixture, type ChannelFixture } from '../helpers/channels.js';
import { highS, VOUCHER_TYPES } from '../helpers/voucher.js';

const NO_SECRET = '0x';

describe('PaymentChannels: update (Filecoin UpdateChannelState)', () => {
  let f: ChannelFixture;
  const update = (...args: Parameters<ChannelFixture['signed']>) =>
    f.signed(...args).then(({ v, sig }) => f.as(f.payee).update(v, sig, NO_SECRET));
  const lane = async (id: string, l: bigint) => (await f.pc.getLane(id, l)).toArray();

  beforeAll(async () => {
    f = await channelFixture();
  });
  afterAll(async () => f?.anvil.stop());

  it('voucherDigest equals the EIP-712 hash ethers signs', async () => {
    const { v } = await f.signed({ channelId: ethers.id('x'), amount: 7n, merges: [{ lane: 3n, nonce: 4n }] });
    expect(await f.pc.voucherDigest(v)).toBe(TypedDataEncoder.hash(f.dom, VOUCHER_TYPES, v));
  });

  it('redeems a voucher: lane state, channel redeemed and ChannelUpdated', async () => {
    const { id } = await f.open({ amount: 1000n });
    const receipt = await (await update({ channelId: id, lane: 0n, nonce: 1n, amount: 100n })).wait();
    const log = f.pc.interface.parseLog(receipt.logs[0])!;
    expect([log.name, ...log.args.toArray()]).toEqual(['ChannelUpdated', id, 0n, 1n, 100n]);
    expect(await lane(id, 0n)).toEqual([1n, 100n]);
    expect((await f.pc.getChannel(id)).redeemed).toBe(100n);
    await (await update({ channelId: id, lane: 0n, nonce: 5n, amount: 250n })).wait();
    expect(await lane(id, 0n)).toEqual([5n, 250n]);
    expect((await f.pc.getChannel(id)).redeemed).toBe(250n);
  });

  it('refuses a voucher signed by someone other than the payer', async () => {
    const { id } = await f.open({ amount: 1000n });
    await expect(update({ channelId: id, amount: 1n }, f.stranger)).rejects.toThrow(/InvalidSigner/);
  });

  it('refuses a voucher submitted by anyone but the payee', async () => {
    const { id } = await f.open({ amount: 1000n });
    const { v, sig } = await f.signed({ channelId: id, amount: 1n });
    await expect(f.as(f.payer).update(v, sig, NO_SECRET)).rejects.toThrow(/NotPayee/);
    await expect(f.as(f.stranger).update(v, sig, NO_SECRET)).rejects.toThrow(/NotPayee/);
  });

  it('refuses a nonce equal to the lane nonce', async () => {
    const { id } = await f.open({ amount: 1000n });
    await (await update({ channelId: id, nonce: 2n, amount: 10n })).wait();
    await expect(update({ channelId: id, nonce: 2n, amount: 20n })).rejects.toThrow(/NonceTooLow\(0, 2, 2\)/);
  });

  it('refuses a nonce lower than the lane nonce', async () => {
    const { id } = await f.open({ amount: 1000n });
    await (await update({ channelId: id, nonce: 5n, amount: 10n })).wait();
    await expect(update({ channelId: id, nonce: 4n, amount: 20n })).rejects.toThrow(/NonceTooLow\(0, 5, 4\)/);
  });

  it('refuses an amount above the deposit', async () => {
    const { id } = await f.open({ amount: 1000n });
    await expect(update({ channelId: id, amount: 1001n })).rejects.toThrow(/AmountExceedsDeposit\(1001, 1000\)/);
  });

  it('lets a later voucher lower its own lane (Filecoin: only the payee can lose by it)', async () => {
    const { id } = await f.open({ amount: 1000n });
    await (await update({ channelId: id, nonce: 1n, amount: 300n })).wait();
    await (await update({ channelId: id, nonce: 2n, amount: 299n })).wait();
    expect((await f.pc.getChannel(id)).redeemed).toBe(299n);
  });

  it('refuses a voucher that would leave redeemed negative', async () => {
    const { id } = await f.open({ amount: 1000n });
    await (await update({ channelId: id, lane: 0n, nonce: 1n, amount: 100n })).wait();
    await (await update({ channelId: id, lane: 1n, nonce: 1n, amount: 100n, merges: [{ lane: 0n, nonce: 2n }] })).wait();
    expect((await f.pc.getChannel(id)).redeemed).toBe(100n);
    // 100 + 50 - (100 + 100 + 0) < 0
    const merges = [{ lane: 0n, nonce: 3n }, { lane: 1n, nonce: 2n }];
    await expect(update({ channelId: id, lane: 2n, amount: 50n, merges })).rejects.toThrow(/AmountBelowRedeemed\(50, 200\)/);
  });

  it('refuses a merge of the voucher’s own lane', async () => {
    const { id } = await f.open({ amount: 1000n });
    await expect(update({ channelId: id, lane: 1n, amount: 5n, merges: [{ lane: 1n, nonce: 9n }] })).rejects.toThrow(/MergeSameLane\(1\)/);
  });

  it('refuses a merge whose nonce is not above the merged lane’s', async () => {
    const { id } = await f.open({ amount: 1000n });
    await (await update({ channelId: id, lane: 0n, nonce: 3n, amount: 10n })).wait();
    await expect(update({ channelId: id, lane: 1n, amount: 20n, merges: [{ lane: 0n, nonce: 3n }] })).rejects.toThrow(
      /MergeNonceTooLow\(0, 3, 3\)/,
    );
  });

  it('merges lanes: redeemed = toSend + amount - (merged lanes + own lane), merged nonces raised', async () => {
    const { id } = await f.open({ amount: 1000n });
    await (await update({ channelId: id, lane: 0n, nonce: 1n, amount: 30n })).wait();
    await (await update({ channelId: id, lane: 1n, nonce: 1n, amount: 50n })).wait();
    expect((await f.pc.getChannel(id)).redeemed).toBe(80n);
    const merges = [{ lane: 0n, nonce: 2n }, { lane: 1n, nonce: 7n }];
    await (await update({ channelId: id, lane: 2n, nonce: 1n, amount: 120n, merges })).wait();
    // 80 + 120 - (30 + 50 + 0) = 120: lane 2's voucher covers lanes 0 and 1.
    expect((await f.pc.getChannel(id)).redeemed).toBe(120n);
    expect(await lane(id, 0n)).toEqual([2n, 30n]);
    expect(await lane(id, 1n)).toEqual([7n, 50n]);
    expect(await lane(id, 2n)).toEqual([1n, 120n]);
    await expect(update({ channelId: id, lane: 0n, nonce: 2n, amount: 40n })).rejects.toThrow(/NonceTooLow\(0, 2, 2\)/);
  });

  it('refuses a voucher before timeLockMin and accepts it after', async () => {
    const { id } = await f.open({ amount: 1000n });
    const timeLockMin = (await latestTimestamp(f.anvil.rpcUrl)) + 1000n;
    const { v, sig } = await f.signed({ channelId: id, amount: 1n, timeLockMin });
    await expect(f.as(f.payee).update(v, sig, NO_SECRET)).rejects.toThrow(/TimeLockNotReached/);
    await increaseTime(f.anvil.rpcUrl, 1001);
    await (await f.as(f.payee).update(v, sig, NO_SECRET)).wait();
    expect((await f.pc.getChannel(id)).redeemed).toBe(1n);
  });

  it('refuses a voucher after timeLockMax', async () => {
    const { id } = await f.open({ amount: 1000n });
    const timeLockMax = (await latestTimestamp(f.anvil.rpcUrl)) + 100n;
    const { v, sig } = await f.signed({ channelId: id, amount: 1n, timeLockMax });
    await increaseTime(f.anvil.rpcUrl, 200);
    await expect(f.as(f.payee).update(v, sig, NO_SECRET)).rejects.toThrow(/TimeLockExpired/);
  });

  it('refuses a hash-locked voucher with the wrong secret', async () => {
    const { id } = await f.open({ amount: 1000n });
    const { v, sig } = await f.signed({ channelId: id, amount: 1n, secretHash: ethers.sha256(ethers.toUtf8Bytes('right')) });
    await expect(f.as(f.payee).update(v, sig, ethers.toUtf8Bytes('wrong'))).rejects.toThrow(/WrongSecret/);
    await expect(f.as(f.payee).update(v, sig, NO_SECRET)).rejects.toThrow(/WrongSecret/);
  });

  it('accepts a hash-locked voucher with the SHA-256 preimage (not keccak)', async () => {
    const { id } = await f.open({ amount: 1000n });
    const secret = ethers.randomBytes(32);
    const keccakLocked = await f.signed({ channelId: id, amount: 1n, secretHash: ethers.keccak256(secret) });
    await expect(f.as(f.payee).update(keccakLocked.v, keccakLocked.sig, secret)).rejects.toThrow(/WrongSecret/);
    const { v, sig } = await f.signed({ channelId: id, amount: 2n, secretHash: ethers.sha256(secret) });
    await (await f.as(f.payee).update(v, sig, secret)).wait();
    expect((await f.pc.getChannel(id)).redeemed).toBe(2n);
  });

  it('refuses updates once settleAt has passed', async () => {
    const { id } = await f.open({ amount: 1000n, settleDelay: 60n });
    await (await f.as(f.payer).settle(id)).wait();
    await update({ channelId: id, nonce: 1n, amount: 5n }).then((tx) => tx.wait()); // still inside the delay
    await increaseTime(f.anvil.rpcUrl, 61);
    await expect(update({ channelId: id, nonce: 2n, amount: 10n })).rejects.toThrow(/SettleAtPassed/);
  });

  it('refuses the high-s twin of a valid signature (s\' = n - s, v flipped)', async () => {
    const { id } = await f.open({ amount: 1000n });
    const { v, sig } = await f.signed({ channelId: id, amount: 3n });
    const twin = highS(sig);
    // The bare ecrecover precompile accepts the twin and yields the payer: only the low-s rule stops it.
    const sg = ethers.Signature.from(sig);
    const input = ethers.concat([await f.pc.voucherDigest(v), ethers.toBeHex(sg.v === 27 ? 28 : 27, 32), sg.r, ethers.dataSlice(twin, 32, 64)]);
    const recovered = await f.provider.call({ to: '0x0000000000000000000000000000000000000001', data: input });
    expect(ethers.getAddress(ethers.dataSlice(recovered, 12))).toBe(f.payer.address);
    await expect(f.as(f.payee).update(v, twin, NO_SECRET)).rejects.toThrow(/ECDSAInvalidSignatureS/);
    await (await f.as(f.payee).update(v, sig, NO_SECRET)).wait();
  });

  it('updateMany redeems vouchers over several channels and lanes in one transaction', async () => {
    const a = await f.open({ amount: 1000n });
    const b = await f.open({ amount: 1000n });
    const signed = await Promise.all([
      f.signed({ channelId: a.id, lane: 0n, amount: 10n }),
      f.signed({ channelId: a.id, lane: 1n, amount: 20n }),
      f.signed({ channelId: b.id, lane: 0n, amount: 30n }),
    ]);
    const receipt = await (
      await f.as(f.payee).updateMany(signed.map((s) => s.v), signed.map((s) => s.sig), signed.map(() => NO_SECRET))
    ).wait();
    expect(receipt.logs).toHaveLength(3);
    expect((await f.pc.getChannel(a.id)).redeemed).toBe(30n);
    expect((await f.pc.getChannel(b.id)).redeemed).toBe(30n);
  });

  it('updateMany refuses arrays of different lengths and vouchers of channels paying someone else', async () => {
    const a = await f.open({ amount: 1000n });
    const other = await f.open({ amount: 1000n, to: f.stranger.address });
    const s1 = await f.signed({ channelId: a.id, amount: 1n });
    const s2 = await f.signed({ channelId: other.id, amount: 1n });
    await expect(f.as(f.payee).updateMany([s1.v], [s1.sig, s1.sig], [NO_SECRET])).rejects.toThrow(/LengthMismatch/);
    await expect(f.as(f.payee).updateMany([s1.v, s2.v], [s1.sig, s2.sig], [NO_SECRET, NO_SECRET])).rejects.toThrow(/NotPayee/);
  });
});
