/**
 * End-to-end harness: the real `channels` binary (bin/run.js, built by `npm test`)
 * run in temporary `CHANNELS_HOME`s against a real anvil and a real `channels serve`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inject } from 'vitest';
import Database from 'better-sqlite3';
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, parseEther, randomBytes } from 'ethers';
import { ANVIL_KEYS, REPO_ROOT, startAnvil, type Anvil } from './anvil.js';
import { deployPaymentChannels, provider } from './deploy.js';

export const BIN = join(REPO_ROOT, 'bin', 'run.js');
export const PASSWORD = 'correct horse battery staple';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON. */
  json?: any;
}

/** A wallet: a temporary CHANNELS_HOME with one file-keystore key. */
export interface TestWallet {
  home: string;
  address: string;
  env: NodeJS.ProcessEnv;
  /** What `keys import --json` (or `keys new --json`) printed for the wallet's key. */
  key: { address: string; bitcoinPubkeys?: Record<string, string> };
  /** Runs `channels <args>` in this wallet; never throws on a non-zero exit. */
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult>;
}

/**
 * The environment of a user's shell for the binary: the test process's environment with `vars`,
 * without NODE_ENV. vitest sets NODE_ENV=test, which oclif reads as a development checkout: each
 * command start would then load the TypeScript compiler to look for sources beside dist/
 * (≈ 0.4 s of CPU, 40 % of a `pay`), which no installed `channels` does.
 */
export function cliEnv(vars: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A cheap scrypt only where a test asks for it: in-process tests set it in this worker's environment
  // (helpers/managers.ts), and a key file a later test file makes with `keys new` must get the default.
  delete env.CHANNELS_SCRYPT_N;
  Object.assign(env, vars);
  delete env.NODE_ENV;
  return env;
}

export function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** The EVM key's derivation path in key files (src/core/keys/wallet.ts EVM_PATH). */
const EVM_PATH = "m/44'/60'/0'/0/0";

/** scrypt N of test wallets' key files: the lowest channels accepts (src/core/keys/file.ts MIN_SCRYPT_N). */
const TEST_SCRYPT_N = String(1 << 14);

/** A home made by `keys import` once per run, and what that command printed. */
interface WalletTemplate {
  home: string;
  key: TestWallet['key'] & { file?: string };
}

/** How many wallets of each name this test file has made (the ordinal of the next one's template). */
const madeByName = new Map<string, number>();

/**
 * The run's template for the `ordinal`-th wallet named `name` of a test file: a home holding one
 * key made by the real `channels keys import … --keystore file` from a fresh mnemonic, with
 * CHANNELS_SCRYPT_N = 2^14 so its key file unlocks in ≈ 0.1 s instead of ≈ 1 s of CPU. It is made
 * once per `vitest run` (test/global-setup.ts) by whichever worker needs it first: test files run
 * on chains of their own, so two files may hold the same key, while one file's wallets differ.
 */
async function walletTemplate(name: string, ordinal: number): Promise<WalletTemplate> {
  const root = inject('walletTemplates');
  const dir = join(root, `${name}.${ordinal}`);
  const made = join(dir, 'made.json');
  if (existsSync(made)) return JSON.parse(readFileSync(made, 'utf8'));
  const tmp = mkdtempSync(join(root, `.${name}.${ordinal}-`));
  const home = join(dir, 'home');
  const env = cliEnv({ CHANNELS_HOME: join(tmp, 'home'), CHANNELS_PASSWORD: PASSWORD, CHANNELS_SCRYPT_N: TEST_SCRYPT_N });
  delete env.CHANNELS_PASSWORD_FILE;
  const mnemonic = Mnemonic.fromEntropy(randomBytes(16));
  const phraseFile = join(tmp, 'phrase.txt');
  writeFileSync(phraseFile, mnemonic.phrase, { mode: 0o600 });
  const r = await runBin(['keys', 'import', name, '--keystore', 'file', '--mnemonic-file', phraseFile, '--json'], env);
  unlinkSync(phraseFile);
  if (r.code !== 0) throw new Error(`keys import failed: ${r.stdout}${r.stderr}`);
  const expected = HDNodeWallet.fromMnemonic(mnemonic, EVM_PATH).address;
  if (r.json.address !== expected) throw new Error(`keys import made ${r.json.address}, expected ${expected}`);
  const template: WalletTemplate = { home, key: r.json };
  writeFileSync(join(tmp, 'made.json'), JSON.stringify(template));
  try {
    renameSync(tmp, dir); // atomic: another worker sees the whole template or none
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker made this template first: use its key
    return JSON.parse(readFileSync(made, 'utf8'));
  }
  return template;
}

/**
 * Creates a wallet with a key named `name` (file keystore) on `rpcUrl`: a copy of the run's
 * template home for this name and ordinal (made by the real `channels keys import` at scrypt
 * N = 2^14, the lowest N channels accepts, see walletTemplate), so each later `pay`, `buy` or
 * `serve` unlocks in ≈ 0.1 s instead of ≈ 1 s of CPU and making a wallet spawns nothing. With
 * `keysNew`, the key is made by `channels keys new` as a user would (N = 2^17), for the tests of
 * key files themselves.
 */
export async function makeWallet(name: string, rpcUrl: string, opts: { keysNew?: boolean } = {}): Promise<TestWallet> {
  const home = mkdtempSync(join(tmpdir(), `channels-${name}-`));
  const env = cliEnv({ CHANNELS_HOME: home, CHANNELS_PASSWORD: PASSWORD, CHANNELS_RPC_URL: rpcUrl });
  delete env.CHANNELS_PASSWORD_FILE;
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runBin(args, { ...env, ...extraEnv });
  if (opts.keysNew) {
    const r = await run(['keys', 'new', name, '--keystore', 'file', '--json']);
    if (r.code !== 0) throw new Error(`keys new failed: ${r.stdout}${r.stderr}`);
    return { home, address: r.json.address, key: r.json, env, run };
  }
  const ordinal = madeByName.get(name) ?? 0;
  madeByName.set(name, ordinal + 1);
  const template = await walletTemplate(name, ordinal);
  cpSync(template.home, home, { recursive: true });
  const key = { ...template.key, ...(template.key.file ? { file: join(home, relative(template.home, template.key.file)) } : {}) };
  return { home, address: key.address, key, env, run };
}

/** A local chain with the contract deployed (CREATE2) and a funder. */
export interface Chain {
  anvil: Anvil;
  provider: JsonRpcProvider;
  fund(address: string, eth?: string): Promise<void>;
  balance(address: string): Promise<bigint>;
  stop(): Promise<void>;
}

export async function startChain(): Promise<Chain> {
  const anvil = await startAnvil();
  const p = provider(anvil.rpcUrl, anvil.chainId);
  const funder = new Wallet(ANVIL_KEYS[0], p);
  await deployPaymentChannels(funder);
  let queue = Promise.resolve();
  return {
    anvil,
    provider: p,
    fund: (address, eth = '10') => {
      // one funding transaction at a time: the funder's nonce is shared
      queue = queue.then(async () => {
        const tx = await funder.sendTransaction({ to: address, value: parseEther(eth) });
        await tx.wait();
      });
      return queue;
    },
    balance: (address) => p.getBalance(address),
    stop: async () => {
      p.destroy();
      await anvil.stop();
    },
  };
}

/** A running `channels serve`. */
export interface Serve {
  /** Everything the paywall printed on stderr so far (watcher events, errors). */
  stderr(): string;
  url: string;
  payTo: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `channels serve` for `wallet` and waits for its JSON ready line. */
export function startServe(wallet: TestWallet, args: string[] = ['--price', '1000']): Promise<Serve> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', '--min-settle-delay', '60', ...args], { env: wallet.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}${err}`)), 30_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) {
        clearTimeout(timer);
        const info = JSON.parse(line);
        resolve({
          url: info.url,
          payTo: info.payTo,
          process: child,
          stderr: () => err,
          stop: () =>
            new Promise((ok) => {
              if (child.exitCode !== null) return ok();
              child.once('exit', () => ok());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${out}${err}`));
    });
  });
}

/** Every row of the wallet's channels and vouchers tables, as text (to prove nothing changed). */
export function dbSnapshot(home: string): string {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    const channels = db.prepare('SELECT * FROM channels ORDER BY network, id').all();
    const vouchers = db.prepare('SELECT * FROM vouchers ORDER BY network, channel_id, lane, nonce').all();
    return JSON.stringify({ channels, vouchers });
  } finally {
    db.close();
  }
}

/** A wallet's database rows (none when channels.db does not exist yet) and config.json, as text: to prove nothing changed. */
export function walletState(home: string): string {
  const db = existsSync(join(home, 'channels.db')) ? JSON.parse(dbSnapshot(home)) : { channels: [], vouchers: [] };
  return JSON.stringify({ db, config: readConfig(home) });
}

/**
 * SQL for `json_array(<every column>)` of `table` on `db`, so SQLite writes a row as text (exact
 * integers) without a JS call per field: for snapshots taken on every step of a property test.
 */
export function rowTextSql(db: Database.Database, table: string): string {
  return `json_array(${(db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).join(', ')})`;
}

/** The wallet's config.json. */
export function readConfig(home: string): any {
  return JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
}

/**
 * One channel row of a wallet's database (read-only), with its columns as stored but `data`
 * (the family's fields, JSON) parsed: `channelRow(home, id).data.closeFee`.
 */
export function channelRow(home: string, id: string): any {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT * FROM channels WHERE id = ?').get(id) as { data: string } | undefined;
    return row && { ...row, data: JSON.parse(row.data) };
  } finally {
    db.close();
  }
}

/** Starts `channels devnet --port 0 --json [args]` and resolves with the process and its ready line, parsed. */
export function startDevnet(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ child: ChildProcess; info: any }> {
  const child = spawn(process.execPath, [BIN, 'devnet', '--port', '0', '--json', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) ok({ child, info: JSON.parse(out.split('\n')[0]) });
    });
    child.once('exit', (c) => fail(new Error(`devnet exited ${c}`)));
  });
}
