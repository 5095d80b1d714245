/**
 * The whole channel lifecycle through the real binary against a real anvil and a
 * real `channels serve`: open by buying, pay, then (1) a cooperative close the payer
 * asks for, (2) a close by the payee, (3) payer settle → collect after the delay.
 * Balances are read from the chain and reconciled to the wei.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { increaseTime } from '../helpers/anvil.js';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';

const PRICE = 1000n;
const DEPOSIT = 10n ** 17n; // 0.1 ETH

let chain: Chain;
let payee: TestWallet;
let serve: Serve;

beforeAll(async () => {
  chain = await startChain();
  payee = await makeWallet('shop', chain.anvil.rpcUrl);
  await chain.fund(payee.address, '1');
  serve = await startServe(payee, ['--price', PRICE.toString()]);
});

afterAll(async () => {
  await serve?.stop();
  await chain?.stop();
});

async function fee(hash: string): Promise<bigint> {
  const r = await chain.provider.getTransactionReceipt(hash);
  return r!.gasUsed * r!.gasPrice;
}

/** A fresh funded payer that buys `n` times; returns its channel id and open tx. */
async function payerWithPurchases(name: string, n: number, extra: string[] = []) {
  const payer = await makeWallet(name, chain.anvil.rpcUrl);
  await chain.fund(payer.address, '5');
  let channelId = '';
  let openTx = '';
  for (let i = 0; i < n; i++) {
    const r = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.1eth', '--yes', '--json', ...extra]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.status).toBe(200);
    expect(JSON.parse(r.json.body)).toHaveProperty('city');
    expect(r.json.paid).toBe(PRICE.toString());
    expect(r.json.voucher.nonce).toBe(String(i + 1));
    expect(r.json.voucher.amount).toBe((PRICE * BigInt(i + 1)).toString());
    if (i === 0) {
      expect(r.json.opened?.channelId).toBe(r.json.channelId);
      openTx = r.json.opened.tx;
    } else {
      expect(r.json.opened).toBeNull();
      expect(r.json.channelId).toBe(channelId); // later calls reuse the channel
    }
    channelId = r.json.channelId;
  }
  return { payer, channelId, openTx };
}

describe('lifecycle', () => {
  it('payer asks the merchant to close: payee redeems exactly what was served, the rest is refunded', async () => {
    const { payer, channelId, openTx } = await payerWithPurchases('alice', 3);
    const payerBefore = await chain.balance(payer.address);
    const payeeBefore = await chain.balance(payee.address);

    const closed = await payer.run(['close', channelId.slice(0, 12), '--json']);
    expect(closed.code, closed.stdout + closed.stderr).toBe(0);
    expect(closed.json.result).toBe('closed');
    expect(closed.json.paidToPayee).toBe((3n * PRICE).toString());
    expect(closed.json.refundedToPayer).toBe((DEPOSIT - 3n * PRICE).toString());

    const payeeGas = await fee(closed.json.transaction);
    expect(await chain.balance(payee.address)).toBe(payeeBefore + 3n * PRICE - payeeGas);
    expect(await chain.balance(payer.address)).toBe(payerBefore + DEPOSIT - 3n * PRICE);
    expect(await fee(openTx)).toBeGreaterThan(0n);

    const mine = await payer.run(['status', channelId, '--json']);
    expect(mine.json.state).toBe('closed');
    expect(mine.json.redeemed).toBe((3n * PRICE).toString());
    const theirs = await payee.run(['status', channelId, '--json']);
    expect(theirs.json.state).toBe('closed');
    expect(theirs.json.direction).toBe('inbound');
    expect(theirs.json.charged).toBe((3n * PRICE).toString());

    // A closed channel cannot pay any more.
    const again = await payer.run(['pay', channelId, '10', '--json']);
    expect(again.code).toBe(8);
  });

  it('payee closes with its best voucher', async () => {
    const { payer, channelId } = await payerWithPurchases('bob', 2);
    const payerBefore = await chain.balance(payer.address);
    const r = await payee.run(['close', channelId, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.result).toBe('closed');
    expect(r.json.paidToPayee).toBe((2n * PRICE).toString());
    expect(await chain.balance(payer.address)).toBe(payerBefore + DEPOSIT - 2n * PRICE);
    const list = await payee.run(['list', '--inbound', '--state', 'closed', '--json']);
    expect(list.json.channels.map((c: any) => c.channelId)).toContain(channelId);
  });

  it('payer settles, collect is refused before settleAt (exit 8), then collects after the delay', async () => {
    const { payer, channelId } = await payerWithPurchases('carol', 2, ['--settle-delay', '120']);
    const settled = await payer.run(['settle', channelId, '--json']);
    expect(settled.code, settled.stdout + settled.stderr).toBe(0);
    expect(settled.json.settleAt).toBeGreaterThan(0);

    const early = await payer.run(['collect', channelId, '--json']);
    expect(early.code).toBe(8);
    expect(early.json.error.message).toMatch(/cannot be collected yet; possible at .* \(in \d+ s\)/);

    await increaseTime(chain.anvil.rpcUrl, 121);
    const payerBefore = await chain.balance(payer.address);
    const payeeBefore = await chain.balance(payee.address);
    const done = await payer.run(['collect', channelId, '--json']);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const gas = await fee(done.json.transaction);
    const paid = BigInt(done.json.paidToPayee);
    const refunded = BigInt(done.json.refundedToPayer);
    // Nobody redeemed on chain (the paywall's settlement watcher is not built yet), so all comes back.
    expect(paid + refunded).toBe(DEPOSIT);
    expect(await chain.balance(payer.address)).toBe(payerBefore + refunded - gas);
    expect(await chain.balance(payee.address)).toBe(payeeBefore + paid);
    const status = await payer.run(['status', channelId, '--json']);
    expect(status.json.state).toBe('closed');
  });
});
