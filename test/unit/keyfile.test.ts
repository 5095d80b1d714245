/**
 * Key files across scrypt implementations and versions (src/core/keys/file.ts, wallet.ts):
 * channels unlocks with Node's native scrypt and takes the EVM key from the file's private
 * key instead of deriving it from the mnemonic, and `keys new` derives with `bip32`
 * instead of ethers' HDNodeWallet. Checked here against ethers in a separate process
 * (its own pure-JS scrypt, nothing registered), against a file written by the code
 * before that change, and against ethers' HDNodeWallet derivation. Real files, no mocks.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HDNodeWallet, Mnemonic, hexlify, randomBytes, scrypt } from 'ethers';
import { Config } from '../../src/core/config.js';
import { KeystoreError } from '../../src/core/errors.js';
import { EVM_PATH, bitcoinPath, createKey, loadBitcoinSigner, loadEvmSigner, revealMnemonic } from '../../src/core/keys/wallet.js';
import { MIN_SCRYPT_N, SCRYPT_N, keyFilePath, newKeyScryptN } from '../../src/core/keys/file.js';
import { REPO_ROOT } from '../helpers/anvil.js';

const PASSWORD = 'correct horse battery staple';
const OLD = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'keyfile-944fc69.json'), 'utf8'));

/**
 * Runs `script` (an ES module body) in a fresh Node process where ethers has no scrypt
 * registered, i.e. ethers' own pure-JS scrypt; `input` is available as INPUT.
 * @returns what the script printed, parsed as JSON
 */
function plainEthers(script: string, input: unknown): Promise<any> {
  const body = `import * as ethers from 'ethers';\nconst INPUT = JSON.parse(process.env.INPUT);\n${script}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', body], { cwd: REPO_ROOT, env: { ...process.env, INPUT: JSON.stringify(input) }, timeout: 300_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

let home: string;
let config: Config;
const savedEnv = { password: process.env.CHANNELS_PASSWORD, file: process.env.CHANNELS_PASSWORD_FILE };

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'channels-keyfile-'));
  config = new Config(home);
  mkdirSync(join(home, 'keys'), { recursive: true, mode: 0o700 });
  process.env.CHANNELS_PASSWORD = PASSWORD;
  delete process.env.CHANNELS_PASSWORD_FILE;
});

afterEach(() => {
  for (const [k, v] of [['CHANNELS_PASSWORD', savedEnv.password], ['CHANNELS_PASSWORD_FILE', savedEnv.file]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** Places a key file in the wallet and records its key as `channels` does. */
function place(name: string, json: string, address: string): void {
  writeFileSync(keyFilePath(home, name), json, { mode: 0o600 });
  config.addKey(name, { address, keystore: 'file', createdAt: Math.floor(Date.now() / 1000) });
}

const evmOf = (phrase: string) => HDNodeWallet.fromPhrase(phrase, undefined, EVM_PATH);

describe('key files unlock across scrypt implementations', () => {
  it('a file encrypted by ethers with its own JS scrypt unlocks through the native path (EVM signer, Bitcoin key, mnemonic)', async () => {
    const phrase = Mnemonic.fromEntropy(randomBytes(16)).phrase;
    const written = await plainEthers(
      `const w = ethers.HDNodeWallet.fromPhrase(INPUT.phrase, undefined, "m/44'/60'/0'/0/0");
       const json = await ethers.encryptKeystoreJson(
         { address: w.address, privateKey: w.privateKey, mnemonic: { entropy: w.mnemonic.entropy, path: w.path, locale: 'en' } },
         INPUT.password, { scrypt: { N: 1 << 14, r: 8, p: 1 } });
       console.log(JSON.stringify({ json, address: w.address }));`,
      { phrase, password: PASSWORD },
    );
    place('js', written.json, written.address);
    const signer = await loadEvmSigner(config, 'js');
    expect(signer.address).toBe(evmOf(phrase).address);
    expect(signer.privateKey).toBe(evmOf(phrase).privateKey);
    expect(await revealMnemonic(config, 'js')).toBe(phrase);
    const btc = await loadBitcoinSigner(config, 1, 'js');
    const { BIP32 } = await import('../../src/families/bitcoin/ecc.js');
    const expected = BIP32.fromSeed(Buffer.from(Mnemonic.fromPhrase(phrase).computeSeed().slice(2), 'hex')).derivePath(bitcoinPath(1));
    expect(Buffer.from(btc.publicKey).toString('hex')).toBe(Buffer.from(expected.publicKey).toString('hex'));
  }, 300_000);

  it('a file written by `keys new --keystore file` (native scrypt, N = 2^17) decrypts with ethers\' own JS scrypt to the same key and mnemonic', async () => {
    const info = await createKey(config, 'native', 'file');
    const phrase = await revealMnemonic(config, 'native');
    const read = await plainEthers(
      `const a = await ethers.decryptKeystoreJson(INPUT.json, INPUT.password);
       console.log(JSON.stringify({ address: a.address, privateKey: a.privateKey, entropy: a.mnemonic.entropy, path: a.mnemonic.path }));`,
      { json: readFileSync(keyFilePath(home, 'native'), 'utf8'), password: PASSWORD },
    );
    expect(read.address).toBe(info.address);
    expect(read.privateKey).toBe(evmOf(phrase).privateKey);
    expect(read.entropy).toBe(Mnemonic.fromPhrase(phrase).entropy);
    expect(read.path).toBe(EVM_PATH);
  }, 300_000);

  it('the registered native scrypt computes what ethers\' JS scrypt computes (dkLen 64, as keystores use)', async () => {
    await createKey(config, 'register', 'file'); // registers the native scrypt in this process's ethers
    for (const [N, r, p] of [[1 << 10, 8, 1], [1 << 14, 8, 1], [1 << 12, 4, 2]]) {
      const password = randomBytes(12), salt = randomBytes(32);
      expect(await scrypt(password, salt, N, r, p, 64)).toBe(hexlify(await scrypt._(password, salt, N, r, p, 64)));
    }
  }, 120_000);

  it('a key file written by channels before this change (fixture, commit 944fc69) still unlocks to the same keys', async () => {
    place('old', JSON.stringify(OLD.keyFile), OLD.address);
    process.env.CHANNELS_PASSWORD = OLD.passphrase;
    const signer = await loadEvmSigner(config, 'old');
    expect(signer.address).toBe(OLD.address);
    expect(signer.privateKey).toBe(evmOf(OLD.mnemonic).privateKey);
    expect(await revealMnemonic(config, 'old')).toBe(OLD.mnemonic);
    for (const coin of [0, 1]) expect(Buffer.from((await loadBitcoinSigner(config, coin, 'old')).publicKey).toString('hex')).toBe(OLD.bitcoinPubkeys[String(coin)]);
  }, 120_000);

  it('a file whose private key is of another path (written elsewhere) still gives the key at m/44\'/60\'/0\'/0/0, from its mnemonic', async () => {
    const phrase = Mnemonic.fromEntropy(randomBytes(16)).phrase;
    const other = HDNodeWallet.fromPhrase(phrase, undefined, "m/44'/60'/0'/0/1");
    const written = await plainEthers(
      `console.log(JSON.stringify(await ethers.encryptKeystoreJson(INPUT.account, INPUT.password, { scrypt: { N: 1 << 14, r: 8, p: 1 } })));`,
      { account: { address: other.address, privateKey: other.privateKey, mnemonic: { entropy: other.mnemonic!.entropy, path: other.path, locale: 'en' } }, password: PASSWORD },
    );
    place('other-path', written, evmOf(phrase).address);
    expect((await loadEvmSigner(config, 'other-path')).address).toBe(evmOf(phrase).address);
  }, 300_000);
});

describe('keys new derives what ethers derives', () => {
  it('the BIP39 test vector ("abandon … about") gets ethers\' address, and its file holds ethers\' private key', async () => {
    const phrase = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
    const info = await createKey(config, 'vector', 'file', phrase);
    expect(info.address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    expect((await loadEvmSigner(config, 'vector')).privateKey).toBe(evmOf(phrase).privateKey);
  }, 120_000);

  it('random mnemonics: the recorded address and the stored key are ethers HDNodeWallet\'s at m/44\'/60\'/0\'/0/0', async () => {
    for (let i = 0; i < 3; i++) {
      const info = await createKey(config, `k${i}`, 'file');
      const phrase = await revealMnemonic(config, `k${i}`);
      expect(info.address).toBe(evmOf(phrase).address);
      expect((await loadEvmSigner(config, `k${i}`)).privateKey).toBe(evmOf(phrase).privateKey);
    }
  }, 300_000);
});

describe('wrong passphrase', () => {
  it.each([
    ['EVM signer', () => loadEvmSigner(config, 'w')],
    ['Bitcoin signer', () => loadBitcoinSigner(config, 1, 'w')],
    ['mnemonic', () => revealMnemonic(config, 'w')],
  ])('unlocking the %s is a KeystoreError (exit 7) that names the file', async (_what, unlock) => {
    await createKey(config, 'w', 'file');
    process.env.CHANNELS_PASSWORD = 'wrong horse';
    const unlocking = unlock();
    await expect(unlocking).rejects.toBeInstanceOf(KeystoreError);
    await expect(unlocking).rejects.toMatchObject({ exitCode: 7, message: expect.stringMatching(/Cannot decrypt .*w\.json: wrong passphrase or damaged file/) });
  }, 120_000);
});

describe('CHANNELS_SCRYPT_N (the hidden knob that makes test wallets cheap to unlock)', () => {
  afterEach(() => {
    delete process.env.CHANNELS_SCRYPT_N;
  });

  it('unset or empty, new key files get N = 2^17', () => {
    expect(SCRYPT_N).toBe(1 << 17);
    expect(newKeyScryptN({})).toBe(SCRYPT_N);
    expect(newKeyScryptN({ CHANNELS_SCRYPT_N: '' })).toBe(SCRYPT_N);
  });

  it('a power of two from 2^14 to 2^17 is the N of the file createKey writes, and the file unlocks', async () => {
    expect(MIN_SCRYPT_N).toBe(1 << 14);
    process.env.CHANNELS_SCRYPT_N = String(MIN_SCRYPT_N);
    const info = await createKey(config, 'light', 'file');
    const file = JSON.parse(readFileSync(keyFilePath(home, 'light'), 'utf8'));
    expect((file.crypto ?? file.Crypto).kdfparams).toMatchObject({ n: MIN_SCRYPT_N, r: 8, p: 1 });
    expect((await loadEvmSigner(config, 'light')).address).toBe(info.address);
    expect(newKeyScryptN({ CHANNELS_SCRYPT_N: String(1 << 15) })).toBe(1 << 15);
  });

  it.each(['8192', '1024', '262144', '20000', '0x4000', 'abc', '-16384'])('CHANNELS_SCRYPT_N=%s is a KeystoreError (exit 7) and createKey stores nothing', async (value) => {
    expect(() => newKeyScryptN({ CHANNELS_SCRYPT_N: value })).toThrow(KeystoreError);
    process.env.CHANNELS_SCRYPT_N = value;
    await expect(createKey(config, 'weak', 'file')).rejects.toMatchObject({ exitCode: 7, message: expect.stringContaining(`CHANNELS_SCRYPT_N=${value} is refused`) });
    expect(existsSync(keyFilePath(home, 'weak'))).toBe(false);
    expect(config.keys()).toEqual({});
  });
});
