/**
 * Wallet configuration and on-disk layout.
 *
 * Everything a wallet keeps lives under one directory, `$CHANNELS_HOME` (default: the
 * OS data directory from env-paths, e.g. `~/.local/share/channels`): `config.json`
 * (written through `conf`, schema-validated; read directly, see {@link Config}), `channels.db` (SQLite) and `keys/` (encrypted
 * key files). Directories are created 0700.
 */
import { mkdirSync, chmodSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import type Conf from 'conf'
import envPaths from 'env-paths'
import { ChannelsError, UsageError, NotFoundError } from './errors.js'
import type { BitcoinNetworkParams } from './chains/bitcoin/networks.js'

/**
 * Address and key prefixes of a Bitcoin-family chain (Bitcoin Core's
 * `base58Prefixes`, `bech32_hrp`), plus the BIP44 coin type of its keys.
 */
export interface BitcoinParamsConfig extends Omit<BitcoinNetworkParams, 'name'> {
  /** BIP44 coin type of the channel key path m/84'/<coinType>'/0'/0/0: 0 on Bitcoin mainnet, 1 on test networks. */
  coinType: number
}

/** A chain the wallet can use. */
export interface NetworkConfig {
  /** Backend family: `evm` (PaymentChannels contract) or `bitcoin` (two1 CLTV channels over Bitcoin Core RPC). */
  kind: 'evm' | 'bitcoin'
  /** CAIP-2 id, e.g. `eip155:31337`, `bip122:000000000019d6689c085ae165831e93`. */
  caip2: string
  /** JSON-RPC URL of a node (Bitcoin: `http://user:password@host:port`, or with `rpcCookieFile`). */
  rpcUrl: string
  /** EVM: address of the PaymentChannels contract; default: the deterministic CREATE2 address. */
  contract?: string
  /** Bitcoin: address prefixes and coin type (required for `kind: bitcoin`). */
  bitcoin?: BitcoinParamsConfig
  /** Bitcoin: path of the node's `.cookie` file when the URL carries no credentials. */
  rpcCookieFile?: string
  /** Bitcoin: fee rate when the node has no estimate, sat/vB (default 2). */
  fallbackFeeRate?: number
}

/** Where a key's secret is kept. */
export type KeystoreKind = 'keychain' | 'file'

/** What the wallet remembers about a key (never the secret). */
export interface KeyRecord {
  /** EVM address (EIP-55) derived at m/44'/60'/0'/0/0. */
  address: string
  /** Bitcoin channel pubkeys (compressed, hex) at m/84'/<coin type>'/0'/0/0, keyed by coin type ("0", "1"). */
  bitcoinPubkeys?: Record<string, string>
  keystore: KeystoreKind
  /** Unix seconds. */
  createdAt: number
}

/** The payer's policy for `channels buy`. Amounts are base-unit decimal strings. */
export interface BuyPolicy {
  /** Open a channel without asking when none can pay. */
  autoOpen: boolean
  /**
   * Deposit of a channel opened by `buy`, in base units (wei). Unset (the default): the
   * deposit pays `depositRequests` requests at the 402's price, or the merchant's
   * `minDeposit` if that is more. (Wallets made before it was optional store 0.1 ETH here;
   * `config set buy.deposit auto` unsets it.)
   */
  deposit?: string
  /** Requests a default deposit pays for, at the 402's price (when `deposit` / `bitcoinDeposit` is unset). */
  depositRequests: number
  /** Highest price `buy` pays for one request without `--max-price`, in base units. */
  maxPrice: string
  /** Settlement delay of channels opened by `buy`, in seconds. */
  settleDelay: number
  /** Bitcoin-family networks: deposit of a channel opened by `buy`, satoshis; unset as `deposit` (plus the close fee). */
  bitcoinDeposit?: string
  /** Bitcoin-family networks: highest price `buy` pays without `--max-price`, satoshis. */
  bitcoinMaxPrice: string
  /** Bitcoin-family networks: lifetime of a channel opened by `buy` (until the refund), seconds. */
  bitcoinExpiry: number
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
  buy: {
    autoOpen: false, depositRequests: 1000, maxPrice: '10000000000000', settleDelay: 86400,
    bitcoinMaxPrice: '10000', bitcoinExpiry: 604800,
  },
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
        kind: { enum: ['evm', 'bitcoin'] },
        caip2: { type: 'string', pattern: '^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$' },
        rpcUrl: { type: 'string', pattern: '^(https?|wss?)://' },
        contract: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
        bitcoin: {
          type: 'object',
          required: ['bech32', 'pubKeyHash', 'scriptHash', 'wif', 'coinType'],
          properties: {
            bech32: { type: 'string', pattern: '^[a-z]{1,16}$' },
            pubKeyHash: { type: 'integer', minimum: 0 },
            scriptHash: { type: 'integer', minimum: 0 },
            wif: { type: 'integer', minimum: 0 },
            coinType: { type: 'integer', minimum: 0 },
          },
        },
        rpcCookieFile: { type: 'string', minLength: 1 },
        fallbackFeeRate: { type: 'integer', minimum: 1 },
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
        bitcoinPubkeys: { type: 'object', additionalProperties: { type: 'string', pattern: '^0[23][0-9a-f]{64}$' } },
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
      depositRequests: { type: 'integer', minimum: 1 },
      maxPrice: decimal,
      settleDelay: { type: 'integer', minimum: 1 },
      bitcoinDeposit: decimal,
      bitcoinMaxPrice: decimal,
      bitcoinExpiry: { type: 'integer', minimum: 60 },
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

// conf (with ajv, which compiles its JSON-schema meta-schema on every construction) costs
// ≈80 ms of a CLI start; only commands that write the config load it. Reads parse
// config.json directly and check it against the same SCHEMA (see `schemaError`).
const require = createRequire(import.meta.url)
type ConfClass = typeof Conf
let ConfModule: ConfClass | undefined

function confClass(): ConfClass {
  if (!ConfModule) {
    try {
      ConfModule = (require('conf') as { default: ConfClass }).default
    } catch (err) {
      throw new ChannelsError('Cannot load `conf` synchronously on this Node.js; call `await preloadConf()` first (or use Node.js ≥ 20.19).', { cause: err })
    }
  }
  return ConfModule
}

/**
 * Loads `conf` ahead of a config write on a Node.js that cannot `require()` ES modules
 * (before 20.19); a no-op elsewhere (it then loads on the first write).
 */
export async function preloadConf(): Promise<void> {
  if (!(process.features as { require_module?: boolean }).require_module) ConfModule ??= (await import('conf')).default
}

type Schema = {
  type?: string
  enum?: readonly unknown[]
  pattern?: string
  minLength?: number
  minimum?: number
  required?: readonly string[]
  properties?: Record<string, Schema>
  additionalProperties?: Schema
}

/**
 * The first violation of `schema` by `value` (the JSON-schema subset SCHEMA uses), in
 * conf's words, or undefined.
 */
function schemaError(schema: Schema, value: unknown, path: string): string | undefined {
  const at = `\`${path.slice(1)}\``
  if (schema.enum && !schema.enum.includes(value)) return `Config schema violation: ${at} must be equal to one of the allowed values`
  const t = schema.type
  if (t === 'string' && typeof value !== 'string') return `Config schema violation: ${at} must be string`
  if (t === 'boolean' && typeof value !== 'boolean') return `Config schema violation: ${at} must be boolean`
  if (t === 'integer' && !Number.isInteger(value)) return `Config schema violation: ${at} must be integer`
  if (t === 'object' && (typeof value !== 'object' || value === null || Array.isArray(value))) return `Config schema violation: ${at} must be object`
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `Config schema violation: ${at} must NOT have fewer than ${schema.minLength} characters`
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) return `Config schema violation: ${at} must match pattern "${schema.pattern}"`
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) return `Config schema violation: ${at} must be >= ${schema.minimum}`
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>
    for (const r of schema.required ?? []) if (!(r in o)) return `Config schema violation: ${at} must have required property '${r}'`
    for (const [k, v] of Object.entries(o)) {
      const sub = schema.properties?.[k] ?? schema.additionalProperties
      const e = sub && schemaError(sub, v, `${path}/${k}`)
      if (e) return e
    }
  }
  return undefined
}

/**
 * Typed access to `config.json` under the wallet home. Reads come from one parse of
 * the file, validated against the schema; writes go through `conf` (atomic write,
 * mode 0600, schema validation), loaded on the first write.
 */
export class Config {
  readonly home: string
  private parsed: WalletConfig
  /** Identity of the config.json that `parsed` came from (inode, size, mtime). */
  private stamp = ''
  private writer?: Conf<WalletConfig>

  /** @throws {UsageError} config.json is not JSON or breaks the schema */
  constructor(home: string = walletHome()) {
    this.home = home
    this.parsed = this.load()
    // A new wallet: let conf write config.json with the defaults (mode 0600), as it always has.
    if (this.stamp === 'none') this.write(() => undefined)
  }

  private fileStamp(): string {
    const st = statSync(join(this.home, 'config.json'), { throwIfNoEntry: false })
    return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none'
  }

  /**
   * The parsed config, re-read when config.json changed since (another process or
   * another Config wrote it), as conf, which reads the file on every access, would see it.
   */
  private get data(): WalletConfig {
    if (this.fileStamp() !== this.stamp) this.parsed = this.load()
    return this.parsed
  }

  private load(): WalletConfig {
    const file = join(this.home, 'config.json')
    const stamp = this.fileStamp()
    try {
      let text = ''
      try {
        text = readFileSync(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
      const stored = text.trim() ? (JSON.parse(text) as Partial<WalletConfig>) : {}
      const data = { ...DEFAULTS, ...stored, buy: { ...DEFAULTS.buy, ...stored.buy } } as WalletConfig
      const violation = schemaError({ type: 'object', properties: SCHEMA as Record<string, Schema> }, data, '')
      if (violation) throw new Error(violation)
      this.stamp = stamp
      return data
    } catch (err) {
      throw new UsageError(`Invalid configuration in ${file}.`, {
        details: (err as Error).message,
        metaMessages: ['Fix or remove the file; `channels config list` shows the values in use.'],
        cause: err,
      })
    }
  }

  /** conf, for writes (created on first use); reads are re-parsed after each write. */
  private get conf(): Conf<WalletConfig> {
    if (!this.writer) {
      const ConfCtor = confClass()
      try {
        this.writer = new ConfCtor<WalletConfig>({
          cwd: this.home,
          configName: 'config',
          projectSuffix: '',
          defaults: DEFAULTS,
          schema: SCHEMA as never,
          // SCHEMA is a constant of ours: compiling JSON Schema's 2020 meta-schema to check it on
          // every write was ≈ 80 ms of CPU in each command that writes config (keys new, config set,
          // the first command in a new home). Values are still validated against SCHEMA.
          ajvOptions: { validateSchema: false },
          clearInvalidConfig: false,
          configFileMode: 0o600,
        })
      } catch (err) {
        throw new UsageError(`Invalid configuration in ${join(this.home, 'config.json')}.`, {
          details: (err as Error).message,
          metaMessages: ['Fix or remove the file; `channels config list` shows the values in use.'],
          cause: err,
        })
      }
    }
    return this.writer
  }

  /** Runs a write through conf, then refreshes the parsed copy. */
  private write(fn: (conf: Conf<WalletConfig>) => void): void {
    try {
      fn(this.conf)
    } finally {
      this.parsed = this.load()
    }
  }

  get<K extends keyof WalletConfig>(key: K): WalletConfig[K] {
    return clone(this.data[key])
  }

  set<K extends keyof WalletConfig>(key: K, value: WalletConfig[K]): void {
    this.write((c) => c.set(key, value))
  }

  /** Removes a top-level or dotted key (e.g. `defaultKey`, `networks.sepolia`). */
  delete(path: string): void {
    this.write((c) => c.delete(path as never))
  }

  /** Reads a dotted path, e.g. `buy.maxPrice`. */
  getPath(path: string): unknown {
    let v: unknown = this.data
    for (const part of path.split('.')) {
      if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, part)) return undefined
      v = (v as Record<string, unknown>)[part]
    }
    return clone(v)
  }

  /**
   * Writes a dotted path; the schema validates the whole config.
   * @throws {UsageError} when the result breaks the schema (nothing is written)
   */
  setPath(path: string, value: unknown): void {
    try {
      this.write((c) => c.set(path as never, value as never))
    } catch (err) {
      if (err instanceof UsageError) throw err
      throw new UsageError(`Invalid value for ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** The whole stored config (built-in networks not included). */
  all(): WalletConfig {
    return clone(this.data)
  }

  /** All networks: built-in ones overlaid by configured ones. */
  networks(): Record<string, NetworkConfig> {
    return { ...BUILTIN_NETWORKS, ...clone(this.data.networks) }
  }

  /**
   * Resolves a network by name (default: `defaultNetwork`), applying an RPC URL
   * override (`--rpc-url` / `CHANNELS_RPC_URL`).
   * @throws {NotFoundError} for an unknown network name
   */
  network(name?: string, rpcUrl?: string): NetworkConfig & { name: string } {
    const n = name ?? this.data.defaultNetwork
    const net = this.networks()[n]
    if (!net) {
      throw new NotFoundError(`Unknown network "${n}".`, {
        metaMessages: [
          `Known networks: ${Object.keys(this.networks()).join(', ')}.`,
          `Add it with \`channels config set networks.${n} <rpcUrl> <caip2>\`, or import a devnet's networks with \`channels config import <devnet.json>\` (the file \`channels devnet\` writes in its CHANNELS_HOME).`,
        ],
      })
    }
    return { ...net, name: n, ...(rpcUrl ? { rpcUrl } : {}) }
  }

  setNetwork(name: string, net: NetworkConfig): void {
    this.write((c) => c.set(`networks.${name}` as never, net as never))
  }

  /**
   * Adds or replaces several networks in one write of config.json: all of them, or, when
   * the result breaks the schema, none.
   * @throws {UsageError} the result breaks the schema (nothing is written)
   */
  setNetworks(networks: Record<string, NetworkConfig>): void {
    const entries = Object.fromEntries(Object.entries(networks).map(([name, net]) => [`networks.${name}`, net]))
    try {
      this.write((c) => c.set(entries as never))
    } catch (err) {
      if (err instanceof UsageError) throw err
      throw new UsageError(`Invalid networks: ${(err as Error).message}`, { cause: err })
    }
  }

  keys(): Record<string, KeyRecord> {
    return clone(this.data.keys)
  }

  addKey(name: string, rec: KeyRecord): void {
    this.write((c) => {
      c.set(`keys.${name}` as never, rec as never)
      if (!c.get('defaultKey')) c.set('defaultKey', name)
    })
  }

  /**
   * The key to use: `name`, else `defaultKey`.
   * @throws {NotFoundError} when there is none
   */
  key(name?: string): KeyRecord & { name: string } {
    const n = name ?? this.data.defaultKey
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

/** A copy, so callers cannot change the parsed config behind the store's back (conf re-reads the file on every get). */
function clone<T>(v: T): T {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v
}
