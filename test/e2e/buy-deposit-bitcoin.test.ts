/**
 * Issue 9 §3.6 on a Bitcoin-family network (real litecoind regtest, real `channels serve`,
 * the real binary): without --deposit or config buy.bitcoinDeposit, a channel opened by
 * `buy` gets `max(minDeposit, buy.depositRequests × price + the close fee)` — every payment
 * leaves the close fee (BitcoinChannelManager.open/createVoucher), so the deposit must hold
 * it on top of the requests. (The payee-dust floor is not tested here: litecoind relays
 * outputs only above 10× Bitcoin Core's dust, which the wallet's Bitcoin rules undershoot.)
 * The purchase is in the payer's history, and a budget in sat stops the next one (issue 13 §3).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBitcoin, makeBitcoinWallet, startBitcoinChain, type BitcoinChain, type BitcoinWallet } from '../helpers/bitcoin.js';
import { channelRow, startServe, type Serve } from '../helpers/cli.js';

describeBitcoin('the default deposit of a Bitcoin channel opened by buy', { timeout: 240_000 }, () => {
  let chain: BitcoinChain;
  let payee: BitcoinWallet;
  let serve: Serve;

  beforeAll(async () => {
    chain = await startBitcoinChain();
    payee = await makeBitcoinWallet('payee', chain, { fund: false });
    serve = await startServe(payee, ['--price', '1000sat', '--min-expiry', '3600', '--close-margin', '600']);
  }, 180_000);

  afterAll(async () => {
    await serve?.stop();
    await chain?.stop();
  });

  /** `buy --yes` as a fresh funded payer; the opened channel's row. */
  async function buyOpening(name: string, url: string, requests?: number) {
    const payer = await makeBitcoinWallet(name, chain);
    if (requests) expect((await payer.run(['config', 'set', 'buy.depositRequests', String(requests)])).code).toBe(0);
    const r = await payer.run(['buy', url, '--yes', '--max-price', '2000sat', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const row = channelRow(payer.home, r.json.opened.channelId);
    return { deposit: BigInt(row.deposit), closeFee: BigInt(row.data.closeFee), payer };
  }
  /** The payer of the first test, which bought once. */
  let thousand: BitcoinWallet;

  it('1000 requests at 1,000 sat plus the close fee', async () => {
    const { deposit, closeFee, payer } = await buyOpening('thousand', `${serve.url}/weather`);
    thousand = payer;
    expect(closeFee).toBeGreaterThan(0n);
    expect(deposit).toBe(1000n * 1000n + closeFee);
  });

  it('the merchant\'s minDeposit (100 × price) when 2 requests plus the close fee are less', async () => {
    const { deposit, closeFee } = await buyOpening('two', `${serve.url}/weather`, 2);
    expect(2n * 1000n + closeFee).toBeLessThan(100_000n);
    expect(deposit).toBe(100_000n);
  });

  it('history and budgets count in sat on a Bitcoin-family network (issue 13 §3)', async () => {
    const origin = new URL(serve.url).origin;
    const h = await thousand.run(['history', '--json']);
    expect(h.code, h.stdout + h.stderr).toBe(0);
    expect(h.json.purchases).toHaveLength(1);
    expect(h.json.purchases[0]).toMatchObject({ origin, status: 'paid', price: '1000', spent: '1000', asset: 'sat', assetId: expect.stringMatching(/^bip122:[0-9a-f]{32}\/slip44:\d+$/), receipt: { success: true } });
    expect((await thousand.run(['budget', 'set', origin, '1500sat'])).code).toBe(0);
    const r = await thousand.run(['buy', `${serve.url}/weather`, '--max-price', '2000sat']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain(`the budget of ${origin} is 1,500 sat in total; 1,000 sat spent so far, 500 sat remains.`);
    expect((await thousand.run(['budget', 'set', origin, '1eth'])).code).toBe(2); // a unit of the other family
  });
});
