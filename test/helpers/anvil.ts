/**
 * Starts a local anvil node for tests: a free loopback port, silent, ready when it answers
 * `eth_chainId`. Tests never skip when anvil is missing: they fail with a clear error.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anvilBinary, startAnvil as startNode } from '../../src/devnet/index.js';

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

/** Path of the anvil binary (the @foundry-rs/anvil package, else PATH); throws when missing. */
export const anvilPath = anvilBinary;

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
 * Starts anvil on a free loopback port (the wallet's own launcher, src/devnet/index.ts).
 * @param opts.chainId chain id to report (anvil's default is 31337)
 * @throws when anvil is missing, exits early, or does not answer: tests never skip
 */
export async function startAnvil(opts: { chainId?: number } = {}): Promise<Anvil> {
  const node = await startNode(opts);
  return { rpcUrl: node.rpcUrl, chainId: node.chainId, port: node.port, stop: node.stop };
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
