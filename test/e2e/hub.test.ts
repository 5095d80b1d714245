/**
 * Issue 12: payments through a hub (DESIGN §11), with the real binaries on a real anvil: a
 * payer with one channel to a hub pays a merchant the hub has a channel to; the merchant
 * learns the secret, the hub earns its fee, both hops are simplified.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { hubParties, openRoute, startHub, type Hub } from '../helpers/hub.js';

const DEPOSIT = 10n ** 16n;
let chain: Chain;
let payer: TestWallet;
let hubWallet: TestWallet;
let shop: TestWallet;
let hub: Hub;
let serve: Serve;

beforeAll(async () => {
  chain = await startChain();
  ({ payer, hubWallet, shop } = await hubParties(chain));
  serve = await startServe(shop, ['--price', '1000']);
  hub = await startHub(hubWallet, ['--fee-base', '10', '--fee-ppm', '1000']);
  await openRoute({ payer, hubWallet, shop }, hub.address, serve.url, { toShop: DEPOSIT, toHub: DEPOSIT });
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

describe('sync after a payment the hub did not answer', () => {
  it("a hub's word that the payment was fulfilled is not enough: without a proof of the secret the payer signs nothing unconditional", async () => {
    // A hostile hub at the real hub's address: it takes the lock request without answering (504), then claims it fulfilled.
    const info = await (await fetch(`${hub.url}/`)).json();
    const liar: Server = createServer((req, res) => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      req.resume();
      if (req.method === 'GET' && req.url === '/') return send(200, info);
      if (req.method === 'POST' && req.url === '/lock') return send(504, { error: 'the payee did not answer', reason: 'payee_unreachable' });
      if (req.method === 'GET' && req.url?.startsWith('/lock/')) return send(200, { hash: req.url.slice(6, 72), state: 'fulfilled', proof: '0x' + '00'.repeat(32) });
      send(404, { error: 'not found' });
    });
    await new Promise<void>((ok) => liar.listen(0, '127.0.0.1', () => ok()));
    try {
      const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
      const pubkey = ((await (await fetch(`${serve.url}/.well-known/channels`)).json()) as { pubkey: string }).pubkey;
      const r = await payer.run(['pay', '--via', url, shop.address, '5000', '--payee-pubkey', pubkey, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(6);
      const synced = await payer.run(['sync', '--json']);
      expect(synced.code, synced.stdout + synced.stderr).toBe(0);
      const db = new Database(join(payer.home, 'channels.db'), { readonly: true });
      try {
        const row = db.prepare("SELECT state, out_unlocked, out_channel, out_lane FROM locked_payments WHERE role = 'payer' AND hub = ?").get(url) as any;
        expect({ state: row.state, unlocked: row.out_unlocked }).toEqual({ state: 'pending', unlocked: 0 });
        // The lane's latest voucher is still the conditional one: nothing the liar could redeem without the secret.
        const latest = db.prepare('SELECT secret_hash FROM vouchers WHERE channel_id = ? AND lane = ? ORDER BY nonce DESC LIMIT 1').get(row.out_channel, row.out_lane) as any;
        expect(latest.secret_hash).not.toBe('0x' + '0'.repeat(64));
      } finally {
        db.close();
      }
    } finally {
      await new Promise((ok) => liar.close(ok));
    }
  }, 60_000);
});
