import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, ethers } from 'ethers';
import { channelFixture, type ChannelFixture } from '../helpers/channels.js';
import { deployPlain } from '../helpers/deploy.js';
import { decodingErrors } from '../helpers/errors.js';
import { domain, sign, voucher } from '../helpers/voucher.js';

const NO_SECRET = '0x';

describe('PaymentChannels: vouchers cannot be replayed elsewhere', () => {
  let f: ChannelFixture;
  let other: ChannelFixture; // a second chain, id 1337

  beforeAll(async () => {
    [f, other] = await Promise.all([channelFixture(), channelFixture({ chainId: 1337 })]);
  });
  afterAll(async () => {
    await Promise.all([f?.anvil.stop(), other?.anvil.stop()]);
  });

  it('on another channel between the same parties', async () => {
    const a = await f.open({ amount: 1000n });
    const b = await f.open({ amount: 1000n });
    const { v, sig } = await f.signed({ channelId: a.id, amount: 500n });
    await expect(f.as(f.payee).update({ ...v, channelId: b.id }, sig, NO_SECRET)).rejects.toThrow(/InvalidSigner/);
    await (await f.as(f.payee).update(v, sig, NO_SECRET)).wait();
    expect((await f.pc.getChannel(a.id)).redeemed).toBe(500n);
    expect((await f.pc.getChannel(b.id)).redeemed).toBe(0n);
  });

  it('on another instance of the contract (plain CREATE)', async () => {
    const copy = await deployPlain(f.deployer, 'PaymentChannels');
    const copyAddress = await copy.getAddress();
    expect(copyAddress).not.toBe(await f.pc.getAddress());
    const salt = ethers.id('same-salt-two-instances');
    const here = await f.open({ amount: 1000n, salt });
    await (await (copy.connect(f.payer) as Contract).open(f.payee.address, ethers.ZeroAddress, 1000n, 3600n, salt, { value: 1000n })).wait();
    const thereId = await copy.channelIdOf(f.payer.address, f.payee.address, ethers.ZeroAddress, salt);
    expect(thereId).not.toBe(here.id); // the id binds the contract address

    const { v, sig } = await f.signed({ channelId: here.id, amount: 400n });
    const asPayee = decodingErrors(copy.connect(f.payee) as Contract);
    await expect(asPayee.update(v, sig, NO_SECRET)).rejects.toThrow(/ChannelNotFound/);
    // Even pointed at the copy's channel, a signature over the first instance's domain fails.
    await expect(asPayee.update({ ...v, channelId: thereId }, sig, NO_SECRET)).rejects.toThrow(/InvalidSigner/);
    const good = voucher({ channelId: thereId, amount: 400n });
    await (await asPayee.update(good, await sign(f.payer, domain(31337, copyAddress), good), NO_SECRET)).wait();
    expect((await copy.getChannel(thereId)).redeemed).toBe(400n);
  });

  it('on another chain where CREATE2 put the contract at the same address', async () => {
    expect(await other.pc.getAddress()).toBe(await f.pc.getAddress());
    const salt = ethers.id('same-salt-two-chains');
    const here = await f.open({ amount: 1000n, salt });
    const there = await other.open({ amount: 1000n, salt });
    expect(there.id).not.toBe(here.id); // the id binds the chain id

    const signedHere = await f.signed({ channelId: here.id, amount: 600n });
    await expect(other.as(other.payee).update(signedHere.v, signedHere.sig, NO_SECRET)).rejects.toThrow(/ChannelNotFound/);
    // A voucher naming the 1337 channel but signed over the 31337 domain is refused.
    const crossDomain = voucher({ channelId: there.id, amount: 600n });
    const sig31337 = await sign(f.payer, f.dom, crossDomain);
    await expect(other.as(other.payee).update(crossDomain, sig31337, NO_SECRET)).rejects.toThrow(/InvalidSigner/);
    await (await other.as(other.payee).update(crossDomain, await sign(other.payer, other.dom, crossDomain), NO_SECRET)).wait();
    expect((await other.pc.getChannel(there.id)).redeemed).toBe(600n);
  });
});
