/**
 * The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on
 * Windows) through `@napi-rs/keyring`. One entry per key: service `channels`,
 * account `<wallet home>#<key name>`, secret = the BIP39 mnemonic.
 */
import { createRequire } from 'node:module'
import type { Entry } from '@napi-rs/keyring'
import { KeystoreError } from '../errors.js'

const SERVICE = 'channels'
const require = createRequire(import.meta.url)

/**
 * `@napi-rs/keyring`, loaded on first use: a native addon (≈ 20 ms to load) that commands
 * using a key file never touch. An addon that cannot load is an unreachable keychain.
 */
let keyring: typeof import('@napi-rs/keyring') | undefined

function entry(home: string, name: string): Entry {
  keyring ??= require('@napi-rs/keyring') as typeof import('@napi-rs/keyring')
  return new keyring.Entry(SERVICE, `${home}#${name}`)
}

function unavailable(err: unknown): KeystoreError {
  return new KeystoreError('The OS keychain is not reachable.', {
    details: ((err as Error)?.message ?? String(err)).split('\n')[0],
    metaMessages: [
      'Use an encrypted key file instead: `--keystore file` (or `channels config set keystore file`),',
      'with the passphrase in CHANNELS_PASSWORD, CHANNELS_PASSWORD_FILE or typed at a prompt.',
    ],
    cause: err,
  })
}

/** Stores a mnemonic. @throws {KeystoreError} when the keychain is unreachable or locked */
export function keychainStore(home: string, name: string, mnemonic: string): void {
  try {
    entry(home, name).setPassword(mnemonic)
  } catch (err) {
    throw unavailable(err)
  }
}

/** Reads a mnemonic. @throws {KeystoreError} when unreachable or the entry is missing */
export function keychainLoad(home: string, name: string): string {
  let secret: string | null | undefined
  try {
    secret = entry(home, name).getPassword()
  } catch (err) {
    throw unavailable(err)
  }
  if (!secret) throw new KeystoreError(`Key "${name}" is not in the OS keychain.`)
  return secret
}

/** Deletes an entry; missing entries are fine. @throws {KeystoreError} when unreachable */
export function keychainDelete(home: string, name: string): void {
  try {
    entry(home, name).deletePassword()
  } catch (err) {
    throw unavailable(err)
  }
}
