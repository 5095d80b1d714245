/**
 * CLI behaviour of the real binary outside a purchase: keys and keystores, devnet,
 * unreachable or wrong-chain RPC nodes, --help examples and --json on every command.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptKeystoreJson } from 'ethers';
import { readFileSync } from 'node:fs';
import { startAnvil, type Anvil } from '../helpers/anvil.js';
import { PASSWORD, cliEnv, makeWallet, readConfig, runBin, startChain, startDevnet, type Chain } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { contractAddress } from '../../dist/families/evm/index.js';

const COMMANDS = ['buy', 'close', 'collect', 'devnet', 'keys new', 'keys list', 'keys show', 'list', 'open', 'pay', 'serve', 'settle', 'status'];

function bareEnv(): NodeJS.ProcessEnv {
  const env = cliEnv({ CHANNELS_HOME: mkdtempSync(join(tmpdir(), 'channels-cli-')) });
  delete env.CHANNELS_PASSWORD;
  delete env.CHANNELS_PASSWORD_FILE;
  delete env.CHANNELS_RPC_URL;
  return env;
}

let chain: Chain;
beforeAll(async () => {
  chain = await startChain();
});
afterAll(async () => {
  await chain?.stop();
});

describe('keys', () => {
  it('file keystore: 0600 file in a 0700 directory that ethers decrypts to the same address', async () => {
    const w = await makeWallet('alice', chain.anvil.rpcUrl);
    const file = join(w.home, 'keys', 'alice.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(w.home, 'keys')).mode & 0o777).toBe(0o700);
    const account = await decryptKeystoreJson(readFileSync(file, 'utf8'), PASSWORD);
    expect(account.address).toBe(w.address);
    const show = await w.run(['keys', 'show', '--json']);
    expect(show.json).toMatchObject({ name: 'alice', address: w.address, keystore: 'file', isDefault: true });
    expect(show.json.mnemonic).toBeUndefined();
    const wrong = await w.run(['keys', 'show', '--reveal', '--json'], { CHANNELS_PASSWORD: 'wrong' });
    expect(wrong.code).toBe(7);
    expect(wrong.json.error.message).toMatch(/wrong passphrase/);
  });

  it('a file keystore with no passphrase and no TTY exits 7 and stores nothing', async () => {
    const env = bareEnv();
    const r = await runBin(['keys', 'new', 'bob', '--keystore', 'file', '--json'], env);
    expect(r.code).toBe(7);
    expect(r.json.error.message).toMatch(/No passphrase/);
    expect(r.json.error.hints.join(' ')).toMatch(/CHANNELS_PASSWORD/);
    expect(existsSync(join(env.CHANNELS_HOME!, 'keys', 'bob.json'))).toBe(false);
    expect(readConfig(env.CHANNELS_HOME!).keys).toEqual({});
  });

  it('passphrase from CHANNELS_PASSWORD_FILE', async () => {
    const env = bareEnv();
    const pwFile = join(env.CHANNELS_HOME!, 'pw');
    (await import('node:fs')).writeFileSync(pwFile, 'from-a-file\n', { mode: 0o600 });
    const r = await runBin(['keys', 'new', 'carol', '--keystore', 'file', '--json'], { ...env, CHANNELS_PASSWORD_FILE: pwFile });
    expect(r.code, r.stderr).toBe(0);
    const account = await decryptKeystoreJson(readFileSync(join(env.CHANNELS_HOME!, 'keys', 'carol.json'), 'utf8'), 'from-a-file');
    expect(account.address).toBe(r.json.address);
  });

  it('OS keychain: works where a Secret Service runs (always in CI), else exits 7 naming --keystore file', async () => {
    const env = bareEnv();
    const r = await runBin(['keys', 'new', 'dave', '--json'], env);
    if (process.env.CI || r.code === 0) {
      // CI runs the tests inside dbus-run-session with an unlocked gnome-keyring: the real keychain path.
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json.keystore).toBe('keychain');
      const shown = await runBin(['keys', 'show', 'dave', '--reveal', '--json'], env);
      expect(shown.code).toBe(0);
      expect(shown.json.mnemonic.split(' ')).toHaveLength(12);
      expect(shown.json.address).toBe(r.json.address);
    } else {
      expect(r.code).toBe(7);
      expect(r.json.error.hints.join(' ')).toMatch(/--keystore file/);
      expect(readConfig(env.CHANNELS_HOME!).keys).toEqual({});
    }
  });
});

describe('chain access', () => {
  it('a dead RPC node: exit 6, nothing stored', async () => {
    const w = await makeWallet('erin', chain.anvil.rpcUrl);
    const r = await w.run(['open', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0.1eth', '--json', '--rpc-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(6);
    expect(r.json.error.code).toBe('NETWORK');
    expect(existsSync(join(w.home, 'channels.db')) ? (await w.run(['list', '--json'])).json.channels : []).toEqual([]);
  });

  it('a node for another chain id: exit 6, nothing stored', async () => {
    const other: Anvil = await startAnvil({ chainId: 1337 });
    try {
      const w = await makeWallet('frank', other.rpcUrl);
      const r = await w.run(['open', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0.1eth', '--json']);
      expect(r.code).toBe(6);
      expect(r.json.error.message).toMatch(/on chain 1337, not 31337/);
      expect((await w.run(['list', '--json'])).json.channels).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('opening refuses a contract address whose code is not our build', async () => {
    const w = await makeWallet('gina', chain.anvil.rpcUrl);
    await chain.fund(w.address, '1');
    const cfg = join(w.home, 'config.json');
    const conf = readConfig(w.home);
    conf.networks = { devnet: { kind: 'evm', caip2: 'eip155:31337', rpcUrl: chain.anvil.rpcUrl, contract: '0x4e59b44847b379578588920cA78FbF26c0B4956C' } };
    (await import('node:fs')).writeFileSync(cfg, JSON.stringify(conf));
    const r = await w.run(['open', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0.1eth', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('CONTRACT_MISMATCH');
    expect(await chain.balance(w.address)).toBe(10n ** 18n);
  });

  it('bad amounts are usage errors (exit 2) naming the value', async () => {
    const w = await makeWallet('hank', chain.anvil.rpcUrl);
    // The first through the binary (its exit code), the other parsing rows in process (test/helpers/in-process.ts).
    for (const [i, bad] of ['-1', '1e21', '0x10', '1.5', '0.0000000000000000001eth'].entries()) {
      const args = ['open', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', bad, '--json'];
      const r = i === 0 ? await w.run(args) : await runInProcess(args, w.env);
      expect(r.code, bad).toBe(2);
      expect(r.json.error.message).toContain(bad);
    }
  });
});

describe('devnet', () => {
  it('prints one JSON line when ready and stops anvil on SIGINT', async () => {
    const env = bareEnv();
    const { child, info } = await startDevnet(env, ['--no-bitcoin']); // litecoind's devnet: bitcoin-devnet.test.ts
    expect(info).toMatchObject({ chainId: 31337, contract: contractAddress() });
    const code = (await fetch(info.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getCode', params: [info.contract, 'latest'] }) }).then((r) => r.json())) as { result: string };
    expect(code.result.length).toBeGreaterThan(1000);
    const exited = new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(info.rpcUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});

describe('help and json', () => {
  it.each(COMMANDS)('%s --help shows examples and --json', async (cmd) => {
    const r = await runBin([...cmd.split(' '), '--help'], bareEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/--json/);
  });

  it('an unknown channel is a usage error with a JSON error object', async () => {
    const w = await makeWallet('ivy', chain.anvil.rpcUrl);
    const r = await w.run(['status', '0xdead', '--json']);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ status: 2, error: { code: 'NOT_FOUND' } });
  });
});
