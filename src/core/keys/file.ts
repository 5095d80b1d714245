/**
 * Encrypted key files: Web3 Secret Storage v3 (scrypt + AES-128-CTR) written by
 * ethers' `encryptKeystoreJson`, one file per key at `<home>/keys/<name>.json`,
 * mode 0600 in a 0700 directory. The file holds the EVM account's private key (the
 * standard part) and, in ethers' `x-ethers` extension, the mnemonic's entropy, so the
 * Bitcoin key can be derived from the same seed.
 *
 * Unlocking costs one scrypt (N = 2^17, r = 8: ≈ 0.4 s of one idle core and 128 MiB), run
 * natively (below); the EVM key is the file's own private key, so no key derivation follows.
 */
import { existsSync, readFileSync, writeFileSync, chmodSync, unlinkSync } from 'node:fs'
import { scrypt as nodeScrypt } from 'node:crypto'
import { decryptKeystoreJson, encryptKeystoreJson, scrypt } from 'ethers'
import { homePath } from '../config.js'
import { KeystoreError } from '../errors.js'

/** scrypt cost of new key files: N = 2^17, r = 8, p = 1 (geth's "standard"). */
export const SCRYPT_N = 1 << 17
/** Smallest scrypt N we agree to decrypt; weaker files are refused as tampered or unsafe. */
export const MIN_SCRYPT_N = 1 << 14

/**
 * The scrypt N of the key files this process writes: {@link SCRYPT_N}, unless the hidden
 * environment variable `CHANNELS_SCRYPT_N` names a power of two from {@link MIN_SCRYPT_N} to
 * SCRYPT_N. Not in `--help`: it exists for test suites that create many throw-away wallets
 * (README "Development"), and it can weaken a new file only down to the N that
 * {@link fileUnlock} accepts from any file anyway.
 * @throws {KeystoreError} when the variable is set to anything else (nothing is written)
 */
export function newKeyScryptN(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CHANNELS_SCRYPT_N
  if (raw === undefined || raw === '') return SCRYPT_N
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN
  if (!(n >= MIN_SCRYPT_N && n <= SCRYPT_N && (n & (n - 1)) === 0)) {
    throw new KeystoreError(`CHANNELS_SCRYPT_N=${raw} is refused: it must be a power of two from ${MIN_SCRYPT_N} to ${SCRYPT_N}.`)
  }
  return n
}

let scryptRegistered = false
/**
 * Makes ethers' keystore functions use Node's native scrypt (OpenSSL; the same RFC 7914
 * function). It runs on libuv's threadpool, so a command's other work (its first requests,
 * the paywall's start) proceeds meanwhile, where ethers' JS scrypt holds the event loop; at
 * N = 2^17 it is also 1.1–1.4× faster here. `maxmem` lets it take the 128 × N × r bytes the
 * parameters need (Node's default cap is 32 MiB).
 */
function useNativeScrypt(): void {
  if (scryptRegistered) return
  scryptRegistered = true
  scrypt.register(
    (passwd, salt, N, r, p, dkLen) =>
      new Promise((ok, fail) =>
        nodeScrypt(passwd, salt, dkLen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
          err ? fail(err) : ok(new Uint8Array(key)),
        ),
      ),
  )
}

/** The secrets of a key file (what {@link fileStore} writes and {@link fileUnlock} returns). */
export interface KeyMaterial {
  /** EIP-55 address of `privateKey`. */
  address: string
  /** The EVM account's private key at `path`, 0x-prefixed hex. */
  privateKey: string
  /** The BIP39 mnemonic's entropy, 0x-prefixed hex (16 bytes for 12 words). */
  entropy: string
  /** BIP32 path of `privateKey` (m/44'/60'/0'/0/0 in every file channels writes). */
  path: string
}

export function keyFilePath(home: string, name: string): string {
  return homePath(home, 'keys', `${name}.json`)
}

/**
 * Encrypts a key into `<home>/keys/<name>.json` (0600): one scrypt (N = {@link newKeyScryptN}), no key derivation.
 * @param key - the mnemonic's entropy and the EVM key derived from it (by the caller, once)
 * @throws {KeystoreError} when the file exists already, or CHANNELS_SCRYPT_N is refused
 */
export async function fileStore(home: string, name: string, key: KeyMaterial, passphrase: string): Promise<void> {
  useNativeScrypt()
  const N = newKeyScryptN()
  const path = keyFilePath(home, name)
  if (existsSync(path)) throw new KeystoreError(`Key file ${path} exists already.`)
  const json = await encryptKeystoreJson(
    { address: key.address, privateKey: key.privateKey, mnemonic: { entropy: key.entropy, path: key.path, locale: 'en' } },
    passphrase,
    { scrypt: { N, r: 8, p: 1 } },
  )
  writeFileSync(path, json, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
}

/**
 * Decrypts a key file: one scrypt, then ethers checks the MAC and that the private key
 * matches the file's address.
 * @returns the private key, its address and path, and the mnemonic's entropy
 * @throws {KeystoreError} missing file, weak KDF parameters, wrong passphrase, tampered
 *   ciphertext, or a file without a mnemonic
 */
export async function fileUnlock(home: string, name: string, passphrase: string): Promise<KeyMaterial> {
  useNativeScrypt()
  const path = keyFilePath(home, name)
  let json: string
  try {
    json = readFileSync(path, 'utf8')
  } catch (err) {
    throw new KeystoreError(`Key file ${path} cannot be read.`, { cause: err })
  }
  checkKdf(json, path)
  let account
  try {
    account = await decryptKeystoreJson(json, passphrase)
  } catch (err) {
    throw new KeystoreError(`Cannot decrypt ${path}: wrong passphrase or damaged file.`, { cause: err })
  }
  if (!account.mnemonic?.entropy) throw new KeystoreError(`Key file ${path} holds no mnemonic.`)
  return { address: account.address, privateKey: account.privateKey, entropy: account.mnemonic.entropy, path: account.mnemonic.path ?? '' }
}

/** Deletes a key file if present. */
export function fileDelete(home: string, name: string): void {
  const path = keyFilePath(home, name)
  if (existsSync(path)) unlinkSync(path)
}

function checkKdf(json: string, path: string): void {
  let params: { kdf?: string; kdfparams?: { n?: number; r?: number; p?: number } }
  try {
    const parsed = JSON.parse(json)
    params = parsed.crypto ?? parsed.Crypto ?? {}
  } catch (err) {
    throw new KeystoreError(`Key file ${path} is not valid JSON.`, { cause: err })
  }
  const n = params.kdfparams?.n ?? 0
  if (params.kdf !== 'scrypt' || n < MIN_SCRYPT_N || (params.kdfparams?.r ?? 0) < 8) {
    throw new KeystoreError(`Key file ${path} uses weak key-derivation parameters (${params.kdf ?? '?'} N=${n}).`, {
      metaMessages: [`Refusing to use it; re-create the key with scrypt N ≥ ${MIN_SCRYPT_N}, r ≥ 8.`],
    })
  }
}
