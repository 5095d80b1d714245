/**
 * Issue 9 §3.4: a 402 of a payment protocol other than x402 v2 schemes `channel` and (issue 13 §2)
 * `exact` is named, exits 4 with code UNSUPPORTED_PAYMENT_PROTOCOL, and leaves the payer's database empty;
 * an `exact` entry on a network the wallet is not on is refused as a `channel` one is (PAYMENT_REFUSED).
 * Each row is a real loopback server answering every request with that 402; the client is
 * the real binary. No chain is touched before the 402 is understood, so no anvil runs here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePaymentRequiredHeader } from '@x402/core/http';
import { dbSnapshot, makeWallet, type TestWallet } from '../helpers/cli.js';

const PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

interface Row {
  name: string;
  headers: Record<string, string>;
  body?: string;
  protocol?: string;
  code: string;
  message: RegExp;
}

const v2 = (accepts: unknown[]) =>
  encodePaymentRequiredHeader({ x402Version: 2, error: 'Payment required', resource: { url: 'http://x/weather' }, accepts } as never);
const exactEntry = { scheme: 'exact', network: 'eip155:84532', amount: '10000', asset: USDC, payTo: PAYEE, maxTimeoutSeconds: 60, extra: { name: 'USDC', version: '2' } };

const ROWS: Row[] = [
  {
    name: 'L402 (WWW-Authenticate: L402 macaroon, invoice)',
    headers: { 'www-authenticate': 'L402 macaroon="AGIAJEemVQUTEyNCR0exk7ek90Cg==", invoice="lnbc1500n1pw5kjhmpp5fu6xhthlt2vucmzkx6c7wtlh2r625r30cyjsfqhu8rsx4xpz5lwqdpa2fjkzep6yptksct5yp5hxgrrv96hx6twvusycn3qv9jx7ur5d9hkugr5dusx6cqzpgxqr23s79ruapxc4j5uskt4htly2salw4drq979d7rcela9wz02elhypmdzmzlnxuknpgfyfm86pntt8vvkvffma5qc9n50h4mvqhngadqy3ngqjcym5a"' },
    protocol: 'l402', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /L402 \(Lightning\).*channels does not support L402/,
  },
  {
    name: 'LSAT (the older name of L402)',
    headers: { 'www-authenticate': 'LSAT macaroon="AGIAJEemVQUTEyNCR0exk7ek90Cg==", invoice="lnbc1500n1pw5kjhmpp5"' },
    protocol: 'l402', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /L402 \(Lightning, LSAT\)/,
  },
  {
    name: 'HTTP Payment authentication scheme (WWW-Authenticate: Payment)',
    headers: { 'www-authenticate': 'Payment id="kM9xPqWvT2nJrHsY4aDfEb", realm="api.example.com", method="tempo", intent="charge", request="eyJhbW91bnQiOiIxMDAwIn0"' },
    protocol: 'http-payment', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /HTTP `Payment` authentication scheme; channels does not support it/,
  },
  {
    name: 'x402 version 1 (JSON body)',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      x402Version: 1, error: 'X-PAYMENT header is required',
      accepts: [{ scheme: 'exact', network: 'base-sepolia', maxAmountRequired: '10000', resource: 'http://x/weather', description: '', mimeType: 'application/json', payTo: PAYEE, maxTimeoutSeconds: 60, asset: USDC, extra: { name: 'USDC', version: '2' } }],
    }),
    protocol: 'x402-v1', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /x402 version 1; channels pays x402 version 2 \(schemes `channel`, `exact`\) only/,
  },
  {
    name: 'x402 version 2, scheme upto only',
    headers: { 'payment-required': v2([{ ...exactEntry, scheme: 'upto' }]) },
    protocol: 'x402-v2', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /scheme `upto` on eip155:84532; channels pays `channel` and `exact`/,
  },
  {
    name: 'x402 version 2, two other schemes',
    headers: { 'payment-required': v2([{ ...exactEntry, scheme: 'upto' }, { ...exactEntry, scheme: 'batch-settlement', network: 'eip155:8453' }]) },
    protocol: 'x402-v2', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /scheme `upto`, `batch-settlement` on eip155:84532, eip155:8453/,
  },
  {
    // Issue 13 §2: `exact` is paid now, on the wallet's network; on another it is refused as `channel` is, before any chain is asked.
    name: 'x402 version 2, scheme exact on another network',
    headers: { 'payment-required': v2([exactEntry]) },
    code: 'PAYMENT_REFUSED', message: /takes no payment this wallet can make on eip155:31337/,
  },
  {
    name: 'a 402 with nothing recognizable',
    headers: { 'content-type': 'text/plain' },
    body: 'Payment Required',
    protocol: 'none', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /402 Payment Required but offered no payment protocol channels recognizes/,
  },
  {
    name: 'a 402 asking for HTTP authentication only (Basic)',
    headers: { 'www-authenticate': 'Basic realm="shop"' },
    protocol: 'none', code: 'UNSUPPORTED_PAYMENT_PROTOCOL', message: /recognizes \(WWW-Authenticate: basic\)/,
  },
  {
    // Positive control of the rule's edge: our protocol and scheme, another network, keeps its own refusal.
    name: 'x402 version 2, scheme channel on another network',
    headers: { 'payment-required': v2([{ ...exactEntry, scheme: 'channel', extra: { minDeposit: '0', endpoint: '/.well-known/channels' } }]) },
    code: 'PAYMENT_REFUSED', message: /takes no payment this wallet can make on eip155:31337/,
  },
];

let payer: TestWallet;

beforeAll(async () => {
  // The RPC URL is never dialled: every row fails before a chain is needed.
  payer = await makeWallet('offers', 'http://127.0.0.1:9');
}, 60_000);

/** A server answering every request with the row's 402. */
async function serve402(row: Row): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(402, row.headers);
    res.end(row.body ?? '');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/weather`, server, hits: () => hits };
}

describe('buy against a 402 of another payment protocol', { timeout: 240_000 }, () => {
  it.each(ROWS)('$name: exit 4, $code, nothing stored', async (row) => {
    const { url, server, hits } = await serve402(row);
    try {
      const r = await payer.run(['buy', url, '--max-price', '1eth', '--deposit', '0.1eth', '--yes', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.json.error.code).toBe(row.code);
      expect(r.json.error.message).toMatch(row.message);
      if (row.protocol) expect(r.json.error.data.protocol).toBe(row.protocol);
      expect(r.json.error.hints.length).toBeGreaterThan(0);
      // One unpaid request, nothing paid or retried.
      expect(hits()).toBe(1);
      expect(JSON.parse(dbSnapshot(payer.home))).toEqual({ channels: [], vouchers: [] });
    } finally {
      server.close();
    }
  });

  it('a 402 whose body never ends is read up to 64 KiB, then refused (exit 4), without --max-time', async () => {
    let written = 0;
    const server = createServer((_req, res) => {
      res.writeHead(402, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16384, 'x');
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        res.write(chunk);
        written += chunk.length;
      }, 5);
      res.on('close', () => clearInterval(tick));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const r = await payer.run(['buy', `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`, '--json']);
      expect(r.code, r.stdout).toBe(4);
      expect(r.json.error).toMatchObject({ code: 'UNSUPPORTED_PAYMENT_PROTOCOL', data: { protocol: 'none' } });
      expect(written).toBeGreaterThanOrEqual(65536);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('prints the same for humans, on stderr, with its hint', async () => {
    const { url, server } = await serve402(ROWS[0]);
    try {
      const r = await payer.run(['buy', url, '--max-price', '1eth', '--yes']);
      expect(r.code).toBe(4);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Error: The server asks for an L402 \(Lightning\) payment; channels does not support L402\.\n.*L402 client/m);
    } finally {
      server.close();
    }
  });
});
