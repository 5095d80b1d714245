import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, ethers, type TransactionReceipt } from 'ethers';
import { increaseTime } from '../helpers/anvil.js';
import { channelFixture, gasCost, NATIVE, type ChannelFixture, channelEvents, mined } from '../helpers/channels.js';
import { deployPlain } from '../helpers/deploy.js';

const NO_SECRET = '0x';
const MAX_UINT96 = (1n << 96n) - 1n;
const MAX_UINT56 = (1n << 56n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * The packed layout (issue 13 §4) keeps every rule: ids never reopen after a close that wrote no
 * lane state, a close still counts lanes redeemed before it, amounts are bounded where they
 * are packed, far-future times still mean "never", and closeMany pays the payee per token run.
 */
describe('PaymentChannels: packed channel state keeps every rule', () => {
  let f: ChannelFixture;
  let pcAddress: string;
  let token: Contract;
  let tokenAddress: string;
  const events = (r: TransactionReceipt) => channelEvents(f.pc, r);

  beforeAll(async () => {
    f = await channelFixture();
    pcAddress = await f.pc.getAddress();
    token = (await deployPlain(f.deployer, 'TestToken')).connect(f.deployer) as Contract;
    tokenAddress = await token.getAddress();
    await mined(token.mint(f.payer.address, 1n << 100n));
    await mined((token.connect(f.payer) as Contract).approve(pcAddress, ethers.MaxUint256));
  });
  afterAll(async () => f?.anvil.stop());

  for (const kind of ['native', 'ERC-20'] as const) {
    it(`${kind}: after a close, the id never reopens and the closed channel's vouchers are refused`, async () => {
      const salt = ethers.id(`packing-reopen-${kind}`);
      const t = kind === 'native' ? NATIVE : tokenAddress;
      const { id } = await f.open({ salt, token: t, amount: 1000n });
      expect((await f.pc.getChannel(id)).token).toBe(t);
      const first = await f.signed({ channelId: id, nonce: 1n, amount: 100n });
      const later = await f.signed({ channelId: id, nonce: 2n, amount: 200n });
      await mined(f.as(f.payee).close(first.v, first.sig, NO_SECRET));
      expect((await f.pc.getChannel(id)).toArray()).toEqual([NATIVE, NATIVE, NATIVE, 0n, 0n, 0n, 0n, 0n]);
      // The lane the close redeemed reads as that voucher left it (kept in the tombstone).
      expect((await f.pc.getLane(id, 0n)).toArray()).toEqual([1n, 100n]);
      expect((await f.pc.getLane(id, 1n)).toArray()).toEqual([0n, 0n]);
      await expect(f.open({ salt, token: t, amount: 1000n })).rejects.toThrow(/ChannelIdUsed/);
      await expect(f.as(f.payee).close(later.v, later.sig, NO_SECRET)).rejects.toThrow(/ChannelNotFound/);
      await expect(f.as(f.payee).update(later.v, later.sig, NO_SECRET)).rejects.toThrow(/ChannelNotFound/);
      await expect(f.as(f.payer).deposit(id, 1n, { value: kind === 'native' ? 1n : 0n })).rejects.toThrow(/ChannelNotFound/);
      await expect(f.as(f.payer).settle(id)).rejects.toThrow(/ChannelNotFound/);
    });
  }

  it('a close counts what update redeemed before: lanes, merges and stale nonces', async () => {
    const { id } = await f.open({ amount: 1000n });
    const l1 = await f.signed({ channelId: id, lane: 1n, nonce: 3n, amount: 100n });
    await mined(f.as(f.payee).update(l1.v, l1.sig, NO_SECRET));
    // Lane 1 is at nonce 3: a close with lane 1's nonce 3 again, or merging it at nonce 3, is refused.
    const stale = await f.signed({ channelId: id, lane: 1n, nonce: 3n, amount: 900n });
    await expect(f.as(f.payee).close(stale.v, stale.sig, NO_SECRET)).rejects.toThrow(/NonceTooLow\(1, 3, 3\)/);
    const staleMerge = await f.signed({ channelId: id, lane: 0n, nonce: 1n, amount: 900n, merges: [{ lane: 1n, nonce: 3n }] });
    await expect(f.as(f.payee).close(staleMerge.v, staleMerge.sig, NO_SECRET)).rejects.toThrow(/MergeNonceTooLow\(1, 3, 3\)/);
    // Lane 0 merging lane 1 for 300 in all: 100 (lane 1) + 300 - 100 = 300 paid, not 400.
    const merge = await f.signed({ channelId: id, lane: 0n, nonce: 1n, amount: 300n, merges: [{ lane: 1n, nonce: 4n }] });
    const payee0 = await f.provider.getBalance(f.payee.address);
    const r = await mined(f.as(f.payee).close(merge.v, merge.sig, NO_SECRET));
    expect(events(r)).toEqual([
      ['ChannelUpdated', id, 0n, 1n, 300n],
      ['ChannelCollected', id, 300n, 700n],
    ]);
    expect((await f.provider.getBalance(f.payee.address)) - payee0 + gasCost(r)).toBe(300n);
    expect((await f.pc.getLane(id, 0n)).toArray()).toEqual([1n, 300n]);
    expect((await f.pc.getLane(id, 1n)).toArray()).toEqual([3n, 100n]); // a close raises no merged lane
  });

  it('after a collect without a close, lanes read as the last update left them', async () => {
    const { id } = await f.open({ amount: 1000n, settleDelay: 60n });
    const l2 = await f.signed({ channelId: id, lane: 2n, nonce: 7n, amount: 40n });
    await mined(f.as(f.payee).update(l2.v, l2.sig, NO_SECRET));
    await mined(f.as(f.payer).settle(id));
    await increaseTime(f.anvil.rpcUrl, 61);
    await mined(f.as(f.payer).collect(id));
    expect((await f.pc.getLane(id, 0n)).toArray()).toEqual([0n, 0n]);
    expect((await f.pc.getLane(id, 2n)).toArray()).toEqual([7n, 40n]);
    expect((await f.pc.getChannel(id)).payer).toBe(NATIVE);
  });

  it('deposits are bounded at 2^96 - 1 base units per channel (DepositTooLarge), not wrapped', async () => {
    await expect(f.open({ token: tokenAddress, amount: MAX_UINT96 + 1n })).rejects.toThrow(/DepositTooLarge/);
    const { id } = await f.open({ token: tokenAddress, amount: MAX_UINT96 });
    expect((await f.pc.getChannel(id)).deposit).toBe(MAX_UINT96);
    await expect(f.as(f.payer).deposit(id, 1n)).rejects.toThrow(/DepositTooLarge/);
    const { v, sig } = await f.signed({ channelId: id, amount: MAX_UINT96 });
    const before = await token.balanceOf(f.payee.address);
    const r = await mined(f.as(f.payee).close(v, sig, NO_SECRET));
    expect(events(r).at(-1)).toEqual(['ChannelCollected', id, MAX_UINT96, 0n]);
    expect((await token.balanceOf(f.payee.address)) - before).toBe(MAX_UINT96);
  });

  it('a minSettleAt past 2^56 seconds holds collect back for ever; the payee can still close', async () => {
    const { id } = await f.open({ amount: 1000n, settleDelay: 60n });
    const far = await f.signed({ channelId: id, nonce: 1n, amount: 100n, minSettleAt: MAX_UINT64 });
    await mined(f.as(f.payee).update(far.v, far.sig, NO_SECRET));
    expect((await f.pc.getChannel(id)).minSettleAt).toBe(MAX_UINT64);
    const r = await mined(f.as(f.payer).settle(id));
    expect(events(r)).toEqual([['ChannelSettling', id, MAX_UINT56]]);
    expect((await f.pc.getChannel(id)).settleAt).toBe(MAX_UINT56);
    await increaseTime(f.anvil.rpcUrl, 3600);
    await expect(f.as(f.payer).collect(id)).rejects.toThrow(/SettleAtNotReached/);
    const last = await f.signed({ channelId: id, nonce: 2n, amount: 150n });
    const c = await mined(f.as(f.payee).close(last.v, last.sig, NO_SECRET));
    expect(events(c).at(-1)).toEqual(['ChannelCollected', id, 150n, 850n]);
  });

  it('closeMany pays the payee once per run of one token, and each payer its refund', async () => {
    const channels = [
      await f.open({ amount: 1000n }),
      await f.open({ token: tokenAddress, amount: 1000n }),
      await f.open({ token: tokenAddress, amount: 1000n }),
      await f.open({ amount: 1000n }),
    ];
    const signed = await Promise.all(channels.map((c, i) => f.signed({ channelId: c.id, amount: 100n * BigInt(i + 1) })));
    const payee0 = await f.provider.getBalance(f.payee.address);
    const tokens0 = await token.balanceOf(f.payee.address);
    const payerTokens0 = await token.balanceOf(f.payer.address);
    const r = await mined(f.as(f.payee).closeMany(signed.map((s) => s.v), signed.map((s) => s.sig), signed.map(() => NO_SECRET)));
    expect(events(r).filter((e) => e[0] === 'ChannelCollected').map((e) => [e[2], e[3]])).toEqual([
      [100n, 900n],
      [200n, 800n],
      [300n, 700n],
      [400n, 600n],
    ]);
    expect((await f.provider.getBalance(f.payee.address)) - payee0 + gasCost(r)).toBe(500n);
    expect((await token.balanceOf(f.payee.address)) - tokens0).toBe(500n);
    expect((await token.balanceOf(f.payer.address)) - payerTokens0).toBe(1500n);
    const transfers = r.logs.filter((l) => l.address === tokenAddress);
    expect(transfers).toHaveLength(3); // two refunds and one payout for the token run
  });
});
