/**
 * Wallet configuration and on-disk layout.
 *
 * Everything a wallet keeps lives under one directory, `$CHANNELS_HOME` (default: the
 * OS data directory from env-paths, e.g. `~/.local/share/channels`): `config.json`
 * (through `conf`, schema-validated), `channels.db` (SQLite) and `keys/` (encrypted
 * key files). Directories are created 0700.
 */
import { mkdirSync, chmodSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Conf from 'conf'
import envPaths from 'env-paths'
import { UsageError, NotFoundError } from './errors.js'

/** A chain the wallet can use. */
export interface NetworkConfig {
  /** Backend family. */
  kind: 'evm'
  /** CAIP-2 id, e.g. `eip155:31337`. */
  caip2: string
  /** JSON-RPC URL of a node. */
  rpcUrl: string
  /** Address of the PaymentChannels contract; default: the deterministic CREATE2 address. */
  contract?: string
}

/** Where a key's secret is kept. */
export type KeystoreKind = 'keychain' | 'file'

/** What the wallet remembers about a key (never the secret). */
export interface KeyRecord {
  /** EVM address (EIP-55) derived at m/44'/60'/0'/0/0. */
  address: string
  keystore: KeystoreKind
  /** Unix seconds. */
  createdAt: number
}

/** The payer's policy for `channels buy`. Amounts are base-unit decimal strings. */
export interface BuyPolicy {
  /** Open a channel without asking when none can pay. */
  autoOpen: boolean
  /** Deposit of a channel opened by `buy`, in base units (wei). */
  deposit: string
  /** Highest price `buy` pays for one request without `--max-price`, in base units. */
  maxPrice: string
  /** Settlement delay of channels opened by `buy`, in seconds. */
  settleDelay: number
}

export interface WalletConfig {
  defaultNetwork: string
  defaultKey?: string
  keystore: KeystoreKind
  networks: Record<string, NetworkConfig>
  keys: Record<string, KeyRecord>
  buy: BuyPolicy
}

/** Built-in networks; a user's entry of the same name overrides these. */
export const BUILTIN_NETWORKS: Record<string, NetworkConfig> = {
  devnet: { kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545' },
}

const DEFAULTS: WalletConfig = {
  defaultNetwork: 'devnet',
  keystore: 'keychain',
  networks: {},
  keys: {},
  buy: { autoOpen: false, deposit: '100000000000000000', maxPrice: '10000000000000', settleDelay: 86400 },
}

const decimal = { type: 'string', pattern: '^(0|[1-9][0-9]{0,77})$' } as const
const SCHEMA = {
  defaultNetwork: { type: 'string', minLength: 1 },
  defaultKey: { type: 'string', minLength: 1 },
  keystore: { enum: ['keychain', 'file'] },
  networks: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['kind', 'caip2', 'rpcUrl'],
      properties: {
        kind: { enum: ['evm'] },
        caip2: { type: 'string', pattern: '^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$' },
        rpcUrl: { type: 'string', pattern: '^(https?|wss?)://' },
        contract: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
      },
    },
  },
  keys: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['address', 'keystore', 'createdAt'],
      properties: {
        address: { type: 'string' },
        keystore: { enum: ['keychain', 'file'] },
        createdAt: { type: 'integer' },
      },
    },
  },
  buy: {
    type: 'object',
    properties: {
      autoOpen: { type: 'boolean' },
      deposit: decimal,
      maxPrice: decimal,
      settleDelay: { type: 'integer', minimum: 1 },
    },
  },
} as const

/**
 * The wallet's home directory: `$CHANNELS_HOME` or the OS data directory.
 * Created with mode 0700 when missing.
 */
export function walletHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = resolve(env.CHANNELS_HOME || envPaths('channels', { suffix: '' }).data)
  mkdirSync(home, { recursive: true, mode: 0o700 })
  return home
}

/** Path of a file inside the wallet home, making its parent 0700. */
export function homePath(home: string, ...parts: string[]): string {
  const p = join(home, ...parts)
  if (parts.length > 1) {
    const dir = join(home, ...parts.slice(0, -1))
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    chmodSync(dir, 0o700)
  }
  return p
}

/** Typed access to `config.json` under the wallet home. */
export class Config {
  readonly home: string
  private readonly conf: Conf<WalletConfig>

  constructor(home: string = walletHome()) {
    this.home = home
    try {
      this.conf = new Conf<WalletConfig>({
        cwd: home,
        configName: 'config',
        projectSuffix: '',
        defaults: DEFAULTS,
        schema: SCHEMA as never,
        clearInvalidConfig: false,
        configFileMode: 0o600,
      })
    } catch (err) {
      throw new UsageError(`Invalid configuration in ${join(home, 'config.json')}.`, {
        details: (err as Error).message,
        metaMessages: ['Fix or remove the file; `channels config list` shows the values in use.'],
        cause: err,
      })
    }
  }

  get<K extends keyof WalletConfig>(key: K): WalletConfig[K] {
    return this.conf.get(key)
  }

  set<K extends keyof WalletConfig>(key: K, value: WalletConfig[K]): void {
    this.conf.set(key, value)
  }

  /** Removes a top-level or dotted key (e.g. `defaultKey`, `networks.sepolia`). */
  delete(path: string): void {
    this.conf.delete(path as never)
  }

  /** Reads a dotted path, e.g. `buy.maxPrice`. */
  getPath(path: string): unknown {
    return this.conf.get(path as never)
  }

  /**
   * Writes a dotted path; the schema validates the whole config.
   * @throws {UsageError} when the result breaks the schema (nothing is written)
   */
  setPath(path: string, value: unknown): void {
    try {
      this.conf.set(path as never, value as never)
    } catch (err) {
      throw new UsageError(`Invalid value for ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** The whole stored config (built-in networks not included). */
  all(): WalletConfig {
    return this.conf.store
  }

  /** All networks: built-in ones overlaid by configured ones. */
  networks(): Record<string, NetworkConfig> {
    return { ...BUILTIN_NETWORKS, ...this.conf.get('networks') }
  }

  /**
   * Resolves a network by name (default: `defaultNetwork`), applying an RPC URL
   * override (`--rpc-url` / `CHANNELS_RPC_URL`).
   * @throws {NotFoundError} for an unknown network name
   */
  network(name?: string, rpcUrl?: string): NetworkConfig & { name: string } {
    const n = name ?? this.conf.get('defaultNetwork')
    const net = this.networks()[n]
    if (!net) {
      throw new NotFoundError(`Unknown network "${n}".`, {
        metaMessages: [`Known networks: ${Object.keys(this.networks()).join(', ')}.`],
      })
    }
    return { ...net, name: n, ...(rpcUrl ? { rpcUrl } : {}) }
  }

  setNetwork(name: string, net: NetworkConfig): void {
    this.conf.set(`networks.${name}` as never, net as never)
  }

  keys(): Record<string, KeyRecord> {
    return this.conf.get('keys')
  }

  addKey(name: string, rec: KeyRecord): void {
    this.conf.set(`keys.${name}` as never, rec as never)
    if (!this.conf.get('defaultKey')) this.conf.set('defaultKey', name)
  }

  /**
   * The key to use: `name`, else `defaultKey`.
   * @throws {NotFoundError} when there is none
   */
  key(name?: string): KeyRecord & { name: string } {
    const n = name ?? this.conf.get('defaultKey')
    if (!n) {
      throw new NotFoundError('No key in this wallet.', {
        metaMessages: ['Create one with `channels keys new <name>`.'],
      })
    }
    const rec = this.keys()[n]
    if (!rec) {
      throw new NotFoundError(`Unknown key "${n}".`, {
        metaMessages: [`Keys: ${Object.keys(this.keys()).join(', ') || '(none)'}. Create one with \`channels keys new ${n}\`.`],
      })
    }
    return { ...rec, name: n }
  }
}
