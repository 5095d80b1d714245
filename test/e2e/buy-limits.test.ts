/**
 * Issue 9 §3.3: `buy --max-time` and `--connect-timeout` (curl's flags) against merchants
 * that never answer, with the real binary: exit 6 (code TIMEOUT) naming the limit and how
 * long it ran, progress lines on stderr while it waits, and — once a voucher was committed —
 * the voucher stays recorded and the message says so.
 *
 * - A silent merchant: a real loopback server that accepts the connection and never answers.
 * - A merchant that answers the unpaid request with a real `channel` 402, then goes silent
 *   on the paid retry (a channel opened on a real anvil).
 * - A blackholed merchant: a listening socket whose process is stopped (SIGSTOP) and whose
 *   accept queue is full, so a new connection's SYN is dropped and the connect hangs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePaymentRequiredHeader } from '@x402/core/http';
import { Wallet } from 'ethers';
import { dbSnapshot, makeWallet, startChain, type Chain, type TestWallet } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

let chain: Chain;
let payer: TestWallet;
const silent: { server?: Server; url?: string } = {};

/** A server that reads requests and never answers them. */
async function silentServer(): Promise<{ server: Server; url: string }> {
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/weather` };
}

beforeAll(async () => {
  chain = await startChain();
  payer = await makeWallet('limits', chain.anvil.rpcUrl);
  await chain.fund(payer.address);
  expect((await payer.run(['list', '--json'])).code).toBe(0); // creates the database the snapshots read
  Object.assign(silent, await silentServer());
}, 120_000);

afterAll(async () => {
  silent.server?.closeAllConnections();
  silent.server?.close();
  await chain?.stop();
});

describe('--max-time against a merchant that never answers', { timeout: 240_000 }, () => {
  it('exits 6 naming --max-time and the time it ran; stderr shows a waiting line first', async () => {
    const before = dbSnapshot(payer.home);
    const started = Date.now();
    const r = await payer.run(['buy', silent.url!, '--max-time', '1', '--max-price', '5000', '--yes']);
    const wall = Date.now() - started;
    expect(r.code, r.stderr).toBe(6);
    expect(r.stdout).toBe('');
    const origin = new URL(silent.url!).origin;
    // The line says how long it has waited: 0.5 s on an idle machine, a little more when the timer fires late under load.
    const waiting = new RegExp(`Waiting for ${origin.replace(/\./g, '\\.')} \\(no answer after (\\d+\\.\\d) s\\)…\\n`).exec(r.stderr);
    expect(waiting, r.stderr).not.toBeNull();
    expect(Number(waiting![1])).toBeGreaterThanOrEqual(0.5);
    expect(r.stderr).toMatch(new RegExp(`Error: Timed out after \\d+\\.\\d s: --max-time 1 s ran out while waiting for ${origin.replace(/\./g, '\\.')}\\.\\nRaise --max-time`));
    // The progress line comes before the error.
    expect(r.stderr.indexOf('Waiting for')).toBeLessThan(r.stderr.indexOf('Error:'));
    // Generous: the old buy waited 60 s for the headers.
    expect(wall).toBeLessThan(45_000);
    expect(dbSnapshot(payer.home)).toBe(before);
  });

  it('--json: code TIMEOUT with the limit, its value and the elapsed time; decimals are accepted', async () => {
    const r = await payer.run(['buy', silent.url!, '--max-time', '0.8', '--json']);
    expect(r.code).toBe(6);
    expect(r.json.error).toMatchObject({ name: 'Buy.TimeoutError', code: 'TIMEOUT', data: { limit: 'max-time', limitSeconds: 0.8 } });
    expect(r.json.error.data.elapsedSeconds).toBeGreaterThanOrEqual(0.8);
    expect(r.json.error.message).toMatch(/^Timed out after \d+\.\d s: --max-time 0\.8 s ran out while waiting for http:\/\/127\.0\.0\.1:\d+\.$/);
    expect(r.stderr).toBe(''); // no progress lines with --json
  });

  // Parsing rows run in process (test/helpers/in-process.ts); the first also through the binary, for its exit code.
  it.each([['0', 'binary'], ['-1', 'in process'], ['1e3', 'in process'], ['abc', 'in process'], ['1.2345', 'in process']])('--max-time %s is a usage error (exit 2, %s)', async (v, via) => {
    const args = ['buy', silent.url!, `--max-time=${v}`, '--json'];
    const r = via === 'binary' ? await payer.run(args) : await runInProcess(args, payer.env);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toContain(`Invalid --max-time "${v}"`);
  });
});

describe('--max-time after the voucher is committed', { timeout: 240_000 }, () => {
  let hung: Server;
  let paidRequests = 0;
  let channelId: string;

  beforeAll(async () => {
    const payee = Wallet.createRandom().address;
    const opened = await payer.run(['open', payee, '0.001eth', '--json']);
    expect(opened.code, opened.stderr).toBe(0);
    channelId = opened.json.channelId;
    const challenge = encodePaymentRequiredHeader({
      x402Version: 2, error: 'Payment required', resource: { url: 'http://x/weather' },
      accepts: [{
        scheme: 'channel', network: `eip155:${chain.anvil.chainId}`, amount: '1000', asset: '0x0000000000000000000000000000000000000000', payTo: payee,
        maxTimeoutSeconds: 60, extra: { contract: opened.json.contract, minDeposit: '0', minSettleDelay: 60, endpoint: '/.well-known/channels' },
      }],
    } as never);
    // Answers the unpaid request with a real `channel` 402; never answers a paid one.
    hung = createServer((req, res) => {
      if (req.headers['payment-signature']) {
        paidRequests++;
        return;
      }
      res.writeHead(402, { 'payment-required': challenge });
      res.end();
    });
    await new Promise<void>((ok) => hung.listen(0, '127.0.0.1', ok));
  }, 60_000);

  afterAll(() => {
    hung?.closeAllConnections();
    hung?.close();
  });

  it('exits 6 and says the committed voucher stays recorded; status shows it', async () => {
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/weather`;
    const r = await payer.run(['buy', url, '--max-time', '3', '--max-price', '5000']);
    expect(r.code, r.stderr).toBe(6);
    expect(paidRequests).toBe(1);
    expect(r.stderr).toContain(`402: 1,000 wei per request; paying on channel ${channelId}.`);
    expect(r.stderr).toMatch(/Error: Timed out after \d+\.\d s: --max-time 3 s ran out while waiting for http:\/\/127\.0\.0\.1:\d+\./);
    expect(r.stderr).toContain(`Voucher 1 (1,000 wei in all) on channel ${channelId} was committed before the limit and stays recorded`);
    expect(r.stderr).toContain('`channels sync` reconciles');
    const status = await payer.run(['status', channelId, '--json']);
    expect(status.json).toMatchObject({ vouchers: 1, spent: '1000', charged: '0' });
    expect(status.json.best[0]).toMatchObject({ nonce: '1', amount: '1000' });
  });
});

describe('--connect-timeout against a merchant that never accepts the connection', { timeout: 240_000 }, () => {
  let listener: ChildProcess;
  let port: number;
  const fillers: Socket[] = [];

  /** Connects, resolving whether the handshake completed within `ms`. */
  const handshake = (ms: number) =>
    new Promise<boolean>((ok) => {
      const s = net.connect({ host: '127.0.0.1', port });
      fillers.push(s);
      const timer = setTimeout(() => ok(false), ms);
      s.once('connect', () => (clearTimeout(timer), ok(true)));
      s.once('error', () => (clearTimeout(timer), ok(false)));
    });

  beforeAll(async () => {
    // A listening socket (backlog 1) whose process is stopped: the kernel completes handshakes
    // into the accept queue until it is full, then drops SYNs, so later connects hang.
    listener = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((ok) => listener.stdout!.once('data', (d) => ok(Number(String(d).trim()))));
    process.kill(listener.pid!, 'SIGSTOP');
    let full = false;
    for (let i = 0; i < 64 && !full; i++) full = !(await handshake(1500));
    expect(full, 'the accept queue never filled').toBe(true);
  }, 120_000);

  afterAll(() => {
    for (const s of fillers) s.destroy();
    listener?.kill('SIGKILL');
  });

  it('exits 6 naming --connect-timeout and the time it ran', async () => {
    const before = dbSnapshot(payer.home);
    const r = await payer.run(['buy', `http://127.0.0.1:${port}/weather`, '--connect-timeout', '1', '--json']);
    expect(r.code, r.stdout).toBe(6);
    expect(r.json.error).toMatchObject({ code: 'TIMEOUT', data: { limit: 'connect-timeout', limitSeconds: 1 } });
    expect(r.json.error.message).toMatch(new RegExp(`^Timed out after \\d+\\.\\d s: --connect-timeout 1 s ran out while connecting to http://127\\.0\\.0\\.1:${port}\\.$`));
    expect(r.json.error.hints.join('\n')).toContain('did not accept the connection');
    expect(dbSnapshot(payer.home)).toBe(before);
  });

  it('positive control: with --max-time shorter than --connect-timeout, --max-time is the limit named', async () => {
    const r = await payer.run(['buy', `http://127.0.0.1:${port}/weather`, '--connect-timeout', '30', '--max-time', '1', '--json']);
    expect(r.code).toBe(6);
    expect(r.json.error.data.limit).toBe('max-time');
  });
});
