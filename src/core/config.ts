/**
 * Wallet configuration and on-disk layout.
 *
 * Everything a wallet keeps lives under one directory, `$CHANNELS_HOME` (default: the
 * OS data directory from env-paths, e.g. `~/.local/share/channels`): `config.json`
 * (one zod schema, {@link WalletConfigSchema}, whose networks are a union of the chain
 * families' schemas; read directly, written through `conf`, see {@link Config}),
 * `channels.db` (SQLite) and `keys/` (encrypted key files). Directories are created 0700.
 */
import { mkdirSync, chmodSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import type Conf from 'conf'
import envPaths from 'env-paths'
import { z } from 'zod'
import { ChannelsError, UsageError, NotFoundError } from './errors.js'
import { RedeemPolicySchema, baseUnitsField, familyOfNetwork, issueText, type Family } from './config-fields.js'
import { evmBuyShape, evmConfig } from '../families/evm/config.js'
import { bitcoinBuyShape, bitcoinConfig, bitcoinKeyShape } from '../families/bitcoin/config.js'

/**
 * The chain families' parts of config.json (each defined in its family's folder): the
 * schema of their `networks` entries, their CAIP-2 namespace and their `buy` settings.
 */
export const FAMILY_CONFIGS = [evmConfig, bitcoinConfig] as const

/** A chain the wallet can use: one family's network schema, told apart by `kind` (`evm` or `bitcoin`). */
export const NetworkSchema = z.discriminatedUnion('kind', [evmConfig.network, bitcoinConfig.network])

/** A chain the wallet can use. */
export type NetworkConfig = z.infer<typeof NetworkSchema>

/** Where a key's secret is kept. */
export const KeystoreKindSchema = z.enum(['keychain', 'file'])
/** Where a key's secret is kept. */
export type KeystoreKind = z.infer<typeof KeystoreKindSchema>

/** What the wallet remembers about a key (never the secret). */
export const KeyRecordSchema = z.object({
  /** EVM address (EIP-55) derived at m/44'/60'/0'/0/0. */
  address: z.string(),
  ...bitcoinKeyShape,
  keystore: KeystoreKindSchema,
  /** Unix seconds. */
  createdAt: z.number().int('must be a whole number of Unix seconds'),
})
/** What the wallet remembers about a key (never the secret). */
export type KeyRecord = z.infer<typeof KeyRecordSchema>

/** The payer's policy for `channels buy`: shared fields, then each family's. Amounts are base-unit decimal strings. */
export const BuyPolicySchema = z.object({
  /** Open a channel without asking when none can pay. */
  autoOpen: z.boolean().default(false),
  /** Requests a default deposit pays for, at the 402's price (when the family's deposit setting is unset). */
  depositRequests: z.number().int('must be a whole number').min(1, 'must be at least 1').default(1000),
  /**
   * Requests `buy` expects at a merchant (`--expect`): with `autoOpen`, a channel is opened in place of an
   * x402 `exact` payment when this many exact payments would cost more gas (issue 13 §2). Unset: 1.
   */
  expect: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  ...evmBuyShape,
  ...bitcoinBuyShape,
})
/** The payer's policy for `channels buy`. */
export type BuyPolicy = z.infer<typeof BuyPolicySchema>

/**
 * config.json. Every field has a default, so `{}` (or a missing file) is a valid config;
 * fields this version does not know are kept in the file and ignored.
 */
export const WalletConfigSchema = z.object({
  /** Network used without --network. */
  defaultNetwork: z.string().min(1, 'must not be empty').default('devnet'),
  /** Key used without --key. */
  defaultKey: z.string().min(1, 'must not be empty').optional(),
  /** Where new keys are kept. */
  keystore: KeystoreKindSchema.default('keychain'),
  /** Configured networks by name (over the built-in ones). */
  networks: z.record(NetworkSchema).default({}),
  /** Recorded keys by name. */
  keys: z.record(KeyRecordSchema).default({}),
  buy: BuyPolicySchema.default({}),
  /**
   * The payee's redemption service (`serve`). Absent until a `config set redeem.…`, so a new
   * wallet's config.json stays as it was; `redeemPolicy` (config-fields.ts) fills the defaults.
   */
  redeem: RedeemPolicySchema.optional(),
  /**
   * The payer's answer to a payee's reconciliation request (issue 11 §3, DESIGN §13); absent
   * until set, so that config files keep their shape ({@link minDiscountOf} reads the default).
   */
  reconcile: z.object({
    /** Smallest `sum − reqVal` (base units of the channel's asset) for which the payer signs the merged voucher; default 0. */
    minDiscount: baseUnitsField.optional(),
  }).optional(),
})
export type WalletConfig = z.infer<typeof WalletConfigSchema>

/** Config `reconcile.minDiscount`, base units (0 when unset). */
export function minDiscountOf(config: Pick<Config, 'get'>): bigint {
  return BigInt(config.get('reconcile')?.minDiscount ?? '0')
}

/** Built-in networks; a user's entry of the same name overrides these. */
export const BUILTIN_NETWORKS: Record<string, NetworkConfig> = {
  devnet: { kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545' },
}

/**
 * The family whose CAIP-2 namespace `caip2` is in (`familyOfNetwork`), checked whole
 * against that family's form of id.
 * @throws {UsageError} an id of no family we know (the message lists the forms)
 * @example familyOf('bip122:530827f38f93b43ed12af0b3ad25a288') // 'bitcoin'
 */
export function familyOf(caip2: string): Family {
  const kind = familyOfNetwork(caip2)
  const f = FAMILY_CONFIGS.find((c) => c.kind === kind && c.caip2.test(caip2))
  if (!f) throw new UsageError(`Invalid network id "${caip2}"; expected ${FAMILY_CONFIGS.map((c) => c.caip2Hint).join(' or ')}.`)
  return f.kind
}

/** A CAIP-2 id of a family we know: `eip155:<chain id>` or `bip122:<genesis prefix>`. @throws {UsageError} */
export function checkedCaip2(v: string): string {
  familyOf(v)
  return v
}

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

// conf is ≈80 ms of a CLI start to load; only commands that write the config load it.
// Reads parse config.json directly and check it against WalletConfigSchema.
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

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Sets a dotted path inside a JSON object, creating the objects on the way (as conf's dot notation did). */
function setIn(o: Json, path: string, value: unknown): void {
  const parts = path.split('.')
  let at = o
  for (const p of parts.slice(0, -1)) {
    if (!isObject(at[p])) at[p] = {}
    at = at[p] as Json
  }
  at[parts[parts.length - 1]] = value
}

/** Removes a dotted path from a JSON object (nothing when it is absent). */
function deleteIn(o: Json, path: string): void {
  const parts = path.split('.')
  let at: unknown = o
  for (const p of parts.slice(0, -1)) at = isObject(at) ? at[p] : undefined
  if (isObject(at)) delete at[parts[parts.length - 1]]
}

/**
 * Typed access to `config.json` under the wallet home. Reads come from one parse of the
 * file, validated by {@link WalletConfigSchema} (defaults filled in). A write changes the
 * file's JSON as stored (fields this version does not know are kept), validates the result
 * with the same schema, and only then hands the whole object to `conf`, which writes it
 * atomically (temporary file + rename) with mode 0600. conf gets no schema of its own: zod
 * is the one schema, and conf without one never loads ajv's compiler.
 */
export class Config {
  readonly home: string
  private parsed: WalletConfig
  /** Identity of the config.json that `parsed` came from (inode, size, mtime). */
  private stamp = ''
  private writer?: Conf<Json>

  /** @throws {UsageError} config.json is not JSON or breaks the schema */
  constructor(home: string = walletHome()) {
    this.home = home
    this.parsed = this.load()
    // A new wallet: write config.json with the defaults (mode 0600), as conf always has.
    if (this.stamp === 'none') this.write('config.json', () => Object.assign({}, WalletConfigSchema.parse({})))
  }

  private get file(): string {
    return join(this.home, 'config.json')
  }

  private fileStamp(): string {
    const st = statSync(this.file, { throwIfNoEntry: false })
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

  /** The JSON object config.json holds ({} for a missing or empty file). @throws {UsageError} not a JSON object */
  private raw(): Json {
    let text = ''
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.invalid(err as Error)
    }
    let stored: unknown
    try {
      stored = text.trim() ? JSON.parse(text) : {}
    } catch (err) {
      throw this.invalid(err as Error)
    }
    if (!isObject(stored)) throw this.invalid(new Error('config.json must hold a JSON object'))
    return stored
  }

  private invalid(err: Error): UsageError {
    return new UsageError(`Invalid configuration in ${this.file}.`, {
      details: err.message,
      metaMessages: ['Fix or remove the file; `channels config list` shows the values in use.'],
      cause: err,
    })
  }

  private load(): WalletConfig {
    const stamp = this.fileStamp()
    const r = WalletConfigSchema.safeParse(this.raw())
    if (!r.success) throw this.invalid(new Error(issueText(r.error.issues[0])))
    this.stamp = stamp
    return r.data
  }

  /** conf, for writes (created on first use). */
  private get conf(): Conf<Json> {
    if (!this.writer) {
      const ConfCtor = confClass()
      try {
        this.writer = new ConfCtor<Json>({ cwd: this.home, configName: 'config', projectSuffix: '', clearInvalidConfig: false, configFileMode: 0o600 })
      } catch (err) {
        throw this.invalid(err as Error)
      }
    }
    return this.writer
  }

  /**
   * Changes config.json: `change` edits (or returns) its stored JSON, the result must pass
   * the schema, then conf writes it. Nothing is written on a refusal.
   * @param what - what is being changed, for the refusal (`buy.maxPrice`, `networks`)
   * @throws {UsageError} the result breaks the schema: "Invalid value for <what>: <field>: <why>"
   */
  private write(what: string, change: (stored: Json) => Json | void): void {
    const current = this.raw()
    const next = change(current) ?? current
    const r = WalletConfigSchema.safeParse(next)
    if (!r.success) {
      const issue = r.error.issues[0]
      const field = issue.path.join('.')
      throw new UsageError(`Invalid value for ${what}: ${field === what ? issueText({ ...issue, path: [] }) : issueText(issue)}.`)
    }
    try {
      this.conf.store = next
    } finally {
      this.parsed = this.load()
    }
  }

  get<K extends keyof WalletConfig>(key: K): WalletConfig[K] {
    return clone(this.data[key])
  }

  /** @throws {UsageError} the value breaks the schema (nothing is written) */
  set<K extends keyof WalletConfig>(key: K, value: WalletConfig[K]): void {
    this.write(key, (c) => void (c[key] = value))
  }

  /** Removes a top-level or dotted key (e.g. `defaultKey`, `networks.sepolia`). */
  delete(path: string): void {
    this.write(path, (c) => deleteIn(c, path))
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
    this.write(path, (c) => setIn(c, path, value))
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

  /** Adds or replaces a network. @throws {UsageError} the result breaks the schema (nothing is written) */
  setNetwork(name: string, net: NetworkConfig): void {
    this.setNetworks({ [name]: net })
  }

  /**
   * Adds or replaces several networks in one write of config.json: all of them, or, when
   * the result breaks the schema, none.
   * @throws {UsageError} the result breaks the schema (nothing is written)
   */
  setNetworks(networks: Record<string, NetworkConfig>): void {
    this.write(Object.keys(networks).length === 1 ? `networks.${Object.keys(networks)[0]}` : 'networks', (c) => {
      for (const [name, net] of Object.entries(networks)) setIn(c, `networks.${name}`, net)
    })
  }

  keys(): Record<string, KeyRecord> {
    return clone(this.data.keys)
  }

  /** Records a key (the first one becomes `defaultKey`). @throws {UsageError} the record breaks the schema */
  addKey(name: string, rec: KeyRecord): void {
    this.write(`keys.${name}`, (c) => {
      setIn(c, `keys.${name}`, rec)
      if (!c.defaultKey) c.defaultKey = name
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
