/**
 * RPC faults (DESIGN §9 exit 6): every command that needs the chain, pointed at a node
 * that is down (`--rpc-url http://127.0.0.1:9`) or at a real anvil answering for another
 * chain id (1337 instead of 31337), exits 6 with a message naming the node or the chain
 * ids, and leaves the wallet's database and config.json as they were. Table-driven:
 * open, settle, collect, close (payee side), buy --yes (which must open), serve (at start).
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { startAnvil, type Anvil } from '../helpers/anvil.js';
import {
  BIN, makeWallet, startChain, startServe, walletState, type Chain, type RunResult, type Serve, type TestWallet,
} from '../helpers/cli.js';

const PRICE = 1000n;
const DOWN = 'http://127.0.0.1:9';

let chain: Chain;
let otherChain: Anvil;
let payee: TestWallet;
let payer: TestWallet;
/** A wallet with a key and no channel: `buy --yes` has to open one. */
let buyer: TestWallet;
let serve: Serve;
/** Open channel payer → payee with one voucher accepted by the payee. */
let openChannel = '';
/** Channel payer → payee in its settlement period. */
let settlingChannel = '';

/** Runs the binary with a hard deadline (a serve that does not exit must fail the test, not hang it). */
function run(w: TestWallet, args: string[], timeoutMs = 45_000): Promise<RunResult & { killed: boolean }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: w.env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code, stdout, stderr, json, killed: Boolean(e?.killed) });
    });
  });
}

interface Case {
  name: string;
  wallet: () => TestWallet;
  args: () => string[];
}

const CASES: Case[] = [
  { name: 'open', wallet: () => payer, args: () => ['open', Wallet.createRandom().address, '0.1eth'] },
  { name: 'settle <id>', wallet: () => payer, args: () => ['settle', openChannel] },
  { name: 'collect <id>', wallet: () => payer, args: () => ['collect', settlingChannel] },
  { name: 'close <id> (payee side)', wallet: () => payee, args: () => ['close', openChannel] },
  { name: 'buy --yes (has to open)', wallet: () => buyer, args: () => ['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.1eth', '--yes'] },
  { name: 'serve (at start)', wallet: () => payee, args: () => ['serve', '--port', '0', '--price', '1000', '--min-settle-delay', '60'] },
];

const FAULTS: { name: string; url: () => string; message: () => RegExp }[] = [
  { name: 'node down', url: () => DOWN, message: () => /The node at http:\/\/127\.0\.0\.1:9 is unreachable/ },
  { name: 'node on another chain id', url: () => otherChain.rpcUrl, message: () => /is on chain 1337, not 31337/ },
];

const TABLE = FAULTS.flatMap((f) => CASES.map((c) => ({ ...c, fault: f, title: `${c.name} — ${f.name}` })));

beforeAll(async () => {
  [chain, otherChain] = await Promise.all([startChain(), startAnvil({ chainId: 1337 })]);
  [payee, payer, buyer] = await Promise.all([
    makeWallet('shop', chain.anvil.rpcUrl), makeWallet('alice', chain.anvil.rpcUrl), makeWallet('bob', chain.anvil.rpcUrl),
  ]);
  await Promise.all([chain.fund(payee.address, '1'), chain.fund(payer.address, '5'), chain.fund(buyer.address, '5')]);
  serve = await startServe(payee, ['--price', PRICE.toString()]);

  const bought = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.1eth', '--yes', '--json']);
  expect(bought.code, bought.stdout + bought.stderr).toBe(0);
  openChannel = bought.json.channelId;

  const opened = await payer.run(['open', payee.address, '0.1eth', '--settle-delay', '3600', '--json']);
  expect(opened.code, opened.stdout + opened.stderr).toBe(0);
  settlingChannel = opened.json.channelId;
  const settled = await payer.run(['settle', settlingChannel, '--json']);
  expect(settled.code, settled.stdout + settled.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await Promise.all([chain?.stop(), otherChain?.stop()]);
});

describe('RPC faults → exit 6, nothing stored', () => {
  it('setup: the channels are where the cases expect them', async () => {
    const a = await payer.run(['status', openChannel, '--json']);
    expect(a.json.state).toBe('open');
    const b = await payer.run(['status', settlingChannel, '--json']);
    expect(b.json.state).toBe('settling');
    const c = await payee.run(['status', openChannel, '--json']);
    expect(c.json).toMatchObject({ direction: 'inbound', charged: PRICE.toString() });
  });

  it.each(TABLE)('$title', async (c) => {
    const w = c.wallet();
    const before = walletState(w.home);
    const r = await run(w, [...c.args(), '--json', '--rpc-url', c.fault.url()]);
    expect(r.killed, `did not exit: ${r.stdout}${r.stderr}`).toBe(false);
    expect(r.code, r.stdout + r.stderr).toBe(6);
    expect(r.json?.error?.code, r.stdout).toBe('NETWORK');
    expect(r.json.error.message).toMatch(c.fault.message());
    expect(walletState(w.home)).toBe(before);
  }, 60_000);

  it('positive control: the same commands work against the right node (settle, then collect refused only by time)', async () => {
    const r = await payer.run(['collect', settlingChannel, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(8); // reached the chain: settleAt is in the future
    const s = await payer.run(['settle', openChannel, '--json']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
  });
});
