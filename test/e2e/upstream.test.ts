/**
 * `channels serve --upstream`: the paywall reverse-proxies every path of another
 * server; `channels buy -o FILE` writes the body; a failing upstream is not charged.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';

let chain: Chain;
let upstream: Server;
let upstreamUrl: string;
let payee: TestWallet;
let payer: TestWallet;
let serve: Serve;
const seen: { method: string; url: string; body: string; paymentHeader?: string }[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, paymentHeader: req.headers['payment-signature'] as string | undefined });
      if (req.url === '/broken') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('upstream exploded');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ path: req.url, method: req.method, echo: body }));
    });
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', () => ok()));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  chain = await startChain();
  payee = await makeWallet('proxy', chain.anvil.rpcUrl);
  payer = await makeWallet('buyer', chain.anvil.rpcUrl);
  await chain.fund(payer.address, '5');
  serve = await startServe(payee, ['--price', '700', '--upstream', upstreamUrl]);
});

afterAll(async () => {
  await serve?.stop();
  await chain?.stop();
  await new Promise((ok) => upstream?.close(ok));
});

describe('serve --upstream', () => {
  it('proxies any path, method and body after payment, without leaking the voucher upstream', async () => {
    const r = await payer.run(['buy', `${serve.url}/v1/search?q=cats`, '-X', 'POST', '-H', 'content-type: application/json', '-d', '{"q":"cats"}', '--max-price', '700', '--deposit', '0.01eth', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.paid).toBe('700');
    expect(JSON.parse(r.json.body)).toEqual({ path: '/v1/search?q=cats', method: 'POST', echo: '{"q":"cats"}' });
    const last = seen.at(-1)!;
    expect(last.paymentHeader).toBeUndefined();
  });

  it('buy -o writes the body to a file and --json names the file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'channels-out-')), 'out.json');
    const r = await payer.run(['buy', `${serve.url}/anything/else`, '-o', file, '--max-price', '700', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.file).toBe(file);
    expect(r.json.body).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8')).path).toBe('/anything/else');
  });

  it('pay <merchant url> finds the bound channel and delivers a top-up voucher (charged unchanged)', async () => {
    const before = (await payee.run(['list', '--inbound', '--json'])).json.channels[0];
    const r = await payer.run(['pay', serve.url, '100', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ channelId: before.channelId, paid: '100', delivered: true, charged: before.charged });
    const after = (await payee.run(['list', '--inbound', '--json'])).json.channels[0];
    expect(BigInt(after.spent)).toBe(BigInt(before.spent) + 100n);
    const none = await payer.run(['pay', 'http://127.0.0.1:9', '100', '--json']);
    expect(none.code).toBe(2);
    expect(none.json.error.message).toMatch(/No open channel is bound to http:\/\/127.0.0.1:9/);
  });

  it('an upstream failure is not charged: the next purchase pays no more than before', async () => {
    const before = await payee.run(['list', '--inbound', '--json']);
    const charged = BigInt(before.json.channels[0].charged);
    const r = await payer.run(['buy', `${serve.url}/broken`, '--max-price', '700', '--json']);
    expect(r.json.status).toBe(500);
    expect(r.json.paid).toBe('0');
    expect(r.code).toBe(1);
    expect(r.json.body).toBe('upstream exploded');
    const after = await payee.run(['list', '--inbound', '--json']);
    expect(BigInt(after.json.channels[0].charged)).toBe(charged);
    // The next paid request is accepted and charged once.
    const ok = await payer.run(['buy', `${serve.url}/fine`, '--max-price', '700', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const later = await payee.run(['list', '--inbound', '--json']);
    expect(BigInt(later.json.channels[0].charged)).toBe(charged + 700n);
    // What the payee can redeem (the best voucher) is exactly what it served: the
    // failed request's voucher did not raise the amount the buyer owes.
    expect(BigInt(later.json.channels[0].spent)).toBe(charged + 700n);
    const mine = await payer.run(['status', ok.json.channelId, '--json']);
    expect(mine.json.best[0].amount).toBe((charged + 700n).toString());
  });
});
