/**
 * Key management: create, list, show and unlock keys. A key is a BIP39 mnemonic; its
 * EVM account is derived at m/44'/60'/0'/0/0 (ethers' default path). The secret
 * lives in the OS keychain or in an encrypted file; `config.json` only records the
 * name, address and keystore kind, so listing keys never unlocks anything.
 */
import { HDNodeWallet, Mnemonic, Wallet, computeAddress, hexlify, randomBytes, type BaseWallet } from 'ethers'
import type { Config, KeystoreKind } from '../config.js'
import { ChannelStateError, UsageError, KeystoreError } from '../errors.js'
import type { Store } from '../store/index.js'
import { isTerminal } from '../channel/state.js'
import { keychainStore, keychainLoad, keychainDelete } from './keychain.js'
import { fileStore, fileUnlock, fileDelete, keyFilePath, type KeyMaterial } from './file.js'
import { passphraseInEnvironment, readPassphrase } from './passphrase.js'

/** EVM derivation path of a key (BIP44, coin type 60). */
export const EVM_PATH = "m/44'/60'/0'/0/0"

/** Bitcoin channel key path (BIP84): coin type 0 on Bitcoin mainnet, 1 on test networks (DESIGN §8). */
export const bitcoinPath = (coinType: number): string => `m/84'/${coinType}'/0'/0/0`

/**
 * The BIP32 root of a mnemonic: its BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, native
 * through ethers) fed to `bip32` over tiny-secp256k1 (WASM). Compute it once per mnemonic.
 */
async function bip32RootOf(phrase: string) {
  const { BIP32 } = await import('./hd.js')
  return BIP32.fromSeed(Buffer.from(Mnemonic.fromPhrase(phrase).computeSeed().slice(2), 'hex'))
}

type Bip32Node = Awaited<ReturnType<typeof bip32RootOf>>

/** The Bitcoin channel key of a mnemonic (bip32 over the BIP39 seed). */
export async function bitcoinKeyOf(phrase: string, coinType: number) {
  return (await bip32RootOf(phrase)).derivePath(bitcoinPath(coinType))
}

/** Pubkeys recorded for coin types 0 and 1 (compressed, hex), so `keys show` and the paywall need no unlock. */
function bitcoinPubkeysOf(root: Bip32Node): Record<string, string> {
  const out: Record<string, string> = {}
  for (const coin of [0, 1]) out[String(coin)] = Buffer.from(root.derivePath(bitcoinPath(coin)).publicKey).toString('hex')
  return out
}

/**
 * Everything `keys new`/`keys import` store and record for a mnemonic, from one seed and
 * one BIP32 root: the EVM key at {@link EVM_PATH} (the same BIP32 derivation as ethers'
 * `HDNodeWallet`, done by `bip32` over tiny-secp256k1's WASM, where ethers builds six nodes
 * in JS, each with an elliptic-curve multiplication) and the Bitcoin pubkeys.
 */
async function deriveKey(phrase: string): Promise<KeyMaterial & { bitcoinPubkeys: Record<string, string> }> {
  const root = await bip32RootOf(phrase)
  const evm = root.derivePath(EVM_PATH)
  return {
    address: computeAddress(hexlify(evm.publicKey)),
    privateKey: hexlify(evm.privateKey!),
    entropy: Mnemonic.fromPhrase(phrase).entropy,
    path: EVM_PATH,
    bitcoinPubkeys: bitcoinPubkeysOf(root),
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/** What `keys list`/`keys show` print about a key. */
export interface KeyInfo {
  name: string
  /** EIP-55 address. */
  address: string
  /** Bitcoin channel pubkeys by coin type (absent for keys made before they were recorded). */
  bitcoinPubkeys?: Record<string, string>
  keystore: KeystoreKind
  /** Path of the key file (file keystore only). */
  file?: string
  isDefault: boolean
}

/** What {@link createKey} did. */
export interface CreatedKey extends KeyInfo {
  /** Set when this key changed the wallet's `keystore` setting (the first key's rule). */
  keystoreSetting?: { from: KeystoreKind; to: KeystoreKind }
}

/**
 * Creates a key (or imports `mnemonic`) and stores its secret.
 *
 * The first key of a wallet sets the wallet's `keystore` setting to where it went: after
 * `keys new a --keystore file` (typically on a machine without an OS keychain) the next
 * `keys new b` uses the file keystore too instead of failing on the keychain (issue 9
 * §3.6). Later keys never change the setting; `config set keystore` does.
 * @param kind - `keychain` or `file`; default: the wallet's `keystore` setting
 * @returns the key, and `keystoreSetting` when the setting changed
 * @throws {UsageError} bad or duplicate name, invalid mnemonic
 * @throws {KeystoreError} keychain unreachable or no passphrase for a file keystore (nothing is stored)
 */
export async function createKey(config: Config, name: string, kind?: KeystoreKind, mnemonic?: string): Promise<CreatedKey> {
  if (!NAME.test(name)) {
    throw new UsageError(`Invalid key name "${name}".`, { metaMessages: ['Use letters, digits, "-", "_" or ".", up to 64 characters.'] })
  }
  if (config.keys()[name]) throw new UsageError(`Key "${name}" exists already.`)
  const setting = config.get('keystore')
  const keystore = kind ?? setting
  const first = Object.keys(config.keys()).length === 0
  let phrase: string
  try {
    // A new mnemonic: 128 bits of entropy (12 words), as ethers' Wallet.createRandom, without deriving a wallet
    phrase = mnemonic ? Mnemonic.fromPhrase(mnemonic.trim().replace(/\s+/g, ' ')).phrase : Mnemonic.fromEntropy(randomBytes(16)).phrase
  } catch (err) {
    throw new UsageError('Invalid BIP39 mnemonic.', { cause: err })
  }
  const key = await deriveKey(phrase)
  if (keystore === 'keychain') keychainStore(config.home, name, phrase)
  else await fileStore(config.home, name, key, await readPassphrase(`new key "${name}"`, true))
  config.addKey(name, { address: key.address, bitcoinPubkeys: key.bitcoinPubkeys, keystore, createdAt: Math.floor(Date.now() / 1000) })
  if (!first || keystore === setting) return keyInfo(config, name)
  config.set('keystore', keystore)
  return { ...keyInfo(config, name), keystoreSetting: { from: setting, to: keystore } }
}

/** Lists the wallet's keys without unlocking them. */
export function listKeys(config: Config): KeyInfo[] {
  return Object.keys(config.keys()).sort().map((n) => keyInfo(config, n))
}

/** One key's public information. @throws {NotFoundError} unknown key */
export function keyInfo(config: Config, name?: string): KeyInfo {
  const rec = config.key(name)
  return {
    name: rec.name,
    address: rec.address,
    ...(rec.bitcoinPubkeys ? { bitcoinPubkeys: rec.bitcoinPubkeys } : {}),
    keystore: rec.keystore,
    ...(rec.keystore === 'file' ? { file: keyFilePath(config.home, rec.name) } : {}),
    isDefault: config.get('defaultKey') === rec.name,
  }
}

/**
 * Unlocks a key and returns its mnemonic phrase (for `keys show --reveal` and the Bitcoin key).
 * @throws {KeystoreError} keychain locked/unreachable, wrong passphrase
 */
export async function revealMnemonic(config: Config, name?: string): Promise<string> {
  const rec = config.key(name)
  if (rec.keystore === 'keychain') return keychainLoad(config.home, rec.name)
  return Mnemonic.fromEntropy((await unlockFile(config, rec.name)).entropy).phrase
}

/** Reads the passphrase of a key file and decrypts it (one scrypt). */
async function unlockFile(config: Config, name: string): Promise<KeyMaterial> {
  return fileUnlock(config.home, name, await readPassphrase(`key "${name}"`))
}

/**
 * Whether unlocking a key needs nobody at a terminal: a keychain entry, or a key file whose
 * passphrase is in the environment. A command that will almost surely sign (`buy`, `serve`)
 * may then start the unlock, whose scrypt runs on libuv's threadpool, before its first
 * network round trips instead of after them. False for an unknown key (the command's own
 * lookup reports that).
 */
export function unlocksUnattended(config: Config, name?: string, env = process.env): boolean {
  try {
    return config.key(name).keystore === 'keychain' || passphraseInEnvironment(env)
  } catch {
    return false
  }
}

/**
 * Unlocks a key and returns its EVM signer (not connected to a provider). A key file
 * holds the EVM private key itself (ethers checked it against the file's address), so
 * its signer needs no derivation; a keychain entry holds the mnemonic only.
 * @throws {KeystoreError} keychain locked/unreachable, wrong passphrase, or the
 *   unlocked secret does not match the recorded address
 */
export async function loadEvmSigner(config: Config, name?: string): Promise<BaseWallet> {
  const rec = config.key(name)
  let wallet: BaseWallet
  if (rec.keystore === 'keychain') wallet = HDNodeWallet.fromPhrase(keychainLoad(config.home, rec.name), undefined, EVM_PATH)
  else {
    const file = await unlockFile(config, rec.name)
    // A file written elsewhere may hold another path's key beside the mnemonic: derive ours then.
    wallet = file.path === EVM_PATH ? new Wallet(file.privateKey) : HDNodeWallet.fromPhrase(Mnemonic.fromEntropy(file.entropy).phrase, undefined, EVM_PATH)
  }
  if (wallet.address !== rec.address) {
    throw new KeystoreError(`Key "${rec.name}" unlocked to ${wallet.address}, but the wallet recorded ${rec.address}.`)
  }
  return wallet
}

/**
 * Unlocks a key and returns its Bitcoin channel key (a bip32 node: `publicKey`, `sign`).
 * @param coinType - BIP44 coin type of the network (0 mainnet, 1 test networks)
 * @throws {KeystoreError} keychain locked/unreachable, wrong passphrase, or a recorded pubkey that does not match
 */
export async function loadBitcoinSigner(config: Config, coinType: number, name?: string) {
  const rec = config.key(name)
  const phrase = await revealMnemonic(config, rec.name)
  const root = await bip32RootOf(phrase)
  const key = root.derivePath(bitcoinPath(coinType))
  const pub = Buffer.from(key.publicKey).toString('hex')
  const recorded = rec.bitcoinPubkeys?.[String(coinType)]
  if (recorded && recorded !== pub) throw new KeystoreError(`Key "${rec.name}" unlocked to Bitcoin pubkey ${pub}, but the wallet recorded ${recorded}.`)
  if (!recorded && computeAddress(hexlify(root.derivePath(EVM_PATH).publicKey)) === rec.address) {
    // A key made before Bitcoin pubkeys were recorded: record them now (public data).
    config.addKey(rec.name, { ...config.keys()[rec.name]!, bitcoinPubkeys: bitcoinPubkeysOf(root) })
  }
  return key
}

/**
 * The BIP84 external chain of a key's Bitcoin account, `m/84'/<coin>'/0'/0`: its child 0
 * is the channel key of {@link bitcoinPath}; a merchant hands out child `i` (i ≥ 1) as
 * the payee key of its Bitcoin channels (two1's merchant gave a fresh key per channel).
 */
export const bitcoinChainPath = (coinType: number): string => `m/84'/${coinType}'/0'/0`

/**
 * Unlocks a key and returns its Bitcoin external chain node ({@link bitcoinChainPath}, a
 * bip32 node with its private key): `derive(0)` is the channel key of
 * {@link loadBitcoinSigner}, `derive(i)` the payee key at index `i` (non-hardened, so
 * the same keys a BIP84 wallet restoring the mnemonic finds at its receive addresses).
 * One unlock serves every index.
 * @param coinType - BIP44 coin type of the network (0 mainnet, 1 test networks)
 * @throws {KeystoreError} keychain locked/unreachable, wrong passphrase, or a recorded pubkey that does not match
 * @example (await loadBitcoinChain(config, 1)).derive(7).publicKey // the payee key of index 7 (33 bytes)
 */
export async function loadBitcoinChain(config: Config, coinType: number, name?: string) {
  const rec = config.key(name)
  const phrase = await revealMnemonic(config, rec.name)
  const { BIP32 } = await import('./hd.js')
  const chain = BIP32.fromSeed(Buffer.from(Mnemonic.fromPhrase(phrase).computeSeed().slice(2), 'hex')).derivePath(bitcoinChainPath(coinType))
  const pub = Buffer.from(chain.derive(0).publicKey).toString('hex')
  const recorded = rec.bitcoinPubkeys?.[String(coinType)]
  if (recorded && recorded !== pub) throw new KeystoreError(`Key "${rec.name}" unlocked to Bitcoin pubkey ${pub}, but the wallet recorded ${recorded}.`)
  return chain
}

/** What `keys remove` reports. */
export interface RemovedKey {
  name: string
  /** EIP-55 address of the removed key. */
  address: string
  removed: true
}

/**
 * Removes a key: its secret (keychain entry or key file) and its record, and the
 * `defaultKey` setting when it named this key.
 * @param opts.yes - the user confirmed (the secret cannot be recovered without the mnemonic)
 * @param opts.force - remove even while the key is a party to channels not closed or failed
 * @throws {NotFoundError} unknown key; {@link UsageError} without `yes`;
 *   {@link ChannelStateError} while channels of the key are not terminal (DESIGN §3) and not `force`
 */
export function removeKey(config: Config, store: Store, name: string, opts: { yes?: boolean; force?: boolean } = {}): RemovedKey {
  const info = keyInfo(config, name)
  if (!opts.yes) throw new UsageError(`Removing key "${info.name}" (${info.address}) needs --yes.`)
  const live = store.channels.list().filter((c) => c.keyName === info.name && !isTerminal(c.state))
  if (live.length && !opts.force) {
    throw new ChannelStateError(`Key "${info.name}" is a party to ${live.length} channel(s) not closed (e.g. ${live[0].id.slice(0, 10)}).`, {
      metaMessages: ['Close them first, or pass --force.'],
    })
  }
  const rec = config.key(info.name)
  if (rec.keystore === 'keychain') keychainDelete(config.home, info.name)
  else fileDelete(config.home, info.name)
  const keys = { ...config.keys() }
  delete keys[info.name]
  config.set('keys', keys)
  if (config.get('defaultKey') === info.name) config.delete('defaultKey')
  return { name: info.name, address: info.address, removed: true }
}
