import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, ethers } from 'ethers';
import { increaseTime } from '../helpers/anvil.js';
import { channelFixture, NATIVE, type ChannelFixture } from '../helpers/channels.js';
import { deployPlain } from '../helpers/deploy.js';
import { decodeRevert, decodingErrors } from '../helpers/errors.js';

const NO_SECRET = '0x';

describe('PaymentChannels: reentrant receivers and tokens cannot take more', () => {
  let f: ChannelFixture;
  let pcAddress: string;
  const balance = (a: string) => f.provider.getBalance(a);

  beforeAll(async () => {
    f = await channelFixture();
    pcAddress = await f.pc.getAddress();
  });
  afterAll(async () => f?.anvil.stop());

  it('a payee contract re-entering close while paid in native currency gets only what was redeemed', async () => {
    const attacker = decodingErrors(await deployPlain(f.deployer, 'ReentrantPayee', pcAddress));
    const attackerAddress = await attacker.getAddress();
    const { id } = await f.open({ to: attackerAddress, amount: 1000n });
    await f.open({ amount: 5000n }); // someone else's money the attacker would like to reach
    const { v, sig } = await f.signed({ channelId: id, amount: 300n });
    // On being paid, try to close the same channel again with the same voucher.
    await (await (attacker.connect(f.deployer) as Contract).arm(f.pc.interface.encodeFunctionData('close', [v, sig, NO_SECRET]))).wait();
    const pool0 = await balance(pcAddress);
    const payer0 = await balance(f.payer.address);
    await (await (attacker.connect(f.stranger) as Contract).close(v, sig, NO_SECRET)).wait();

    expect(await attacker.attempts()).toBe(1n);
    expect(await attacker.successes()).toBe(0n);
    expect(decodeRevert(await attacker.lastError())).toBe('ReentrancyGuardReentrantCall()');
    expect(await balance(attackerAddress)).toBe(300n);
    expect((await balance(f.payer.address)) - payer0).toBe(700n);
    expect(pool0 - (await balance(pcAddress))).toBe(1000n);
  });

  it('a payer contract re-entering collect on its refund gets only the refund', async () => {
    const attacker = decodingErrors(await deployPlain(f.deployer, 'ReentrantPayee', pcAddress));
    const attackerAddress = await attacker.getAddress();
    const salt = ethers.id('reentrant-payer');
    await (await (attacker.connect(f.deployer) as Contract).open(f.payee.address, 60n, salt, { value: 1000n })).wait();
    const id = await f.pc.channelIdOf(attackerAddress, f.payee.address, NATIVE, salt);
    await (await (attacker.connect(f.deployer) as Contract).settle(id)).wait();
    await increaseTime(f.anvil.rpcUrl, 61);
    await (await (attacker.connect(f.deployer) as Contract).arm(f.pc.interface.encodeFunctionData('collect', [id]))).wait();

    const pool0 = await balance(pcAddress);
    await (await (attacker.connect(f.deployer) as Contract).collect(id)).wait();
    expect(await attacker.attempts()).toBe(1n);
    expect(await attacker.successes()).toBe(0n);
    expect(decodeRevert(await attacker.lastError())).toBe('ReentrancyGuardReentrantCall()');
    expect(await balance(attackerAddress)).toBe(1000n);
    expect(pool0 - (await balance(pcAddress))).toBe(1000n);
  });

  it('a token calling back into the contract during a payout cannot collect twice', async () => {
    const token = await deployPlain(f.deployer, 'ReentrantToken');
    const tokenAddress = await token.getAddress();
    await (await (token.connect(f.deployer) as Contract).mint(f.payer.address, 10_000n)).wait();
    await (await (token.connect(f.payer) as Contract).approve(pcAddress, ethers.MaxUint256)).wait();
    const { id } = await f.open({ token: tokenAddress, amount: 1000n });
    await f.open({ token: tokenAddress, amount: 4000n }); // other funds held in the same token
    await (await (token.connect(f.deployer) as Contract).arm(pcAddress, f.pc.interface.encodeFunctionData('collect', [id]))).wait();

    const { v, sig } = await f.signed({ channelId: id, amount: 250n });
    await (await f.as(f.payee).close(v, sig, NO_SECRET)).wait();
    expect(await token.attempts()).toBe(1n);
    expect(await token.successes()).toBe(0n);
    expect(decodeRevert(await token.lastError())).toBe('ReentrancyGuardReentrantCall()');
    expect(await token.balanceOf(f.payee.address)).toBe(250n);
    expect(await token.balanceOf(f.payer.address)).toBe(10_000n - 5000n + 750n);
    expect(await token.balanceOf(pcAddress)).toBe(4000n);
  });
});
