/**
 * In-process EVM ChannelManagers over a test's anvil, each with its own home (a file key made with a
 * fast scrypt) and a real SQLite store: what the property and redemption tests drive the wallet's
 * logic with, without the binary. `manager(name)` again for a name reopens its home (no new key, no
 * funding): fresh managers on the same databases. `close()` closes every store and provider.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../src/core/config.js';
import { Store } from '../../src/core/store/index.js';
import { createKey } from '../../src/core/keys/wallet.js';
import { ChannelManager } from '../../src/families/evm/manager.js';
import { PASSWORD, type Chain } from './cli.js';

const KEY_ENV = ['CHANNELS_PASSWORD', 'CHANNELS_SCRYPT_N', 'CHANNELS_PASSWORD_FILE'] as const;

/**
 * The environment of in-process key files: the test password, a cheap scrypt, no password file.
 * @returns a function that puts the environment back as it was: the test worker runs other files
 *   after this one, and a key file another test makes must get the default scrypt (keystore.test.ts)
 */
export function inProcessKeys(): () => void {
  const saved = Object.fromEntries(KEY_ENV.map((k) => [k, process.env[k]]));
  process.env.CHANNELS_PASSWORD = PASSWORD;
  process.env.CHANNELS_SCRYPT_N = String(1 << 14);
  delete process.env.CHANNELS_PASSWORD_FILE;
  return () => {
    for (const k of KEY_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}

/** A pool of managers; it sets {@link inProcessKeys}' environment until `close()`. */
export function managersOn(chain: Chain, prefix: string) {
  const restoreEnv = inProcessKeys();
  const homes = new Map<string, string>();
  const stores: Store[] = [];
  const managers: ChannelManager[] = [];
  return {
    homes,
    /** The manager of key `name`, its home made and funded with `eth` on first use. */
    async manager(name: string, eth = '10'): Promise<ChannelManager> {
      let home = homes.get(name);
      const made = home !== undefined;
      home ??= mkdtempSync(join(tmpdir(), `channels-${prefix}-${name}-`));
      homes.set(name, home);
      const config = new Config(home);
      if (!made) await createKey(config, name, 'file');
      const store = Store.open(home);
      stores.push(store);
      const m = new ChannelManager(config, store, { name: 'devnet', kind: 'evm', caip2: `eip155:${chain.anvil.chainId}`, rpcUrl: chain.anvil.rpcUrl }, name);
      // ethers polls for receipts every 250 ms by default; anvil mines at once.
      (m.backend as unknown as { provider: { pollingInterval: number } }).provider.pollingInterval = 10;
      managers.push(m);
      if (!made) await chain.fund(m.address, eth);
      return m;
    },
    close(): void {
      for (const s of stores) s.close();
      for (const m of managers) (m.backend as unknown as { provider?: { destroy(): void } }).provider?.destroy();
      restoreEnv();
    },
  };
}
