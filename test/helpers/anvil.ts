/**
 * Starts a local anvil node for tests: a free loopback port, silent, ready when it answers
 * `eth_chainId`. Tests never skip when anvil is missing: they fail with a clear error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (two levels above test/helpers). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Private keys of anvil's first five dev accounts (mnemonic "test test … junk"). */
export const ANVIL_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
] as const;

export interface Anvil {
  rpcUrl: string;
  chainId: number;
  port: number;
  /** Kills the node and waits for it to exit. */
  stop(): Promise<void>;
}

/** Path of the anvil binary: node_modules/.bin/anvil, else `anvil` on PATH. */
export function anvilPath(): string {
  const local = join(REPO_ROOT, 'node_modules', '.bin', 'anvil');
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'anvil'))) return join(dir, 'anvil');
  }
  throw new Error(
    `anvil not found: neither ${local} nor anvil on PATH. Run \`npm install\` (it installs @foundry-rs/anvil) or install Foundry.`,
  );
}

/** A port the OS just handed out on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port assigned'));
      server.close(() => resolve(address.port));
    });
  });
}

/** Sends one JSON-RPC request and returns its result; throws on a JSON-RPC error. */
export async function rpc<T = unknown>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/**
 * Starts anvil on a free loopback port.
 * @param opts.chainId chain id to report (anvil's default is 31337)
 * @returns the RPC URL, chain id, port and a `stop()` that kills the process
 * @throws {Error} when anvil is missing, exits early, or does not answer within 20 s
 */
export async function startAnvil(opts: { chainId?: number } = {}): Promise<Anvil> {
  const bin = anvilPath();
  const chainId = opts.chainId ?? 31337;
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--silent'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const rpcUrl = `http://127.0.0.1:${port}`;
    try {
      await waitReady(child, rpcUrl, chainId, () => stderr);
      return { rpcUrl, chainId, port, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      // Another process may have taken the port between freePort() and anvil's bind.
      if (attempt < 2 && /address already in use/i.test(stderr)) continue;
      throw err;
    }
  }
}

async function waitReady(child: ChildProcess, rpcUrl: string, chainId: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`anvil exited (${child.exitCode ?? child.signalCode}) before answering: ${stderr().trim()}`);
    }
    try {
      const id = await rpc<string>(rpcUrl, 'eth_chainId');
      if (Number(id) !== chainId) throw new Error(`anvil at ${rpcUrl} reports chain ${Number(id)}, expected ${chainId}`);
      return;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('anvil at')) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`anvil at ${rpcUrl} did not answer eth_chainId within 20 s: ${stderr().trim()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Moves the chain clock forward by `seconds` and mines a block with the new time. */
export async function increaseTime(rpcUrl: string, seconds: number): Promise<void> {
  await rpc(rpcUrl, 'evm_increaseTime', [seconds]);
  await rpc(rpcUrl, 'evm_mine');
}

/** Timestamp of the latest block, in unix seconds. */
export async function latestTimestamp(rpcUrl: string): Promise<bigint> {
  const block = await rpc<{ timestamp: string }>(rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  return BigInt(block.timestamp);
}
