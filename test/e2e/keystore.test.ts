/**
 * The encrypted-file keystore (DESIGN §8; the OS keychain is covered in cli.test.ts),
 * through the real binary: wrong passphrase, tampered ciphertext, weak scrypt
 * parameters and a missing passphrase without a TTY all exit 7 and change nothing;
 * key files are 0600 in a 0700 directory and are standard Web3 Secret Storage v3 that
 * ethers reads, and a file written by ethers is usable by `channels keys show --reveal`.
 */
import { execFile } from 'node:child_process';
import { scrypt as nodeScrypt } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HDNodeWallet, decryptKeystoreJson, encryptKeystoreJson, scrypt } from 'ethers';
import { BIN, PASSWORD, makeWallet, readConfig, type RunResult, type TestWallet } from '../helpers/cli.js';

const DEAD_RPC = 'http://127.0.0.1:9'; // no command here needs a chain

let w: TestWallet;

// ethers' scrypt in pure JS takes seconds at N = 2^17; use Node's (same result), as src/core/keys/file.ts does.
scrypt.register(
  (passwd, salt, N, r, p, dkLen) =>
    new Promise((ok, fail) =>
      nodeScrypt(passwd, salt, dkLen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? fail(err) : ok(new Uint8Array(key)))),
    ),
);

/** Runs the binary in `w`'s home with `env` changes; a key set to undefined is removed. */
function run(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const full: NodeJS.ProcessEnv = { ...w.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete full[k];
    else full[k] = v;
  }
  return new Promise((resolve) => {
    // stdin is a pipe, not a TTY: a passphrase prompt is impossible
    execFile(process.execPath, [BIN, ...args], { env: full, timeout: 60_000 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown }) | null;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr, json });
    });
  });
}

/** Registers a key file placed by hand, as `channels` records its own keys. */
function register(name: string, address: string): void {
  const path = join(w.home, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.keys[name] = { address, keystore: 'file', createdAt: Math.floor(Date.now() / 1000) };
  writeFileSync(path, JSON.stringify(config, null, 2));
}

const keyPath = (name: string) => join(w.home, 'keys', `${name}.json`);

/** An ethers-written key file for a fresh mnemonic. */
async function ethersKeyFile(n: number, password = PASSWORD) {
  const hd = HDNodeWallet.createRandom(undefined, "m/44'/60'/0'/0/0");
  const json = await encryptKeystoreJson(
    { address: hd.address, privateKey: hd.privateKey, mnemonic: { entropy: hd.mnemonic!.entropy, path: hd.path!, locale: 'en' } },
    password,
    { scrypt: { N: n, r: 8, p: 1 } },
  );
  return { hd, json };
}

beforeAll(async () => {
  w = await makeWallet('alice', DEAD_RPC, { keysNew: true });

  // tampered: alice's file with one hex digit of the ciphertext flipped
  const alice = JSON.parse(readFileSync(keyPath('alice'), 'utf8'));
  const box = alice.crypto ?? alice.Crypto; // ethers writes "Crypto", geth "crypto"
  const ct: string = box.ciphertext;
  box.ciphertext = (ct[0] === '0' ? '1' : '0') + ct.slice(1);
  writeFileSync(keyPath('tampered'), JSON.stringify(alice), { mode: 0o600 });
  register('tampered', w.address);

  // weak: scrypt N = 1024
  const weak = await ethersKeyFile(1024);
  writeFileSync(keyPath('weak'), weak.json, { mode: 0o600 });
  register('weak', weak.hd.address);
}, 60_000);

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string | undefined>;
  message: RegExp;
  /** A file that must not appear. */
  noFile?: string;
}

const NO_PASSPHRASE = { CHANNELS_PASSWORD: undefined, CHANNELS_PASSWORD_FILE: undefined };

const CASES: Case[] = [
  { name: 'wrong passphrase (CHANNELS_PASSWORD)', args: ['keys', 'show', 'alice', '--reveal'], env: { CHANNELS_PASSWORD: 'wrong horse' }, message: /Cannot decrypt .*alice\.json: wrong passphrase or damaged file/ },
  { name: 'wrong passphrase (CHANNELS_PASSWORD_FILE)', args: ['keys', 'show', 'alice', '--reveal'], env: { CHANNELS_PASSWORD: undefined, CHANNELS_PASSWORD_FILE: '@wrong' }, message: /wrong passphrase or damaged file/ },
  { name: 'tampered ciphertext', args: ['keys', 'show', 'tampered', '--reveal'], message: /Cannot decrypt .*tampered\.json/ },
  { name: 'weak KDF parameters (scrypt N=1024)', args: ['keys', 'show', 'weak', '--reveal'], message: /weak key-derivation parameters \(scrypt N=1024\)/ },
  { name: 'no passphrase and no TTY: keys show --reveal', args: ['keys', 'show', 'alice', '--reveal'], env: NO_PASSPHRASE, message: /No passphrase for key "alice"/ },
  { name: 'no passphrase and no TTY: keys new --keystore file', args: ['keys', 'new', 'bob', '--keystore', 'file'], env: NO_PASSPHRASE, message: /No passphrase/, noFile: 'bob' },
];

describe('file keystore failures → exit 7, nothing changed', () => {
  it.each(CASES)('$name', async (c) => {
    const env = { ...c.env };
    if (env.CHANNELS_PASSWORD_FILE === '@wrong') {
      env.CHANNELS_PASSWORD_FILE = join(w.home, 'wrong-passphrase.txt');
      writeFileSync(env.CHANNELS_PASSWORD_FILE, 'not the passphrase\n');
    }
    const config = JSON.stringify(readConfig(w.home));
    const r = await run([...c.args, '--json'], env);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.json.error.code).toBe('KEYSTORE');
    expect(r.json.error.message).toMatch(c.message);
    expect(r.json.mnemonic).toBeUndefined();
    expect(r.stdout + r.stderr).not.toMatch(/\b[a-z]+( [a-z]+){11}\b/); // no mnemonic leaked anywhere
    expect(JSON.stringify(readConfig(w.home))).toBe(config);
    if (c.noFile) expect(existsSync(keyPath(c.noFile))).toBe(false);
  });

  it('positive control: the right passphrase reveals alice\'s mnemonic, from env and from a file', async () => {
    const a = await run(['keys', 'show', 'alice', '--reveal', '--json']);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(HDNodeWallet.fromPhrase(a.json.mnemonic, undefined, "m/44'/60'/0'/0/0").address).toBe(w.address);
    const file = join(w.home, 'right-passphrase.txt');
    writeFileSync(file, `${PASSWORD}\n`);
    const b = await run(['keys', 'show', 'alice', '--reveal', '--json'], { CHANNELS_PASSWORD: undefined, CHANNELS_PASSWORD_FILE: file });
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.json.mnemonic).toBe(a.json.mnemonic);
  });
});

describe('key files', () => {
  it('are 0600 in a 0700 directory', () => {
    expect(statSync(join(w.home, 'keys')).mode & 0o777).toBe(0o700);
    expect(statSync(keyPath('alice')).mode & 0o777).toBe(0o600);
    expect(statSync(join(w.home, 'config.json')).mode & 0o777).toBe(0o600);
  });

  it('a file written by `channels keys new --keystore file` is Web3 Secret Storage v3 that ethers decrypts', async () => {
    const json = readFileSync(keyPath('alice'), 'utf8');
    const parsed = JSON.parse(json);
    expect(parsed.version).toBe(3);
    const box = parsed.crypto ?? parsed.Crypto;
    expect(box.kdf).toBe('scrypt');
    expect(box.kdfparams.n).toBeGreaterThanOrEqual(1 << 17);
    expect(json).not.toContain(PASSWORD);
    const account = await decryptKeystoreJson(json, PASSWORD);
    expect(account.address).toBe(w.address);
    expect(account.mnemonic?.entropy).toMatch(/^0x[0-9a-f]+$/);
    await expect(decryptKeystoreJson(json, 'wrong horse')).rejects.toThrow(/incorrect password/);
  });

  it('a file written by ethers (N=2^17, with mnemonic) placed in keys/ is usable by keys show --reveal', async () => {
    const { hd, json } = await ethersKeyFile(1 << 17);
    writeFileSync(keyPath('imported'), json, { mode: 0o600 });
    register('imported', hd.address);
    const r = await run(['keys', 'show', 'imported', '--reveal', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.address).toBe(hd.address);
    expect(r.json.mnemonic).toBe(hd.mnemonic!.phrase);
    expect(r.json.keystore).toBe('file');
  });
});
