/**
 * The payment-channel manager API as a library (issue 11 §1; seed
 * payment-channel-manager-api.md): every one of the sixteen methods of
 * `PaymentChannelManager`, called from plain code as an embedding program would — no CLI,
 * no wallet home, no keystore: a chain (a real anvil with the contract), a wallet (a private
 * key) and a store path (real SQLite files) for each side.
 *
 * Each step asserts what the chain or the other side sees, not only what the method returns.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, Wallet } from 'ethers';
import { ANVIL_KEYS, increaseTime } from '../helpers/anvil.js';
import { artifact } from '../helpers/deploy.js';
import { startChain, type Chain } from '../helpers/cli.js';
import { PaymentChannelManager, encodeVoucher, InvalidVoucherError, NotFoundError, type EvmVoucher } from '../../src/index.js';
import { contractAddress } from '../../src/families/evm/deploy.js';
import { signVoucher } from '../../src/families/evm/voucher.js';

let chain: Chain;
let payer: PaymentChannelManager;
let payee: PaymentChannelManager;
const payerKey = ANVIL_KEYS[3];
const payeeKey = ANVIL_KEYS[4];
const payeeAddress = new Wallet(payeeKey).address;
let contract: Contract;

beforeAll(async () => {
  chain = await startChain();
  const dir = mkdtempSync(join(tmpdir(), 'channels-lib-'));
  const net = { kind: 'evm' as const, caip2: `eip155:${chain.anvil.chainId}`, rpcUrl: chain.anvil.rpcUrl };
  payer = new PaymentChannelManager({ chain: net, wallet: { name: 'payer', privateKey: payerKey }, store: join(dir, 'payer', 'channels.db') });
  payee = new PaymentChannelManager({ chain: net, wallet: { name: 'payee', privateKey: payeeKey }, store: join(dir, 'payee', 'channels.db') });
  contract = new Contract(contractAddress(), artifact('PaymentChannels').abi, chain.provider);
}, 60_000);
afterAll(async () => {
  payer?.close();
  payee?.close();
  await chain?.stop();
});

describe('PaymentChannelManager from a plain program', () => {
  let ch: string;

  it('create, list, status, addFunds: the deposit on chain is what status shows', async () => {
    expect(await payer.address()).toBe(new Wallet(payerKey).address);
    const r = await payer.create(payeeAddress, 1_000_000n, { settleDelay: 3600 });
    ch = r.channel;
    expect(r.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await contract.getChannel(ch)).deposit).toBe(1_000_000n);
    expect(await payer.list()).toEqual([ch]);
    const s = await payer.status(ch);
    expect(s).toMatchObject({ channel: ch, direction: 'outbound', to: payeeAddress, confirmed: 1_000_000n, pending: 0n, queued: 0n, reserved: 0n, spent: 0n, available: 1_000_000n });

    const tx = await payer.addFunds(ch, 500_000n);
    expect((await chain.provider.getTransactionReceipt(tx))?.status).toBe(1);
    expect((await contract.getChannel(ch)).deposit).toBe(1_500_000n);
    expect((await payer.status(ch)).confirmed).toBe(1_500_000n);
  });

  it('reserveFunds within the funds sends nothing; releaseFunds gives them back; a voucher consumes a reservation', async () => {
    expect(await payer.reserveFunds(ch, 400_000n)).toBeNull();
    expect(await payer.status(ch)).toMatchObject({ reserved: 400_000n, available: 1_100_000n });
    await payer.releaseFunds(ch, 100_000n);
    expect(await payer.status(ch)).toMatchObject({ reserved: 300_000n, available: 1_200_000n });
    await expect(payer.releaseFunds(ch, 300_001n)).rejects.toThrow(/reserved/i);

    const { voucher, shortfall } = await payer.voucherCreate(ch, 1000n, 0n);
    expect(shortfall).toBe(0n);
    expect(voucher).toMatchObject({ channelId: ch, lane: 0n, nonce: 1n, amount: 1000n });
    expect(await payer.status(ch)).toMatchObject({ spent: 1000n, reserved: 299_000n });
    await payer.releaseFunds(ch, 299_000n);
  });

  it('reserveFunds beyond the funds returns the top-up transaction at once; the deposit covers the reservation', async () => {
    const before = (await contract.getChannel(ch)).deposit as bigint;
    const tx = await payer.reserveFunds(ch, before + 10_000n);
    expect(tx).toMatch(/^0x[0-9a-f]{64}$/);
    const receipt = await chain.provider.waitForTransaction(tx!);
    expect(receipt?.status).toBe(1);
    const s = await payer.status(ch); // advances the mined deposit
    expect(s.pending + s.confirmed).toBeGreaterThanOrEqual(s.spent + s.reserved);
    expect((await contract.getChannel(ch)).deposit).toBeGreaterThanOrEqual(s.spent + s.reserved);
    await payer.releaseFunds(ch, s.reserved);
  });

  it('voucherCreate beyond the funds gives no voucher and the shortfall; nothing is stored', async () => {
    const deposit = (await payer.status(ch)).confirmed;
    const before = (await payer.voucherList(ch)).length;
    const r = await payer.voucherCreate(ch, deposit + 1n, 0n);
    expect(r.voucher).toBeNull();
    expect(r.shortfall).toBe(1n); // lane 0's new total alone is the deposit + 1
    expect((await payer.voucherList(ch)).length).toBe(before);
  });

  it('allocateLane hands out lanes never used; lookup finds the channel to a payee', async () => {
    const a = await payer.allocateLane(ch);
    const b = await payer.allocateLane(ch);
    expect(a).toBeGreaterThan(0n);
    expect(b).toBeGreaterThan(a);
    expect(await payer.lookup(payeeAddress)).toBe(ch);
    await expect(payer.lookup(Wallet.createRandom().address)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('voucherCheckValid, voucherAdd (minDelta), voucherList and voucherSubmit on the payee side', async () => {
    const lane = await payer.allocateLane(ch);
    const { voucher } = await payer.voucherCreate(ch, 5000n, lane);
    const token = encodeVoucher(voucher!);
    await payee.voucherCheckValid(ch, token);
    await expect(payee.voucherAdd(ch, token, undefined, 5001n)).rejects.toBeInstanceOf(InvalidVoucherError);
    expect(await payee.voucherAdd(ch, token, undefined, 5000n)).toBe(5000n);
    expect((await payee.voucherList(ch)).map((v) => [v.lane, v.nonce, v.amount])).toEqual([[lane, 1n, 5000n]]);
    await expect(payee.voucherCheckValid(ch, token)).rejects.toThrow(/not newer/);

    const tx = await payee.voucherSubmit(ch, voucher!);
    expect((await chain.provider.getTransactionReceipt(tx))?.status).toBe(1);
    const [nonce, redeemed] = await contract.getLane(ch, lane);
    expect([nonce, redeemed]).toEqual([1n, 5000n]);
    // Idempotent: the same voucher again names the transaction that redeemed it.
    expect(await payee.voucherSubmit(ch, voucher!)).toBe(tx);
  });

  it('voucherCheckSpendable and voucherSubmit with a hash lock: only the right secret redeems', async () => {
    const secret = randomBytes(32);
    const secretHash = '0x' + createHash('sha256').update(secret).digest('hex');
    const lane = await payer.allocateLane(ch);
    const chainId = BigInt(chain.anvil.chainId);
    const locked: EvmVoucher = signVoucher(
      { channelId: ch, lane, nonce: 1n, amount: 700n, secretHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] },
      new Wallet(payerKey), chainId, contractAddress(),
    );
    await payee.voucherCheckValid(ch, locked); // valid: CheckValid ignores the lock
    expect(await payee.voucherCheckSpendable(ch, locked)).toBe(false);
    expect(await payee.voucherCheckSpendable(ch, locked, randomBytes(32))).toBe(false);
    expect(await payee.voucherCheckSpendable(ch, locked, secret)).toBe(true);
    await expect(payee.voucherAdd(ch, locked)).rejects.toThrow(/hash-locked/);

    const redeemedBefore = (await contract.getChannel(ch)).redeemed as bigint;
    await expect(payee.voucherSubmit(ch, locked, '0x' + 'ab'.repeat(32))).rejects.toBeInstanceOf(InvalidVoucherError);
    expect((await contract.getChannel(ch)).redeemed).toBe(redeemedBefore);
    const tx = await payee.voucherSubmit(ch, locked, secret);
    expect((await chain.provider.getTransactionReceipt(tx))?.status).toBe(1);
    expect((await contract.getChannel(ch)).redeemed).toBe(redeemedBefore + 700n);
  });

  it('settle then collect: the payee is paid what was redeemed, the payer the rest', async () => {
    const on = await contract.getChannel(ch);
    const tx = await payer.settle(ch);
    expect((await chain.provider.getTransactionReceipt(tx))?.status).toBe(1);
    expect((await contract.getChannel(ch)).settleAt).toBeGreaterThan(0n);
    await expect(payer.collect(ch)).rejects.toThrow(/cannot be collected yet/);
    await increaseTime(chain.anvil.rpcUrl, 3601);
    const payeeBefore = await chain.provider.getBalance(payeeAddress);
    const ctx = await payer.collect(ch);
    const receipt = await chain.provider.getTransactionReceipt(ctx);
    expect(receipt?.status).toBe(1);
    expect(await chain.provider.getBalance(payeeAddress)).toBe(payeeBefore + (on.redeemed as bigint));
    expect((await contract.getChannel(ch)).payer).toBe('0x' + '0'.repeat(40));
    expect((await payer.status(ch)).state).toBe('closed');
  });
});
