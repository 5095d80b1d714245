/**
 * Encrypted key files: Web3 Secret Storage v3 (scrypt + AES-128-CTR) written by
 * ethers' `encryptKeystoreJson`, one file per key at `<home>/keys/<name>.json`,
 * mode 0600 in a 0700 directory. The mnemonic rides along in ethers' `x-ethers`
 * extension so the Bitcoin key can be derived from the same seed.
 */
import { existsSync, readFileSync, writeFileSync, chmodSync, unlinkSync } from 'node:fs'
import { scrypt as nodeScrypt } from 'node:crypto'
import { decryptKeystoreJson, encryptKeystoreJson, scrypt, Mnemonic, HDNodeWallet } from 'ethers'
import { homePath } from '../config.js'
import { KeystoreError } from '../errors.js'

/** scrypt cost of new key files: N = 2^17, r = 8, p = 1 (geth's "standard"). */
export const SCRYPT_N = 1 << 17
/** Smallest scrypt N we agree to decrypt; weaker files are refused as tampered or unsafe. */
export const MIN_SCRYPT_N = 1 << 14

let scryptRegistered = false
/** Uses Node's native scrypt inside ethers (same result, ~5× faster than the JS one). */
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

export function keyFilePath(home: string, name: string): string {
  return homePath(home, 'keys', `${name}.json`)
}

/**
 * Encrypts a mnemonic into `<home>/keys/<name>.json` (0600).
 * @throws {KeystoreError} when the file exists already
 */
export async function fileStore(home: string, name: string, mnemonic: string, passphrase: string): Promise<void> {
  useNativeScrypt()
  const path = keyFilePath(home, name)
  if (existsSync(path)) throw new KeystoreError(`Key file ${path} exists already.`)
  const wallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(mnemonic))
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey, mnemonic: { entropy: wallet.mnemonic!.entropy, path: wallet.path!, locale: 'en' } },
    passphrase,
    { scrypt: { N: SCRYPT_N, r: 8, p: 1 } },
  )
  writeFileSync(path, json, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
}

/**
 * Decrypts a key file and returns its mnemonic phrase.
 * @throws {KeystoreError} missing file, weak KDF parameters, wrong passphrase or tampered ciphertext
 */
export async function fileLoad(home: string, name: string, passphrase: string): Promise<string> {
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
  return Mnemonic.fromEntropy(account.mnemonic.entropy).phrase
}

/** Deletes a key file if present. */
export function fileDelete(home: string, name: string): void {
  const path = keyFilePath(home, name)
  if (existsSync(path)) unlinkSync(path)
}

function checkKdf(json: string, path: string): void {
  let params: { kdf?: string; kdfparams?: { n?: number; r?: number; p?: number } } = {}
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
