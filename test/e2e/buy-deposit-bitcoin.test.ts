/**
 * Issue 9 §3.6 on a Bitcoin-family network (real litecoind regtest, real `channels serve`,
 * the real binary): without --deposit or config buy.bitcoinDeposit, a channel opened by
 * `buy` gets `max(minDeposit, buy.depositRequests × price + the close fee)` — every payment
 * leaves the close fee (BitcoinChannelManager.open/createVoucher), so the deposit must hold
 * it on top of the requests — and pays the payee at least its dust even for tiny prices.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBitcoin, makeBitcoinWallet, startBitcoinChain, type BitcoinChain, type BitcoinWallet } from '../helpers/bitcoin.js';
import { channelRow, startServe, type Serve } from '../helpers/cli.js';

describeBitcoin('the default deposit of a Bitcoin channel opened by buy', { timeout: 240_000 }, () => {
  let chain: BitcoinChain;
  let payee: BitcoinWallet;
  let serve: Serve;
  let tiny: Serve;

  beforeAll(async () => {
    chain = await startBitcoinChain();
    payee = await makeBitcoinWallet('payee', chain, { fund: false });
    serve = await startServe(payee, ['--price', '1000sat', '--min-expiry', '3600', '--close-margin', '600']);
    // A 1-sat price whose default minDeposit (100 × price) is below the payee's dust plus the close fee.
    tiny = await startServe(payee, ['--price', '1sat', '--min-expiry', '3600', '--close-margin', '600']);
  }, 180_000);

  afterAll(async () => {
    await serve?.stop();
    await tiny?.stop();
    await chain?.stop();
  });

  /** `buy --yes` as a fresh funded payer; the opened channel's row. */
  async function buyOpening(name: string, url: string, requests?: number) {
    const payer = await makeBitcoinWallet(name, chain);
    if (requests) expect((await payer.run(['config', 'set', 'buy.depositRequests', String(requests)])).code).toBe(0);
    const r = await payer.run(['buy', url, '--yes', '--max-price', '2000sat', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const row = channelRow(payer.home, r.json.opened.channelId);
    return { deposit: BigInt(row.deposit), closeFee: BigInt(JSON.parse(row.bitcoin).closeFee) };
  }

  it('1000 requests at 1,000 sat plus the close fee', async () => {
    const { deposit, closeFee } = await buyOpening('thousand', `${serve.url}/weather`);
    expect(closeFee).toBeGreaterThan(0n);
    expect(deposit).toBe(1000n * 1000n + closeFee);
  });

  it('one request at 1 sat: the payee\'s dust (P2WPKH, 294 sat) plus the close fee, above the 100-sat minDeposit', async () => {
    const { deposit, closeFee } = await buyOpening('one', `${tiny.url}/weather`, 1);
    expect(deposit).toBe(294n + closeFee);
  });
});
