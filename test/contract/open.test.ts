import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ethers, type Contract } from 'ethers';
import { channelFixture, gasCost, NATIVE, ONE, type ChannelFixture } from '../helpers/channels.js';
import { increaseTime } from '../helpers/anvil.js';
import { artifact, CREATE2_PROXY, deployPlain } from '../helpers/deploy.js';
import { channelId } from '../helpers/voucher.js';

describe('PaymentChannels: open and deposit', () => {
  let f: ChannelFixture;
  let token: Contract;
  let pcAddress: string;

  beforeAll(async () => {
    f = await channelFixture();
    pcAddress = await f.pc.getAddress();
    token = await deployPlain(f.deployer, 'TestToken');
    await (await (token.connect(f.deployer) as Contract).mint(f.payer.address, 1_000_000n)).wait();
    await (await (token.connect(f.payer) as Contract).approve(pcAddress, ethers.MaxUint256)).wait();
  });
  afterAll(async () => f?.anvil.stop());

  it('is deployed by CREATE2 at the proxy-derived address with salt zero', async () => {
    const expected = ethers.getCreate2Address(CREATE2_PROXY, ethers.ZeroHash, ethers.keccak256(artifact('PaymentChannels').bytecode));
    expect(pcAddress).toBe(expected);
    expect(await f.provider.getCode(pcAddress)).not.toBe('0x');
  });

  it('opens a native channel: value moves, event fields, id matches channelIdOf and off-chain formula', async () => {
    const before = await f.provider.getBalance(f.payer.address);
    const salt = ethers.id('native-open');
    const { id, receipt } = await f.open({ amount: ONE, settleDelay: 600n, salt });
    expect(await f.provider.getBalance(pcAddress)).toBe(ONE);
    expect(await f.provider.getBalance(f.payer.address)).toBe(before - ONE - gasCost(receipt));

    expect(id).toBe(channelId(31337, pcAddress, f.payer.address, f.payee.address, NATIVE, salt));
    expect(await f.pc.channelIdOf(f.payer.address, f.payee.address, NATIVE, salt)).toBe(id);

    const log = f.pc.interface.parseLog(receipt.logs[0]!)!;
    expect(log.name).toBe('ChannelOpened');
    expect(log.args.toObject()).toEqual({
      channelId: id, payer: f.payer.address, payee: f.payee.address, token: NATIVE, deposit: ONE, settleDelay: 600n,
    });
    const c = await f.pc.getChannel(id);
    expect(c.toObject()).toEqual({
      payer: f.payer.address, payee: f.payee.address, token: NATIVE, deposit: ONE, redeemed: 0n,
      settleDelay: 600n, settleAt: 0n, minSettleAt: 0n,
    });
  });

  it('opens an ERC-20 channel: tokens move from payer to contract', async () => {
    const tokenAddress = await token.getAddress();
    const before = await token.balanceOf(f.payer.address);
    const { id } = await f.open({ token: tokenAddress, amount: 1000n });
    expect(await token.balanceOf(f.payer.address)).toBe(before - 1000n);
    expect(await token.balanceOf(pcAddress)).toBe(1000n);
    expect((await f.pc.getChannel(id)).deposit).toBe(1000n);
    expect((await f.pc.getChannel(id)).token).toBe(tokenAddress);
  });

  it('credits only what arrived from a fee-on-transfer token', async () => {
    const fee = await deployPlain(f.deployer, 'FeeOnTransferToken');
    await (await (fee.connect(f.deployer) as Contract).mint(f.payer.address, 10_000n)).wait();
    await (await (fee.connect(f.payer) as Contract).approve(pcAddress, ethers.MaxUint256)).wait();
    const { id } = await f.open({ token: await fee.getAddress(), amount: 1000n });
    expect((await f.pc.getChannel(id)).deposit).toBe(990n);
    await (await f.as(f.payer).deposit(id, 500n)).wait();
    expect((await f.pc.getChannel(id)).deposit).toBe(990n + 495n);
  });

  it('refuses msg.value with an ERC-20 and a value different from amount with native', async () => {
    const salt = ethers.id('value');
    await expect(f.as(f.payer).open(f.payee.address, await token.getAddress(), 10n, 60n, salt, { value: 1n })).rejects.toThrow(/InvalidValue/);
    await expect(f.as(f.payer).open(f.payee.address, NATIVE, 10n, 60n, salt, { value: 9n })).rejects.toThrow(/InvalidValue/);
  });

  it('refuses a zero payee, the payer as payee, and a zero settle delay', async () => {
    const salt = ethers.id('bad-args');
    await expect(f.as(f.payer).open(NATIVE, NATIVE, 0n, 60n, salt)).rejects.toThrow(/InvalidPayee/);
    await expect(f.as(f.payer).open(f.payer.address, NATIVE, 0n, 60n, salt)).rejects.toThrow(/InvalidPayee/);
    await expect(f.as(f.payer).open(f.payee.address, NATIVE, 0n, 0n, salt)).rejects.toThrow(/InvalidSettleDelay/);
  });

  it('refuses to reopen an id, even after the channel was collected', async () => {
    const salt = ethers.id('reopen');
    const { id } = await f.open({ salt, amount: 10n });
    await expect(f.open({ salt, amount: 10n })).rejects.toThrow(/ChannelIdUsed/);
    await (await f.as(f.payer).settle(id)).wait();
    await increaseTime(f.anvil.rpcUrl, 3600);
    await (await f.as(f.payer).collect(id)).wait();
    expect((await f.pc.getChannel(id)).payer).toBe(NATIVE);
    await expect(f.open({ salt, amount: 10n })).rejects.toThrow(/ChannelIdUsed/);
  });

  it('deposit: the payer adds funds and ChannelFunded reports the new total', async () => {
    const { id } = await f.open({ amount: 100n });
    const receipt = await (await f.as(f.payer).deposit(id, 50n, { value: 50n })).wait();
    const log = f.pc.interface.parseLog(receipt.logs[0])!;
    expect([log.name, log.args.channelId, log.args.amount, log.args.deposit]).toEqual(['ChannelFunded', id, 50n, 150n]);
    expect((await f.pc.getChannel(id)).deposit).toBe(150n);
  });

  it('deposit: refused from anyone but the payer, on unknown ids, and once settling', async () => {
    const { id } = await f.open({ amount: 100n });
    await expect(f.as(f.payee).deposit(id, 1n, { value: 1n })).rejects.toThrow(/NotPayer/);
    await expect(f.as(f.payer).deposit(ethers.id('nope'), 1n, { value: 1n })).rejects.toThrow(/ChannelNotFound/);
    await (await f.as(f.payee).settle(id)).wait();
    await expect(f.as(f.payer).deposit(id, 1n, { value: 1n })).rejects.toThrow(/AlreadySettling/);
  });
});
