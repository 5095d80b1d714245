/**
 * Issue 12: payments through a hub (DESIGN §11), with the real binaries on a real anvil: a
 * payer with one channel to a hub pays a merchant the hub has a channel to; the merchant
 * learns the secret, the hub earns its fee, both hops are simplified.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { startHub, type Hub } from '../helpers/hub.js';

const DEPOSIT = 10n ** 16n;
let chain: Chain;
let payer: TestWallet;
let hubWallet: TestWallet;
let shop: TestWallet;
let hub: Hub;
let serve: Serve;

beforeAll(async () => {
  chain = await startChain();
  [payer, hubWallet, shop] = await Promise.all([makeWallet('payer', chain.anvil.rpcUrl), makeWallet('hub', chain.anvil.rpcUrl), makeWallet('shop', chain.anvil.rpcUrl)]);
  for (const w of [payer, hubWallet, shop]) await chain.fund(w.address, '1');
  serve = await startServe(shop, ['--price', '1000']);
  hub = await startHub(hubWallet, ['--fee-base', '10', '--fee-ppm', '1000']);
  const toShop = await hubWallet.run(['open', shop.address, DEPOSIT.toString(), '--url', `${serve.url}/.well-known/channels`, '--settle-delay', '3600', '--json']);
  expect(toShop.code, toShop.stdout + toShop.stderr).toBe(0);
  const toHub = await payer.run(['open', hub.address, DEPOSIT.toString(), '--settle-delay', '3600', '--json']);
  expect(toHub.code, toHub.stdout + toHub.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await serve?.stop();
  await chain?.stop();
});

describe('pay --via', () => {
  it('pays the shop through the hub and proves it with the secret', async () => {
    const r = await payer.run(['pay', '--via', hub.url, shop.address, '5000', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.fee).toBe('15'); // 10 + ceil(5000 × 1000 / 10^6)
    expect(r.json.unlocked).toBe(true);
    expect(r.json.secret).toMatch(/^0x[0-9a-f]{64}$/);
    const st = await hubWallet.run(['hub', 'status', '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    expect(st.json.payments.fulfilled).toBe(1);
    expect(st.json.feesEarned).toBe('15');
  }, 60_000);
});
