/**
 * Deploys the compiled contracts (artifacts/contracts.json, written by
 * scripts/compile-contract.mjs) to a test chain.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Contract, ContractFactory, JsonRpcProvider, Wallet, ethers, type InterfaceAbi, type Signer } from 'ethers';
import { ANVIL_KEYS, REPO_ROOT } from './anvil.js';
import { deployPaymentChannels as deployCreate2 } from '../../src/families/evm/deploy.js';

/** Arachnid's deterministic deployment proxy, preinstalled on anvil. */
export const CREATE2_PROXY = '0x4e59b44847b379578588920cA78FbF26c0B4956C';
export const ZERO_SALT = ethers.ZeroHash;

export interface Artifact {
  abi: InterfaceAbi;
  bytecode: string;
  deployedBytecode: string;
  immutableReferences: Record<string, { start: number; length: number }[]>;
}

let cache: Record<string, Artifact> | undefined;

/** Reads artifacts/contracts.json; throws with the command to run when it is missing. */
export function artifacts(): Record<string, Artifact> {
  if (cache) return cache;
  const path = join(REPO_ROOT, 'artifacts', 'contracts.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`node scripts/compile-contract.mjs\` first`);
  cache = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Artifact>;
  return cache;
}

/** The artifact of contract `name`. */
export function artifact(name: string): Artifact {
  const a = artifacts()[name];
  if (!a) throw new Error(`no artifact for ${name} in artifacts/contracts.json`);
  return a;
}

/** A JSON-RPC provider that does not re-query the chain id and polls fast (anvil automines). */
export function provider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const p = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, cacheTimeout: -1 });
  p.pollingInterval = 20;
  return p;
}

/** Wallets for the first `n` anvil dev accounts. */
export function wallets(p: JsonRpcProvider, n: number = ANVIL_KEYS.length): Wallet[] {
  return ANVIL_KEYS.slice(0, n).map((k) => new Wallet(k, p));
}

/**
 * Deploys PaymentChannels with CREATE2 through the deterministic deployment proxy, salt
 * zero, with the wallet's own deploy code (src/families/evm/deploy.ts), so it lands at
 * the same address on every chain. Idempotent.
 * @throws when the proxy is absent or the deployment leaves no code
 */
export async function deployPaymentChannels(signer: Signer): Promise<Contract> {
  const p = signer.provider as JsonRpcProvider | null;
  if (!p) throw new Error('deployPaymentChannels: signer has no provider');
  const { address } = await deployCreate2(signer, p);
  return new Contract(address, artifact('PaymentChannels').abi, signer);
}

/** Deploys contract `name` with plain CREATE. */
export async function deployPlain(signer: Signer, name: string, ...args: unknown[]): Promise<Contract> {
  const { abi, bytecode } = artifact(name);
  const contract = await new ContractFactory(abi, bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract as Contract;
}
