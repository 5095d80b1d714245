/**
 * Issue 9, bug 8: a second `channels devnet` on a busy port printed success, funded its
 * keys on the chain already running there and rewrote `networks.regtest` to its own
 * litecoind, which it then stopped. A busy port (and any bad --fund value) is now an error
 * (exit 2) before anything is started, funded or written. Also: the human output names the
 * command another home runs, and devnet.json goes away with the devnet.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, makeWallet, startDevnet, type TestWallet } from '../helpers/cli.js';
import { rpc } from '../helpers/anvil.js';
import { describeBitcoin } from '../helpers/bitcoin.js';

/** A wallet whose commands use its own config (no CHANNELS_RPC_URL override). */
async function wallet(name: string): Promise<TestWallet> {
  const w = await makeWallet(name, 'http://127.0.0.1:1');
  delete w.env.CHANNELS_RPC_URL;
  return w;
}

/**
 * Runs `channels devnet <args>` until it exits, or until it prints a ready line (a devnet
 * that started: stopped with SIGINT then, and reported as `started`).
 */
function runDevnet(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; started: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'devnet', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (!started && (/^\{"rpcUrl"/m.test(stdout) || /Press Ctrl-C/.test(stdout))) {
        started = true;
        child.kill('SIGINT');
      }
    });
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('close', (code) => resolve({ code, started, stdout, stderr }));
  });
}

/** Processes whose command line mentions `text` (from /proc). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text)) found.push(`${pid}: ${cmd}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

let first: TestWallet;
let running: Awaited<ReturnType<typeof startDevnet>>;
beforeAll(async () => {
  first = await wallet('first');
  running = await startDevnet(first.env, ['--no-bitcoin']);
});
afterAll(async () => {
  if (running?.child.exitCode === null) {
    const exited = new Promise((ok) => running.child.once('exit', ok));
    running.child.kill('SIGINT');
    await exited;
  }
});

describeBitcoin('a second devnet on a busy port (bug 8)', () => {
  it('exits 2 at once, naming the port and what to do; funds nothing, writes nothing, leaves no litecoind', async () => {
    const port = Number(new URL(running.info.rpcUrl).port);
    const second = await wallet('second');
    const configBefore = readFileSync(join(second.home, 'config.json'));
    // litecoind's datadir is made under TMPDIR: a fresh one shows whether one was started.
    const tmp = mkdtempSync(join(tmpdir(), 'channels-devnet-tmp-'));
    const r = await runDevnet(['--port', String(port), '--json'], { ...second.env, TMPDIR: tmp });
    expect(r.started, r.stdout).toBe(false);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({ code: 'PORT_IN_USE', data: { port } });
    expect(error.message).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(error.message).toMatch(/chain 31337/); // the devnet there answers
    expect(error.hints.join('\n')).toContain(`channels devnet --port ${port + 1}`);
    expect(error.hints.join('\n')).toContain('channels config import <its home>/devnet.json');

    expect(readFileSync(join(second.home, 'config.json')).equals(configBefore)).toBe(true);
    expect(existsSync(join(second.home, 'devnet.json'))).toBe(false);
    expect(BigInt(await rpc<string>(running.info.rpcUrl, 'eth_getBalance', [second.address, 'latest']))).toBe(0n);
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesMentioning(tmp)).toEqual([]);
    // The first devnet is untouched and still serves.
    expect(running.child.exitCode).toBeNull();
    expect(Number(await rpc<string>(running.info.rpcUrl, 'eth_chainId'))).toBe(31337);

    const human = await runDevnet(['--port', String(port)], { ...second.env, TMPDIR: tmp });
    expect(human.started).toBe(false);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(human.stderr).toContain('--port');
    expect(readFileSync(join(second.home, 'config.json')).equals(configBefore)).toBe(true);
  }, 60_000);
});

it.each([
  { name: 'an unknown key name', fund: 'nosuchkey', says: /--fund nosuchkey: not an EVM address, a key of this wallet or a channels home directory/ },
  { name: 'a missing directory', fund: '/nonexistent/channels-home', says: /is not a directory/ },
  { name: 'a directory that is no channels home', fund: mkdtempSync(join(tmpdir(), 'channels-not-a-home-')), says: /is not a channels home \(no config.json\)/ },
  { name: 'an address with a bad checksum', fund: '0x70997970c51812dc3A010C7d01b50e0d17dc79C8', says: /checksum/ },
])('--fund with $name is exit 2 before anything starts', async ({ fund, says }) => {
  const w = await wallet('fundbad');
  const configBefore = readFileSync(join(w.home, 'config.json'));
  const tmp = mkdtempSync(join(tmpdir(), 'channels-devnet-tmp-'));
  const r = await runDevnet(['--port', '0', '--json', '--fund', fund], { ...w.env, TMPDIR: tmp });
  expect(r.started).toBe(false);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(JSON.parse(r.stdout).error.message).toMatch(says);
  expect(readFileSync(join(w.home, 'config.json')).equals(configBefore)).toBe(true);
  expect(readdirSync(tmp)).toEqual([]);
});

it('the human output names the import command for other homes; devnet.json (0600) goes away with the devnet', async () => {
  const w = await wallet('human');
  const child = spawn(process.execPath, [BIN, 'devnet', '--port', '0', '--no-bitcoin'], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl-C')) ok();
    });
    child.once('exit', (c) => fail(new Error(`devnet exited ${c}: ${out}`)));
  });
  const file = join(w.home, 'devnet.json');
  expect(out).toContain(`CHANNELS_HOME=<its home> channels config import ${file}`);
  expect(out).toContain(w.address);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const info = JSON.parse(readFileSync(file, 'utf8'));
  expect(info.networks.devnet).toMatchObject({ kind: 'evm', caip2: 'eip155:31337', rpcUrl: info.rpcUrl });
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(existsSync(file)).toBe(false);
});
