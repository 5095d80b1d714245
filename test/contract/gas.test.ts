import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ethers, type Contract, type TransactionReceipt } from 'ethers';
import { increaseTime } from '../helpers/anvil.js';
import { channelFixture, type ChannelFixture } from '../helpers/channels.js';
import { deployPlain } from '../helpers/deploy.js';

const NO_SECRET = '0x';

/**
 * Issue 13 §4's figures: its targets where the contract reaches them (lifecycle_eth ≤ 139,000,
 * topup_eth ≤ 35,000, batch10_per_channel_eth ≤ 40,000). lifecycle_erc20's target (≤ 112,000)
 * is not reached: the cap is today's value, a regression check (see the packed layout's notes
 * in contracts/PaymentChannels.sol).
 */
const CAP = { lifecycle_eth: 139_000n, lifecycle_erc20: 187_800n, topup_eth: 35_000n, batch10_per_channel_eth: 40_000n };

/**
 * Gas used per operation, printed as a table. Gas is deterministic for a given build, so the
 * caps below are regressions checks with headroom, not timings.
 */
describe('PaymentChannels: gas', () => {
  let f: ChannelFixture;
  const gas: Record<string, bigint> = {};
  const mined = async (p: Promise<{ wait(): Promise<unknown> }>) => ((await (await p).wait()) as TransactionReceipt).gasUsed;

  beforeAll(async () => {
    f = await channelFixture();
  });
  afterAll(async () => {
    console.table(Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, { gas: Number(v) }])));
    await f?.anvil.stop();
  });

  it('native lifecycle: open, deposit, update, settle, collect', async () => {
    const { id, receipt } = await f.open({ amount: 1000n, settleDelay: 60n });
    gas['open (native)'] = receipt.gasUsed;
    gas['deposit (native)'] = await mined(f.as(f.payer).deposit(id, 10n, { value: 10n }));
    const s1 = await f.signed({ channelId: id, nonce: 1n, amount: 100n });
    gas['update (new lane)'] = await mined(f.as(f.payee).update(s1.v, s1.sig, NO_SECRET));
    const s2 = await f.signed({ channelId: id, nonce: 2n, amount: 200n });
    gas['update (same lane)'] = await mined(f.as(f.payee).update(s2.v, s2.sig, NO_SECRET));
    gas['settle'] = await mined(f.as(f.payer).settle(id));
    await increaseTime(f.anvil.rpcUrl, 61);
    gas['collect (native)'] = await mined(f.as(f.payer).collect(id));
    expect(gas['open (native)']).toBeLessThan(150_000n);
    expect(gas['update (new lane)']).toBeLessThan(100_000n);
    expect(gas['collect (native)']).toBeLessThan(80_000n);
  });

  it('three lanes: three updates, one updateMany, or ONE merge voucher (issue 11 §3)', async () => {
    const lanes = [1n, 2n, 3n];
    const three = (channelId: string) => Promise.all(lanes.map((lane) => f.signed({ channelId, lane, nonce: 1n, amount: 100n * lane })));
    const a = (await f.open({ amount: 1000n })).id;
    let separate = 0n;
    for (const s of await three(a)) separate += await mined(f.as(f.payee).update(s.v, s.sig, NO_SECRET));
    gas['3 lanes: 3 updates'] = separate;
    const b = (await f.open({ amount: 1000n })).id;
    const sb = await three(b);
    gas['3 lanes: updateMany'] = await mined(f.as(f.payee).updateMany(sb.map((x) => x.v), sb.map((x) => x.sig), sb.map(() => NO_SECRET)));
    const c = (await f.open({ amount: 1000n })).id;
    const merge = await f.signed({ channelId: c, lane: 0n, nonce: 1n, amount: 600n, merges: lanes.map((lane) => ({ lane, nonce: 2n })) });
    gas['3 lanes: 1 merge voucher'] = await mined(f.as(f.payee).update(merge.v, merge.sig, NO_SECRET));
    expect((await f.pc.getChannel(c)).redeemed).toBe((await f.pc.getChannel(b)).redeemed);
    expect(gas['3 lanes: 1 merge voucher']).toBeLessThan(gas['3 lanes: updateMany']);
    expect(gas['3 lanes: updateMany']).toBeLessThan(gas['3 lanes: 3 updates']);
  });

  it('close and closeMany per channel, native and ERC-20', async () => {
    const { id } = await f.open({ amount: 1000n });
    const s = await f.signed({ channelId: id, amount: 100n });
    gas['close (native)'] = await mined(f.as(f.payee).close(s.v, s.sig, NO_SECRET));

    const token = await deployPlain(f.deployer, 'TestToken');
    const tokenAddress = await token.getAddress();
    await mined((token.connect(f.deployer) as Contract).mint(f.payer.address, 1_000_000n));
    await mined((token.connect(f.payer) as Contract).approve(await f.pc.getAddress(), ethers.MaxUint256));
    await mined((token.connect(f.deployer) as Contract).mint(f.payee.address, 1n)); // like a merchant who already holds the token
    const t = await f.open({ token: tokenAddress, amount: 1000n });
    gas['open (ERC-20)'] = t.receipt.gasUsed;
    const ts = await f.signed({ channelId: t.id, amount: 100n });
    gas['close (ERC-20)'] = await mined(f.as(f.payee).close(ts.v, ts.sig, NO_SECRET));

    for (const n of [1, 5, 10]) {
      const ids = [];
      for (let i = 0; i < n; i++) ids.push((await f.open({ amount: 1000n })).id);
      const signed = await Promise.all(ids.map((channelId) => f.signed({ channelId, amount: 100n })));
      const used = await mined(f.as(f.payee).closeMany(signed.map((x) => x.v), signed.map((x) => x.sig), signed.map(() => NO_SECRET)));
      gas[`closeMany ×${n} (native), per channel`] = used / BigInt(n);
    }
    expect(gas['closeMany ×10 (native), per channel']).toBeLessThan(gas['close (native)']);
  });
  // Issue 13 §4: the four figures `npm run bench -- --json` prints under `gas`, as the issue defines
  // them (full receipt gas; approve excluded; a merchant's token situation: the payee and the
  // contract already hold the token).
  it('issue 13 §4: lifecycle (native and ERC-20), top-up, batch of 10 per channel', async () => {
    const eth = await f.open({ amount: 1000n });
    const es = await f.signed({ channelId: eth.id, amount: 100n });
    gas.lifecycle_eth = eth.receipt.gasUsed + (await mined(f.as(f.payee).close(es.v, es.sig, NO_SECRET)));

    const token = await deployPlain(f.deployer, 'TestToken');
    const tokenAddress = await token.getAddress();
    await mined((token.connect(f.deployer) as Contract).mint(f.payer.address, 1_000_000n));
    await mined((token.connect(f.deployer) as Contract).mint(f.payee.address, 1n));
    await mined((token.connect(f.payer) as Contract).approve(await f.pc.getAddress(), ethers.MaxUint256));
    await f.open({ token: tokenAddress, amount: 5000n }); // the contract already holds the token
    const t = await f.open({ token: tokenAddress, amount: 1000n });
    const ts = await f.signed({ channelId: t.id, amount: 100n });
    gas['lifecycle_erc20: open'] = t.receipt.gasUsed;
    gas['lifecycle_erc20: close'] = await mined(f.as(f.payee).close(ts.v, ts.sig, NO_SECRET));
    gas.lifecycle_erc20 = gas['lifecycle_erc20: open'] + gas['lifecycle_erc20: close'];

    const top = await f.open({ amount: 1000n });
    gas.topup_eth = await mined(f.as(f.payer).deposit(top.id, 10n, { value: 10n }));

    const ids = [];
    for (let i = 0; i < 10; i++) ids.push((await f.open({ amount: 1000n })).id);
    const signed = await Promise.all(ids.map((channelId) => f.signed({ channelId, amount: 100n })));
    gas.batch10_per_channel_eth = (await mined(f.as(f.payee).closeMany(signed.map((x) => x.v), signed.map((x) => x.sig), signed.map(() => NO_SECRET)))) / 10n;

    expect(gas.lifecycle_eth).toBeLessThanOrEqual(CAP.lifecycle_eth);
    expect(gas.lifecycle_erc20).toBeLessThanOrEqual(CAP.lifecycle_erc20);
    expect(gas.topup_eth).toBeLessThanOrEqual(CAP.topup_eth);
    expect(gas.batch10_per_channel_eth).toBeLessThanOrEqual(CAP.batch10_per_channel_eth);
  });
});
