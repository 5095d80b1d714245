/**
 * A real litecoind regtest node for the Bitcoin tests, and wallets configured for it
 * through the real `channels config set` (network "regtest", the default network).
 */
import { describe } from 'vitest';
import { startLitecoind, fundRegtestKeys, startAutoMiner, burnAddress, litecoindBinary, type RegtestNode } from '../../src/devnet/litecoind.js';
import { BitcoinBackend } from '../../src/families/bitcoin/backend.js';
import { makeWallet, type TestWallet } from './cli.js';
import { runInProcess } from './in-process.js';

export interface BitcoinChain {
  node: RegtestNode;
  backend: BitcoinBackend;
  /** Mines `n` blocks to an address nobody holds. */
  mine(n?: number): Promise<void>;
  /** Moves the node's clock to `time` (unix s) and mines 11 blocks so the median time past follows. */
  warpTo(time: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts litecoind -regtest. With `autoMine`, a block is mined whenever the mempool
 * holds transactions (as `channels devnet` does), so `open` and `close` confirm.
 * Fails loudly when litecoind is not installed (`.ci/run` installs it).
 */
export async function startBitcoinChain(o: { autoMine?: boolean; extraArgs?: string[] } = {}): Promise<BitcoinChain> {
  const node = await startLitecoind({ extraArgs: o.extraArgs });
  const stopMiner = o.autoMine === false ? () => {} : startAutoMiner(node, 200);
  const backend = new BitcoinBackend(node.caip2, node.rpcUrl);
  const mine = async (n = 1) => {
    await node.mine(n, burnAddress(node));
  };
  return {
    node, backend, mine,
    warpTo: async (time) => {
      await node.rpc.call('setmocktime', [time]);
      await mine(11);
    },
    // The node's data is thrown away: SIGKILL instead of litecoind's SIGTERM shutdown, which
    // flushes its databases for ≈ 4 s; node.stop() then finds it exited and removes the datadir.
    stop: async () => {
      stopMiner();
      node.process.kill('SIGKILL');
      await node.stop();
    },
  };
}

export interface BitcoinWallet extends TestWallet {
  /** Channel pubkey (coin type 1), hex. */
  pubkey: string;
}

/**
 * A wallet (file keystore) whose default network is the regtest node, added with
 * `config set networks.regtest <rpcUrl> <bip122 id>` and `config set defaultNetwork regtest`
 * (both run in process: the real command classes, without two process starts per wallet; the
 * spawned `config set` keeps its own tests); `fund` gives it one mature coinbase.
 * The pubkey is the one `keys import --json` printed (`keys show` prints the same; its own
 * tests are in bitcoin-devnet and devnet-homes).
 */
export async function makeBitcoinWallet(name: string, chain: BitcoinChain, o: { fund?: boolean } = {}): Promise<BitcoinWallet> {
  const w = await makeWallet(name, 'http://127.0.0.1:1');
  delete w.env.CHANNELS_RPC_URL;
  const set = await runInProcess(['config', 'set', 'networks.regtest', chain.node.rpcUrl, chain.node.caip2, '--json'], w.env);
  if (set.code !== 0) throw new Error(`config set networks.regtest failed: ${set.stdout}${set.stderr}`);
  const def = await runInProcess(['config', 'set', 'defaultNetwork', 'regtest'], w.env);
  if (def.code !== 0) throw new Error(`config set defaultNetwork failed: ${def.stdout}${def.stderr}`);
  const pubkey = w.key.bitcoinPubkeys?.['1'];
  if (!pubkey) throw new Error(`keys import printed no Bitcoin pubkey: ${JSON.stringify(w.key)}`);
  if (o.fund !== false) await fundRegtestKeys(chain.node, [pubkey]);
  return { ...w, pubkey };
}

/**
 * Several wallets as makeBitcoinWallet makes them, created side by side; the ones named in
 * `funded` get their coinbase from one fundRegtestKeys call (its blocks one after the other:
 * concurrent generatetoaddress calls can mine two blocks on one tip, leaving a funding
 * coinbase stale), so they share one 100-block maturation.
 */
export async function makeBitcoinWallets(chain: BitcoinChain, names: string[], funded: string[]): Promise<BitcoinWallet[]> {
  const wallets = await Promise.all(names.map((name) => makeBitcoinWallet(name, chain, { fund: false })));
  const toFund = wallets.filter((_, i) => funded.includes(names[i]!));
  if (toFund.length) await fundRegtestKeys(chain.node, toFund.map((w) => w.pubkey));
  return wallets;
}

/**
 * `describe` for tests that need litecoind. In CI (CI=true, as `.ci/run` sets) it is
 * always `describe`, so a missing litecoind fails the suite. Elsewhere, without
 * litecoind, the tests are reported as skipped with a warning naming the package.
 */
export const describeBitcoin: typeof describe = (() => {
  if (litecoindBinary() || process.env.CI) return describe;
  process.stderr.write('\n*** litecoind is not installed: the Bitcoin-family tests are NOT RUN (apt-get install litecoind; CI installs it). ***\n\n');
  return describe.skip as unknown as typeof describe;
})();
