/**
 * Issue 13 §1: prices and channels in a USD stablecoin, end to end, with the real binary against a real
 * anvil and a real `channels serve --price 0.001usdc`. The token is the devnet's TestUSD (6 decimals,
 * EIP-3009), named `usdc` in both wallets' config the way users get it (`channels config import` of the
 * networks `channels devnet` writes).
 *
 * - The 402 asks for the token: its entry's `asset` is the token's address, the amount in its base units.
 * - `buy --max-price 0.01usdc --deposit 5usdc --yes` opens an ERC-20 channel (approve, then open) and pays;
 *   the next purchase pays on it; the tokens moved on chain (read from the token, not from our database).
 * - A price in the token against a --max-price in ether is refused (exit 3) naming USDC, and nothing is stored;
 *   an ether channel to the same merchant is never used to pay a USDC price.
 * - `status`, `list`, `budget` and `history` print USDC; `close` (the payer asks, the merchant closes) pays the
 *   merchant in the token and refunds the rest, read on chain.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, Wallet, ZeroAddress } from 'ethers';
import { deployTestUSD } from '../../src/devnet/index.js';
import { contractAddress } from '../../src/families/evm/deploy.js';
import { ANVIL_KEYS, increaseTime } from '../helpers/anvil.js';
import { dbSnapshot, makeWallet, startChain, startServe, walletState, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';

const ERC20 = ['function balanceOf(address) view returns (uint256)', 'function mint(address to, uint256 amount)'];
const USDC = 10n ** 6n; // base units per USDC
const PRICE = 1000n; // 0.001 USDC

let chain: Chain;
let token: Contract;
let usdc: string;
let shop: TestWallet;
let payer: TestWallet;
let other: TestWallet;
let serve: Serve;

const balance = async (a: string): Promise<bigint> => token.balanceOf(a);

/** Names the token `usdc` on the wallet's devnet, as `channels config import <devnet.json>` does after `channels devnet`. */
async function nameUsdc(w: TestWallet): Promise<void> {
  const file = join(w.home, 'devnet-networks.json');
  writeFileSync(file, JSON.stringify({
    networks: { devnet: { kind: 'evm', caip2: `eip155:${chain.anvil.chainId}`, rpcUrl: chain.anvil.rpcUrl, assets: { usdc: { symbol: 'USDC', address: usdc, decimals: 6 } } } },
  }));
  const r = await w.run(['config', 'import', file, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

beforeAll(async () => {
  chain = await startChain();
  const funder = new Wallet(ANVIL_KEYS[0], chain.provider);
  usdc = (await deployTestUSD(funder, chain.provider)).address;
  token = new Contract(usdc, ERC20, funder);
  [shop, payer, other] = await Promise.all(['usdshop', 'usdpayer', 'usdother'].map((n) => makeWallet(n, chain.anvil.rpcUrl)));
  for (const w of [shop, payer, other]) await chain.fund(w.address);
  for (const w of [payer, other]) await (await token.mint(w.address, 100n * USDC)).wait();
  await Promise.all([shop, payer, other].map(nameUsdc));
  serve = await startServe(shop, ['--price', '0.001usdc', '--min-deposit', '1usdc', '--watch-interval', '2']);
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await chain?.stop();
});

describe('a paywall priced in USDC', () => {
  it('asks for the token in its 402 and says so in its ready line', async () => {
    const res = await fetch(`${serve.url}/weather`);
    expect(res.status).toBe(402);
    const challenge = JSON.parse(Buffer.from(res.headers.get('payment-required')!, 'base64').toString());
    const entry = challenge.accepts.find((a: { scheme: string }) => a.scheme === 'channel');
    expect(entry.asset.toLowerCase()).toBe(usdc.toLowerCase());
    expect(entry.amount).toBe(PRICE.toString());
    expect(entry.extra.minDeposit).toBe((1n * USDC).toString());
  });

  it('refuses a --max-price in ether (exit 3, naming USDC) and stores nothing', async () => {
    const before = walletState(other.home);
    const r = await other.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error.message).toMatch(/charges in USDC; --max-price counts ETH/);
    expect(walletState(other.home)).toBe(before);
  });

  it('buy opens an ERC-20 channel with --deposit 5usdc and pays 0.001 USDC a request', async () => {
    const [payerBefore, channelsBefore] = [await balance(payer.address), await balance(contractAddress())];
    const first = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '0.01usdc', '--deposit', '5usdc', '--yes', '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.json.paid).toBe(PRICE.toString());
    expect(first.json.opened.channelId).toMatch(/^0x[0-9a-f]{64}$/);
    const id = first.json.opened.channelId;
    // The deposit moved in the token, from the payer to the channel contract.
    expect(payerBefore - (await balance(payer.address))).toBe(5n * USDC);
    expect((await balance(contractAddress())) - channelsBefore).toBe(5n * USDC);
    const second = await payer.run(['buy', `${serve.url}/joke`, '--max-price', '0.01usdc', '--json']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.json.opened).toBeNull();
    expect(second.json.channelId).toBe(id);
    expect(BigInt(second.json.voucher.amount)).toBe(2n * PRICE);

    const status = await payer.run(['status', id]);
    expect(status.stdout).toMatch(/5 USDC/);
    const json = await payer.run(['status', id, '--json']);
    expect(json.json.asset.toLowerCase()).toBe(usdc.toLowerCase());
    expect(json.json.assetId).toBe(`eip155:${chain.anvil.chainId}/erc20:${json.json.asset}`);
    const list = await shop.run(['list']);
    expect(list.stdout).toMatch(/0\.002 USDC/);
  });

  it('never pays a USDC price from an ether channel to the same merchant', async () => {
    const opened = await other.run(['open', serve.payTo, '0.01eth', '--url', serve.url, '--json']);
    expect(opened.code, opened.stdout + opened.stderr).toBe(0);
    const r = await other.run(['buy', `${serve.url}/weather`, '--max-price', '0.01usdc', '--deposit', '2usdc', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.opened).not.toBeNull();
    expect(r.json.channelId).not.toBe(opened.json.channelId);
    const ether = await other.run(['status', opened.json.channelId, '--json']);
    expect(ether.json.asset).toBe(ZeroAddress);
    expect(ether.json.spent).toBe('0');
    expect(ether.json.vouchers).toBe(0);
  });

  it('the USDC paywall refuses a voucher on an ether channel it holds (another asset) and stores nothing', async () => {
    // The same merchant also charges ether on another paywall (one home, one database): `other` pays there once.
    const ethServe = await startServe(shop, ['--price', '1000']);
    try {
      const paid = await other.run(['buy', `${ethServe.url}/weather`, '--max-price', '5000', '--deposit', '0.001eth', '--yes', '--json']);
      expect(paid.code, paid.stdout + paid.stderr).toBe(0);
      const etherId = paid.json.channelId;
      const v = await other.run(['voucher', 'create', etherId, '2000', '--json']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const unpaid = await fetch(`${serve.url}/weather`);
      const accepted = JSON.parse(Buffer.from(unpaid.headers.get('payment-required')!, 'base64').toString()).accepts[0];
      const { encoded: _e, delivered: _d, submittedTx: _s, price: _p, ...voucher } = v.json;
      const header = Buffer.from(JSON.stringify({ x402Version: 2, accepted, payload: { type: 'voucher', channelId: etherId, voucher } })).toString('base64');
      const before = dbSnapshot(shop.home);
      const res = await fetch(`${serve.url}/weather`, { headers: { 'payment-signature': header } });
      expect(res.status).toBe(402);
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(/holds 0x0{40}, not the asset asked for/);
      expect(dbSnapshot(shop.home)).toBe(before);
    } finally {
      await ethServe.stop();
    }
  });

  it('a deposit or top-up above the key\'s tokens: exit 5 before any transaction (no approve gas), nothing stored', async () => {
    const before = walletState(other.home);
    const nonce = await chain.provider.getTransactionCount(other.address);
    const r = await other.run(['open', serve.payTo, '1000usdc', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.json.error.message).toMatch(/less than the deposit/);
    expect(walletState(other.home)).toBe(before);
    const id = (await other.run(['list', '--json'])).json.channels.find((c: { asset: string }) => c.asset.toLowerCase() === usdc.toLowerCase()).channelId;
    const f = await other.run(['fund', id, '1000usdc', '--json']);
    expect(f.code, f.stdout + f.stderr).toBe(5);
    expect(walletState(other.home)).toBe(before);
    expect(await chain.provider.getTransactionCount(other.address)).toBe(nonce);
    // Amounts for a token channel read in its token: 1usdc is 10^6 base units, and ether's units are refused.
    const eth = await other.run(['fund', id, '0.5eth', '--json']);
    expect(eth.code).toBe(2);
    expect(eth.json.error.message).toMatch(/eth is not a unit of USDC/);
    const topUp = await other.run(['fund', id, '1usdc', '--json']);
    expect(topUp.code, topUp.stdout + topUp.stderr).toBe(0);
    expect(topUp.json.added).toBe(USDC.toString());
  });

  it('settle and collect in the token: the merchant\'s redemption service redeems a settling USDC channel, the payer collects the rest', async () => {
    const id = (await other.run(['list', '--json'])).json.channels.find((c: { asset: string; state: string }) => c.asset.toLowerCase() === usdc.toLowerCase() && c.state === 'open').channelId;
    const s = await other.run(['settle', id, '--json']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    // A token channel is redeemed at its deadline (no price to weigh against gas): redeem.margin (3600 s) before settleAt.
    const settleAt = Number(s.json.settleAt ?? (await other.run(['status', id, '--json'])).json.settleAt);
    const now = (await chain.provider.getBlock('latest'))!.timestamp;
    expect(settleAt - now).toBeGreaterThan(3600); // not due yet: the service defers it until the margin
    await increaseTime(chain.anvil.rpcUrl, settleAt - now - 3600 + 5);
    let redeemed = '0';
    for (let i = 0; i < 60 && redeemed === '0'; i++) {
      redeemed = (await shop.run(['status', id, '--json'])).json.redeemed;
      if (redeemed === '0') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(redeemed, serve.stderr().slice(-3000)).toBe(PRICE.toString());
    expect(serve.stderr()).toMatch(/"kind":"(redeemed|closed)"/);
    await increaseTime(chain.anvil.rpcUrl, 3600);
    const [shopBefore, otherBefore] = [await balance(shop.address), await balance(other.address)];
    const c = await other.run(['collect', id, '--json']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect((await balance(shop.address)) - shopBefore).toBe(PRICE);
    expect((await balance(other.address)) - otherBefore).toBe(3n * USDC - PRICE);
  });

  it('budgets count USDC: a budget of 0.003usdc stops the purchase after it (exit 3)', async () => {
    const set = await payer.run(['budget', 'set', '*', '0.003usdc', '--json']);
    expect(set.code, set.stdout + set.stderr).toBe(0);
    expect(set.stdout).toContain('3000');
    const ok = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '0.01usdc', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const over = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '0.01usdc', '--json']);
    expect(over.code, over.stdout + over.stderr).toBe(3);
    expect(over.json.error.code).toBe('BUDGET_EXCEEDED');
    const list = await payer.run(['budget', 'list']);
    expect(list.stdout).toMatch(/0\.003 USDC/);
    const history = await payer.run(['history']);
    expect(history.stdout).toMatch(/0\.001 USDC/);
    expect((await payer.run(['budget', 'remove', '*', '--asset', 'usdc'])).code).toBe(0);
  });

  it('close: the merchant redeems in the token and the payer gets the rest back, on chain', async () => {
    const id = (await payer.run(['list', '--json'])).json.channels.find((c: { asset: string; state: string }) => c.asset.toLowerCase() === usdc.toLowerCase() && c.state === 'open').channelId;
    const [shopBefore, payerBefore] = [await balance(shop.address), await balance(payer.address)];
    const r = await payer.run(['close', id, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await balance(shop.address)) - shopBefore).toBe(3n * PRICE);
    expect((await balance(payer.address)) - payerBefore).toBe(5n * USDC - 3n * PRICE);
  });
});
