/**
 * An ordinary x402 seller, built only from the x402 Foundation's own packages, unmodified (issue 13 §2):
 * an express 5 app behind `@x402/express`'s `paymentMiddleware`, charging with `@x402/evm`'s `exact`
 * server scheme, verified and settled by a LOCAL facilitator (`x402Facilitator` from
 * `@x402/core/facilitator` with `@x402/evm`'s `exact` facilitator scheme and a viem wallet client on
 * anvil). The middleware reaches the facilitator through an in-process `FacilitatorClient` that counts
 * the calls, so a test can prove that no payment reached it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { x402Facilitator } from '@x402/core/facilitator';
import type { FacilitatorClient } from '@x402/core/server';
import { ExactEvmScheme as ExactServerScheme } from '@x402/evm/exact/server';
import { ExactEvmScheme as ExactFacilitatorScheme } from '@x402/evm/exact/facilitator';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { createWalletClient, defineChain, http, parseUnits, publicActions } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/** TestUSD's EIP-712 domain (contracts/TestUSD.sol): what x402's `extra` names. */
export const TEST_USD_DOMAIN = { name: 'USD Coin (test)', version: '1' };

export interface ExactSeller {
  /** Base URL; `GET /weather` costs the price, `GET /free` nothing, `GET /broken` fails with 500 after payment is verified. */
  url: string;
  /** What the middleware asked of the facilitator so far. */
  calls: { verify: number; settle: number };
  /** Transactions the facilitator sent (settlements). */
  settlements: string[];
  stop(): Promise<void>;
}

/**
 * Starts the seller on a free loopback port.
 * @param o.price - the route's price as x402 writes it (`$0.001`), in the test token
 * @param o.facilitatorKey - the facilitator's key: it submits (and pays gas for) the transfers
 */
export async function startExactSeller(o: {
  rpcUrl: string; chainId: number; usdc: string; payTo: string; facilitatorKey: `0x${string}`; price?: string; maxTimeoutSeconds?: number;
}): Promise<ExactSeller> {
  const network = `eip155:${o.chainId}` as const;
  const chain = defineChain({ id: o.chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [o.rpcUrl] } } });
  const account = privateKeyToAccount(o.facilitatorKey);
  const client = createWalletClient({ account, chain, transport: http(o.rpcUrl) }).extend(publicActions);
  const facilitator = new x402Facilitator().register(network, new ExactFacilitatorScheme(toFacilitatorEvmSigner({ ...client, address: account.address } as never)));

  const calls = { verify: 0, settle: 0 };
  const settlements: string[] = [];
  const local: FacilitatorClient = {
    verify: (payload, requirements) => {
      calls.verify++;
      return facilitator.verify(payload, requirements);
    },
    settle: async (payload, requirements) => {
      calls.settle++;
      const r = await facilitator.settle(payload, requirements);
      if (r.transaction) settlements.push(r.transaction);
      return r;
    },
    getSupported: async () => facilitator.getSupported() as never,
  };

  // The server scheme prices "$0.001" in the test token: its documented money parser hook, nothing else changed.
  const exact = new ExactServerScheme().registerMoneyParser(async (amount, net) =>
    net === network ? { amount: parseUnits(String(amount), 6).toString(), asset: o.usdc, extra: { ...TEST_USD_DOMAIN } } : null);
  const server = new x402ResourceServer(local).register(network, exact);
  const accepts = { scheme: 'exact', price: o.price ?? '$0.001', network, payTo: o.payTo, ...(o.maxTimeoutSeconds ? { maxTimeoutSeconds: o.maxTimeoutSeconds } : {}) };

  const app = express();
  app.use(paymentMiddleware({
    'GET /weather': { accepts, description: 'The weather', mimeType: 'application/json' },
    'GET /broken': { accepts, description: 'Fails', mimeType: 'application/json' },
  }, server));
  app.get('/weather', (_req, res) => {
    res.json({ city: 'Lisbon', sky: 'clear' });
  });
  app.get('/broken', (_req, res) => {
    res.status(500).json({ error: 'out of weather' });
  });
  app.get('/free', (_req, res) => {
    res.json({ free: true });
  });
  const http_ = await new Promise<Server>((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  return {
    url: `http://127.0.0.1:${(http_.address() as AddressInfo).port}`,
    calls,
    settlements,
    stop: () => new Promise((ok) => {
      http_.closeAllConnections();
      http_.close(() => ok());
    }),
  };
}

/**
 * One seller offering two schemes, made of two real sellers: a `channels serve` paywall (scheme `channel`)
 * and an x402 `exact` seller. An unpaid request gets one 402 listing both offers (the exact seller's
 * resource); a paid one goes to the seller of the scheme its PAYMENT-SIGNATURE accepted, and everything else
 * (the channel endpoint: close, sync) to the paywall. Answers are passed through unchanged.
 */
export async function startTwoSchemeSeller(channelUrl: string, exactUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const decode = (h: string | null) => JSON.parse(Buffer.from(h ?? '', 'base64').toString('utf8'));
  const server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const signature = req.headers['payment-signature'];
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = v;
      const pass = async (base: string) => {
        const r = await fetch(base + req.url, { method: req.method, headers, body: body as never });
        const out: Record<string, string> = {};
        r.headers.forEach((v, k) => {
          if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') out[k] = v;
        });
        res.writeHead(r.status, out);
        res.end(Buffer.from(await r.arrayBuffer()));
      };
      if (typeof signature === 'string') return await pass(decode(signature).accepted?.scheme === 'exact' ? exactUrl : channelUrl);
      const [a, b] = await Promise.all([fetch(channelUrl + req.url, { method: req.method, headers }), fetch(exactUrl + req.url, { method: req.method, headers })]);
      if (a.status !== 402 || b.status !== 402) return await pass(channelUrl);
      const [pa, pb] = [decode(a.headers.get('payment-required')), decode(b.headers.get('payment-required'))];
      res.writeHead(402, { 'content-type': 'application/json', 'payment-required': Buffer.from(JSON.stringify({ ...pb, accepts: [...pa.accepts, ...pb.accepts] })).toString('base64') });
      res.end('{}');
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
