import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, ethers, type TransactionReceipt } from 'ethers';
import { increaseTime } from '../helpers/anvil.js';
import { channelFixture, gasCost, NATIVE, type ChannelFixture, channelEvents, mined } from '../helpers/channels.js';
import { deployPlain } from '../helpers/deploy.js';
import { decodeRevert, decodingErrors } from '../helpers/errors.js';

const NO_SECRET = '0x';

/**
 * Issue 13 §4: a side that refuses its payout (a contract whose `receive` reverts, an address a
 * token blocks) no longer blocks `collect`/`close` for the other side: its amount is held for
 * it (`payments`) and it takes it with `withdraw`.
 */
describe('PaymentChannels: a receiver that refuses its payout', () => {
  let f: ChannelFixture;
  let pcAddress: string;
  const balance = (a: string) => f.provider.getBalance(a);
  const events = (r: TransactionReceipt) => channelEvents(f.pc, r);
  const rejectingContract = async () => {
    const c = decodingErrors((await deployPlain(f.deployer, 'ReentrantPayee', pcAddress)).connect(f.deployer) as Contract);
    await mined(c.setRejecting(true));
    return { c, address: await c.getAddress() };
  };

  beforeAll(async () => {
    f = await channelFixture();
    pcAddress = await f.pc.getAddress();
  });
  afterAll(async () => f?.anvil.stop());

  it("a payee that rejects the native coin: the payer's collect still refunds it; the payee withdraws later", async () => {
    const payee = await rejectingContract();
    const { id } = await f.open({ to: payee.address, amount: 1000n, settleDelay: 60n });
    await f.open({ amount: 5000n }); // someone else's money in the contract
    const { v, sig } = await f.signed({ channelId: id, amount: 300n });
    await mined(payee.c.update(v, sig, NO_SECRET));
    await mined(f.as(f.payer).settle(id));
    await increaseTime(f.anvil.rpcUrl, 61);
    // Before, the push to the payee reverted the whole collect and the payer's 700 stayed locked.
    const payer0 = await balance(f.payer.address);
    const r = await mined(f.as(f.payer).collect(id));
    expect(events(r)).toEqual([
      ['ChannelCollected', id, 300n, 700n],
      ['PaymentDeferred', payee.address, NATIVE, 300n],
    ]);
    expect((await balance(f.payer.address)) - payer0 + gasCost(r)).toBe(700n);
    expect(await f.pc.payments(NATIVE, payee.address)).toBe(300n);

    // The payee closing itself: its own share is held, the payer's refund goes out.
    const second = await f.open({ to: payee.address, amount: 1000n, settleDelay: 60n });
    const s2 = await f.signed({ channelId: second.id, amount: 300n });
    const r2 = await mined(payee.c.close(s2.v, s2.sig, NO_SECRET));
    expect(events(r2)).toEqual([
      ['ChannelUpdated', second.id, 0n, 1n, 300n],
      ['ChannelCollected', second.id, 300n, 700n],
      ['PaymentDeferred', payee.address, NATIVE, 300n],
    ]);
    expect(await balance(payee.address)).toBe(0n);
    expect(await f.pc.payments(NATIVE, payee.address)).toBe(600n);
    expect(await balance(pcAddress)).toBe(5600n);

    // Still rejecting: withdrawing to itself fails and keeps the balance; to another address works.
    await expect(payee.c.withdraw(NATIVE, payee.address)).rejects.toThrow(/NativeTransferFailed/);
    expect(await f.pc.payments(NATIVE, payee.address)).toBe(600n);
    const elsewhere = ethers.Wallet.createRandom().address;
    const w = await mined(payee.c.withdraw(NATIVE, elsewhere));
    expect(events(w)).toEqual([['Withdrawn', payee.address, NATIVE, elsewhere, 600n]]);
    expect(await balance(elsewhere)).toBe(600n);
    expect(await f.pc.payments(NATIVE, payee.address)).toBe(0n);
    await expect(payee.c.withdraw(NATIVE, elsewhere)).rejects.toThrow(/NoPayment/);
    expect(await balance(pcAddress)).toBe(5000n);
  });

  it("a payer that rejects its refund: the payee's close still pays the payee; the refund is held for the payer", async () => {
    const payer = await rejectingContract();
    const salt = ethers.id('rejecting-payer');
    await mined(payer.c.open(f.payee.address, 60n, salt, { value: 1000n }));
    const id = await f.pc.channelIdOf(payer.address, f.payee.address, NATIVE, salt);
    // The voucher is signed by the payer, so this payer contract's channel is closed through collect.
    await mined(payer.c.settle(id));
    await increaseTime(f.anvil.rpcUrl, 61);
    const r = await mined(f.as(f.payee).collect(id));
    expect(events(r)).toEqual([
      ['ChannelCollected', id, 0n, 1000n],
      ['PaymentDeferred', payer.address, NATIVE, 1000n],
    ]);
    expect(await f.pc.payments(NATIVE, payer.address)).toBe(1000n);
    await mined(payer.c.setRejecting(false));
    await mined(payer.c.withdraw(NATIVE, payer.address));
    expect(await balance(payer.address)).toBe(1000n);
  });

  it("a payee burning all the gas it is given cannot block the payer's collect: it is given 100,000 at most", async () => {
    const payee = await rejectingContract();
    await mined(payee.c.setRejecting(false));
    const { id } = await f.open({ to: payee.address, amount: 1000n, settleDelay: 60n });
    const { v, sig } = await f.signed({ channelId: id, amount: 300n });
    await mined(payee.c.update(v, sig, NO_SECRET));
    await mined(payee.c.setBurning(true));
    await mined(f.as(f.payer).settle(id));
    await increaseTime(f.anvil.rpcUrl, 61);
    const payer0 = await balance(f.payer.address);
    // A plain gas limit, far below what 63/64 of it forwarded to the payee and burnt would need.
    const r = await mined(f.as(f.payer).collect(id, { gasLimit: 300_000n }));
    expect(r.gasUsed).toBeLessThan(200_000n);
    expect(events(r)).toEqual([
      ['ChannelCollected', id, 300n, 700n],
      ['PaymentDeferred', payee.address, NATIVE, 300n],
    ]);
    expect((await balance(f.payer.address)) - payer0 + gasCost(r)).toBe(700n);
    expect(await f.pc.payments(NATIVE, payee.address)).toBe(300n);
  });

  it('a payee re-entering on receive gains nothing: not through withdraw, not through close', async () => {
    const payee = await rejectingContract();
    const first = await f.open({ to: payee.address, amount: 1000n });
    const s1 = await f.signed({ channelId: first.id, amount: 400n });
    await mined(payee.c.close(s1.v, s1.sig, NO_SECRET)); // 400 held
    await mined(payee.c.setRejecting(false));

    // Paid by a second close, it re-enters withdraw to take the held 400 inside the payout.
    const second = await f.open({ to: payee.address, amount: 1000n });
    const s2 = await f.signed({ channelId: second.id, amount: 100n });
    await mined(payee.c.arm(f.pc.interface.encodeFunctionData('withdraw', [NATIVE, payee.address])));
    await mined(payee.c.close(s2.v, s2.sig, NO_SECRET));
    expect(await payee.c.successes()).toBe(0n);
    expect(decodeRevert(await payee.c.lastError())).toBe('ReentrancyGuardReentrantCall()');
    expect(await balance(payee.address)).toBe(100n);

    // Withdrawing, it re-enters withdraw again: the balance is zeroed first and the guard holds.
    await mined(payee.c.arm(f.pc.interface.encodeFunctionData('withdraw', [NATIVE, payee.address])));
    await mined(payee.c.withdraw(NATIVE, payee.address));
    expect(await payee.c.attempts()).toBe(2n);
    expect(await payee.c.successes()).toBe(0n);
    expect(await balance(payee.address)).toBe(500n);
    expect(await f.pc.payments(NATIVE, payee.address)).toBe(0n);
  });

  it('a token that blocks the payee: the payer is refunded, the payee withdraws to another address', async () => {
    const token = (await deployPlain(f.deployer, 'BlockingToken')).connect(f.deployer) as Contract;
    const tokenAddress = await token.getAddress();
    await mined(token.mint(f.payer.address, 10_000n));
    await mined((token.connect(f.payer) as Contract).approve(pcAddress, ethers.MaxUint256));
    const { id } = await f.open({ token: tokenAddress, amount: 1000n });
    await mined(token.setBlocked(f.payee.address, true));
    const { v, sig } = await f.signed({ channelId: id, amount: 250n });
    const r = await mined(f.as(f.payee).close(v, sig, NO_SECRET));
    expect(events(r).slice(1)).toEqual([
      ['ChannelCollected', id, 250n, 750n],
      ['PaymentDeferred', f.payee.address, tokenAddress, 250n],
    ]);
    expect(await token.balanceOf(f.payer.address)).toBe(9750n);
    expect(await f.pc.payments(tokenAddress, f.payee.address)).toBe(250n);
    await mined(f.as(f.payee).withdraw(tokenAddress, f.stranger.address));
    expect(await token.balanceOf(f.stranger.address)).toBe(250n);
    expect(await token.balanceOf(pcAddress)).toBe(0n);
  });
});
