import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ethers, type Contract, type TransactionReceipt } from 'ethers';
import { increaseTime, latestTimestamp } from '../helpers/anvil.js';
import { channelFixture, gasCost, NATIVE, ONE, type ChannelFixture, channelEvents, mined } from '../helpers/channels.js';
import { deployPlain } from '../helpers/deploy.js';

const NO_SECRET = '0x';

describe('PaymentChannels: settle, collect and close', () => {
  let f: ChannelFixture;
  const events = (r: TransactionReceipt) => channelEvents(f.pc, r);

  beforeAll(async () => {
    f = await channelFixture();
  });
  afterAll(async () => f?.anvil.stop());

  it('settle by the payee sets settleAt = now + settleDelay', async () => {
    const { id } = await f.open({ settleDelay: 600n });
    const r = await mined(f.as(f.payee).settle(id));
    const now = BigInt((await f.provider.getBlock(r.blockNumber))!.timestamp);
    expect(events(r)).toEqual([['ChannelSettling', id, now + 600n]]);
    expect((await f.pc.getChannel(id)).settleAt).toBe(now + 600n);
  });

  it('settle by a stranger is refused', async () => {
    const { id } = await f.open();
    await expect(f.as(f.stranger).settle(id)).rejects.toThrow(/NotParticipant/);
  });

  it('settle twice is refused', async () => {
    const { id } = await f.open();
    await mined(f.as(f.payer).settle(id));
    await expect(f.as(f.payer).settle(id)).rejects.toThrow(/AlreadySettling/);
    await expect(f.as(f.payee).settle(id)).rejects.toThrow(/AlreadySettling/);
  });

  it('a voucher’s minSettleAt holds settleAt back, before and after settle started', async () => {
    const before = await f.open({ settleDelay: 60n });
    const minSettleAt = (await latestTimestamp(f.anvil.rpcUrl)) + 5000n;
    const s1 = await f.signed({ channelId: before.id, amount: 1n, minSettleAt });
    await mined(f.as(f.payee).update(s1.v, s1.sig, NO_SECRET));
    expect((await f.pc.getChannel(before.id)).minSettleAt).toBe(minSettleAt);
    await mined(f.as(f.payer).settle(before.id));
    expect((await f.pc.getChannel(before.id)).settleAt).toBe(minSettleAt);

    const after = await f.open({ settleDelay: 60n });
    await mined(f.as(f.payer).settle(after.id));
    const s2 = await f.signed({ channelId: after.id, amount: 1n, minSettleAt });
    const r = await mined(f.as(f.payee).update(s2.v, s2.sig, NO_SECRET));
    expect(events(r)[1]).toEqual(['ChannelSettling', after.id, minSettleAt]);
    expect((await f.pc.getChannel(after.id)).settleAt).toBe(minSettleAt);
  });

  it('collect is refused before settle, before settleAt, and from a stranger', async () => {
    const { id } = await f.open({ settleDelay: 600n });
    await expect(f.as(f.payer).collect(id)).rejects.toThrow(/NotSettling/);
    await mined(f.as(f.payer).settle(id));
    await expect(f.as(f.payer).collect(id)).rejects.toThrow(/SettleAtNotReached/);
    await increaseTime(f.anvil.rpcUrl, 601);
    await expect(f.as(f.stranger).collect(id)).rejects.toThrow(/NotParticipant/);
  });

  it('collect after settleAt pays redeemed to the payee, refunds the rest, and paid + refunded == deposit', async () => {
    const deposit = ONE;
    const { id } = await f.open({ amount: deposit, settleDelay: 600n });
    const { v, sig } = await f.signed({ channelId: id, amount: ethers.parseEther('0.3') });
    await mined(f.as(f.payee).update(v, sig, NO_SECRET));
    await mined(f.as(f.payee).settle(id));
    await increaseTime(f.anvil.rpcUrl, 601);

    const payer0 = await f.provider.getBalance(f.payer.address);
    const payee0 = await f.provider.getBalance(f.payee.address);
    const contract0 = await f.provider.getBalance(await f.pc.getAddress());
    const r = await mined(f.as(f.payer).collect(id));
    const paid = (await f.provider.getBalance(f.payee.address)) - payee0;
    const refunded = (await f.provider.getBalance(f.payer.address)) - payer0 + gasCost(r);

    expect(paid).toBe(ethers.parseEther('0.3'));
    expect(refunded).toBe(ethers.parseEther('0.7'));
    expect(paid + refunded).toBe(deposit);
    expect(contract0 - (await f.provider.getBalance(await f.pc.getAddress()))).toBe(deposit);
    expect(events(r)).toEqual([['ChannelCollected', id, paid, refunded]]);
    expect((await f.pc.getChannel(id)).payer).toBe(NATIVE);
    await expect(f.as(f.payer).collect(id)).rejects.toThrow(/ChannelNotFound/);
  });

  it('close is refused from anyone but the payee', async () => {
    const { id } = await f.open();
    const { v, sig } = await f.signed({ channelId: id, amount: 1n });
    await expect(f.as(f.payer).close(v, sig, NO_SECRET)).rejects.toThrow(/NotPayee/);
    await expect(f.as(f.stranger).close(v, sig, NO_SECRET)).rejects.toThrow(/NotPayee/);
  });

  it('close redeems and collects at once, without waiting for a delay', async () => {
    const { id } = await f.open({ amount: ONE, settleDelay: 86_400n });
    const amount = ethers.parseEther('0.25');
    const { v, sig } = await f.signed({ channelId: id, amount });
    const payer0 = await f.provider.getBalance(f.payer.address);
    const payee0 = await f.provider.getBalance(f.payee.address);
    const r = await mined(f.as(f.payee).close(v, sig, NO_SECRET));
    expect((await f.provider.getBalance(f.payee.address)) - payee0 + gasCost(r)).toBe(amount);
    expect((await f.provider.getBalance(f.payer.address)) - payer0).toBe(ONE - amount);
    expect(events(r)).toEqual([
      ['ChannelUpdated', id, 0n, 1n, amount],
      ['ChannelCollected', id, amount, ONE - amount],
    ]);
    expect((await f.pc.getChannel(id)).deposit).toBe(0n);
  });

  it('closeMany closes several native and ERC-20 channels in one transaction', async () => {
    const token = await deployPlain(f.deployer, 'TestToken');
    const pcAddress = await f.pc.getAddress();
    await mined((token.connect(f.deployer) as Contract).mint(f.payer.address, 10_000n));
    await mined((token.connect(f.payer) as Contract).approve(pcAddress, ethers.MaxUint256));
    const channels = [
      await f.open({ amount: 1000n }),
      await f.open({ amount: 2000n }),
      await f.open({ token: await token.getAddress(), amount: 3000n }),
    ];
    const signed = await Promise.all(channels.map((c, i) => f.signed({ channelId: c.id, amount: 100n * BigInt(i + 1) })));
    const r = await mined(f.as(f.payee).closeMany(signed.map((s) => s.v), signed.map((s) => s.sig), signed.map(() => NO_SECRET)));
    const collected = events(r).filter((e) => e[0] === 'ChannelCollected');
    expect(collected).toEqual([
      ['ChannelCollected', channels[0]!.id, 100n, 900n],
      ['ChannelCollected', channels[1]!.id, 200n, 1800n],
      ['ChannelCollected', channels[2]!.id, 300n, 2700n],
    ]);
    expect(await token.balanceOf(f.payee.address)).toBe(300n);
    expect(await token.balanceOf(pcAddress)).toBe(0n);
    for (const c of channels) expect((await f.pc.getChannel(c.id)).payer).toBe(NATIVE);
  });

  it('closeMany refuses mismatched arrays and a channel whose payee is someone else', async () => {
    const mine = await f.open();
    const theirs = await f.open({ to: f.stranger.address });
    const a = await f.signed({ channelId: mine.id, amount: 1n });
    const b = await f.signed({ channelId: theirs.id, amount: 1n });
    await expect(f.as(f.payee).closeMany([a.v, b.v], [a.sig], [NO_SECRET, NO_SECRET])).rejects.toThrow(/LengthMismatch/);
    await expect(f.as(f.payee).closeMany([a.v, b.v], [a.sig, b.sig], [NO_SECRET, NO_SECRET])).rejects.toThrow(/NotPayee/);
  });
});
