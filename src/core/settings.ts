/**
 * Typed settings behind `channels config get|set|list`: each key parses human input
 * (amounts with units, booleans, seconds, URLs) into the stored form and rejects bad
 * values with an error naming them, before anything is written.
 */
import { getAddress } from 'ethers'
import type { Config, NetworkConfig } from './config.js'
import { BUILTIN_NETWORKS, FAMILY_CONFIGS, NetworkSchema, checkedCaip2, familyOf } from './config.js'
import { checkedRpcUrl, issueText, type BuySetting, type Family, type FamilyConfig } from './config-fields.js'
import { UsageError } from './errors.js'
import { parseAmount } from './units.js'
import type { Asset } from './asset.js'


type Parser = (value: string, config: Config) => unknown

const bool: Parser = (v) => {
  if (/^(true|yes|1|on)$/i.test(v)) return true
  if (/^(false|no|0|off)$/i.test(v)) return false
  throw new UsageError(`Invalid boolean "${v}"; use true or false.`)
}
const seconds: Parser = (v) => {
  if (!/^[1-9]\d{0,9}$/.test(v) || Number(v) > 2 ** 32 - 1) throw new UsageError(`Invalid number of seconds "${v}".`)
  return Number(v)
}
const secondsOrZero: Parser = (v, c) => (v === '0' ? 0 : seconds(v, c))
/**
 * What `redeem.minProfit` counts: the redemption service runs on EVM networks (DESIGN §12;
 * a Bitcoin-family payee's watcher closes before expiry instead), so it is read in wei.
 */
const REDEEM_ASSET = FAMILY_CONFIGS.find((f) => f.kind === 'evm')!.settingsAsset
const count: Parser = (v) => {
  if (!/^[1-9]\d{0,8}$/.test(v)) throw new UsageError(`Invalid count "${v}"; expected a whole number from 1 to 999999999.`)
  return Number(v)
}
const url = (v: string): string => checkedRpcUrl(v)
const caip2 = (v: string): string => checkedCaip2(v)
const address = (v: string): string => {
  try {
    return getAddress(v)
  } catch {
    throw new UsageError(`invalid address ${JSON.stringify(v)}: expected 0x and 40 hex digits (mixed case: an EIP-55 checksum).`)
  }
}

/** Settings with a fixed path. */
const FIXED: Record<string, { parse: Parser; describe: string; asset?: Asset; auto?: true }> = {
  defaultNetwork: {
    describe: 'network used without --network',
    parse: (v, c) => {
      if (!c.networks()[v]) throw new UsageError(`Unknown network "${v}"; known: ${Object.keys(c.networks()).join(', ')}.`)
      return v
    },
  },
  defaultKey: {
    describe: 'key used without --key',
    parse: (v, c) => {
      if (!c.keys()[v]) throw new UsageError(`Unknown key "${v}"; known: ${Object.keys(c.keys()).join(', ') || '(none)'}.`)
      return v
    },
  },
  keystore: {
    describe: 'where new keys are kept: keychain or file',
    parse: (v) => {
      if (v !== 'keychain' && v !== 'file') throw new UsageError(`Invalid keystore "${v}"; use keychain or file.`)
      return v
    },
  },
  'buy.autoOpen': { describe: 'buy opens a channel without --yes', parse: bool },
  'reconcile.minDiscount': {
    describe: 'smallest discount (sum of the lanes − the requested value, base units of the channel\'s asset) for which this payer merges lanes at a payee\'s reconciliation request',
    parse: (v) => {
      if (!/^(0|[1-9]\d{0,77})$/.test(v)) throw new UsageError(`Invalid reconcile.minDiscount "${v}"; expected a whole number of base units, e.g. 1000.`)
      return v
    },
  },
  'buy.expect': {
    describe: 'requests buy expects at a merchant (buy --expect): with --yes, a channel is opened in place of an x402 exact payment when that many exact payments cost more gas (default 1)',
    parse: count,
  },
  'buy.depositRequests': { describe: 'when the deposit setting of the network\'s family is unset, a channel opened by buy pays this many requests at the 402\'s price (or the merchant\'s minDeposit if more)', parse: count },
  ...Object.fromEntries(FAMILY_CONFIGS.flatMap((f) => Object.entries(f.buy).map(([field, s]) => [`buy.${field}`, buySetting(`buy.${field}`, f, s)]))),
  'redeem.interval': { describe: 'serve: seconds between rounds of the redemption service (default 30; serve --watch-interval overrides it)', parse: seconds },
  'redeem.minProfit': {
    describe: 'serve: redeem a channel when its unredeemed value − estimated gas × fee per gas is at least this (or a deadline is within redeem.margin or redeem.lockMargin); in wei, default 0',
    parse: (v) => parseAmount(v, 'redeem.minProfit', REDEEM_ASSET).toString(),
    asset: REDEEM_ASSET,
  },
  'redeem.margin': { describe: 'serve: redeem whatever it is worth once a settling channel\'s settleAt is this many seconds away (default 3600)', parse: secondsOrZero },
  'redeem.lockMargin': {
    describe: 'serve, hub: redeem a held hash-locked voucher with its secret (channel left open) once its timeLockMax is this many seconds away (default 60)',
    parse: secondsOrZero,
  },
  'redeem.batchSize': { describe: 'serve: most channels redeemed in one closeMany transaction (1 to 200, default 20)', parse: count },
}

/** A family's buy setting as `config set` parses it: amounts in the units of the family whose flag it stands for. */
function buySetting(key: string, family: FamilyConfig, s: BuySetting): { parse: Parser; describe: string; asset?: Asset; auto?: true } {
  // `buy.deposit` stands for `buy --deposit` on EVM networks, `buy.bitcoinDeposit` for it on
  // Bitcoin-family ones: refused in the flag's words, so `buy.deposit 100sat` is no more
  // stored as 100 wei than `--deposit 100sat` is paid (issue 9, bug 7).
  const asset = family.settingsAsset
  const parse: Parser = s.input === 'amount' ? (v) => parseAmount(v, key, asset).toString() : s.input === 'seconds' ? seconds : s.input === 'count' ? count : bool
  return { parse, describe: s.describe, ...(s.input === 'amount' ? { asset } : {}), ...(s.auto ? { auto: true as const } : {}) }
}

/**
 * What an amount setting counts (its value is a decimal string of base units of it; see
 * `FamilyConfig.settingsAsset`), or undefined for a setting that is not an amount.
 * @example amountSettingAsset('buy.bitcoinDeposit')?.symbol // 'BTC'
 */
export function amountSettingAsset(key: string): Asset | undefined {
  return FIXED[key]?.asset
}

/**
 * Fields of `networks.<name>.<field>` that `config set` takes (where the network's family
 * has them) and `config import` checks, each with the parser of its input.
 */
export const NETWORK_FIELDS: Record<string, { parse: (value: string) => unknown; describe: string }> = {
  rpcUrl: { parse: url, describe: 'network rpcUrl' },
  caip2: { parse: caip2, describe: 'network caip2' },
  contract: { parse: address, describe: 'PaymentChannels address (default: the deterministic CREATE2 one)' },
}

/** The config part of a family. */
export const familyConfig = (kind: Family): FamilyConfig => FAMILY_CONFIGS.find((f) => f.kind === kind)!
/** The settable fields of a network of `kind`, in `config list` order. */
const networkFields = (kind: Family) => ['caip2', 'rpcUrl', 'contract'].filter((f) => f in familyConfig(kind).network.shape)

/**
 * Parses and stores one setting.
 * @param key - e.g. `buy.maxPrice`, `networks.sepolia.rpcUrl`
 * @returns the stored value
 * @throws {UsageError} unknown key or bad value (nothing is written)
 */
export function setSetting(config: Config, key: string, value: string): unknown {
  // `auto` unsets a family's deposit setting, going back to the default computed by `buy` (issue 9 §3.6).
  if (FIXED[key]?.auto && value === 'auto') {
    config.delete(key)
    return null
  }
  if (FIXED[key]) {
    const parsed = FIXED[key].parse(value, config)
    config.setPath(key, parsed)
    return parsed
  }
  const m = /^networks\.([A-Za-z0-9_-]{1,32})\.(rpcUrl|caip2|contract)$/.exec(key)
  if (m) {
    const [, name, field] = m
    let parsed: unknown
    try {
      parsed = NETWORK_FIELDS[field].parse(value)
    } catch (err) {
      throw new UsageError(`${key}: ${(err as Error).message}`)
    }
    const current: Partial<NetworkConfig> = config.all().networks[name] ?? BUILTIN_NETWORKS[name] ?? { kind: 'evm' }
    const kind = current.kind ?? 'evm'
    if (!networkFields(kind).includes(field)) throw new UsageError(`${key}: a ${kind} network has no ${field} (its fields: ${networkFields(kind).join(', ')}).`)
    if (field === 'caip2' && familyOf(String(parsed)) !== kind) {
      throw new UsageError(`Network "${name}" is ${kind}; ${String(parsed)} belongs to another chain family. Re-add it with \`config set networks.${name} <rpcUrl> <caip2>\`.`)
    }
    const next = { ...current, kind, [field]: parsed }
    if (!next.caip2 || !next.rpcUrl) {
      throw new UsageError(`Network "${name}" needs both caip2 and rpcUrl.`, {
        metaMessages: [`Set the chain first: channels config set networks.${name}.caip2 eip155:<chain id> … then rpcUrl; or both at once with \`config set networks.${name} <rpcUrl> <caip2>\`.`],
      })
    }
    config.setNetwork(name, next as NetworkConfig)
    return parsed
  }
  throw new UsageError(`Unknown setting "${key}".`, { metaMessages: [`Settings: ${[...Object.keys(FIXED), 'networks.<name>.rpcUrl|caip2|contract'].join(', ')}.`] })
}

/**
 * Adds or replaces a network in one call (`config set networks.<name> <rpcUrl> <caip2>`):
 * the CAIP-2 id names its family; a family's own fields come from `params` (a Bitcoin-family
 * network's address parameters: preset or JSON, else those of a known genesis). The entry is
 * checked by the family's network schema before it is written.
 * @param contract - EVM: the PaymentChannels address
 * @throws {UsageError} a bad name, id, URL, address or parameters (nothing is written)
 */
export function setNetwork(config: Config, name: string, rpcUrl: string, id: string, contract?: string, params?: string): NetworkConfig {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new UsageError(`Invalid network name "${name}".`)
  const chain = caip2(id)
  const family = familyConfig(familyOf(chain))
  const entry: Record<string, unknown> = { kind: family.kind, caip2: chain, rpcUrl: url(rpcUrl) }
  if (family.params) entry[family.params.field] = family.params.fromFlag(chain, params)
  else if (params) throw new UsageError(`--params applies to ${FAMILY_CONFIGS.flatMap((f) => ('params' in f ? [f.params.label] : [])).join(', ')} networks only.`)
  if (contract) {
    if (!('contract' in family.network.shape)) throw new UsageError(`A ${family.kind} network has no contract.`)
    entry.contract = address(contract)
  }
  const r = NetworkSchema.safeParse(entry)
  if (!r.success) throw new UsageError(`Invalid network ${name}: ${issueText(r.error.issues[0])}.`)
  config.setNetwork(name, r.data)
  return r.data
}

/** Reads one setting (dotted path). @throws {UsageError} unknown key */
export function getSetting(config: Config, key: string): unknown {
  if (FIXED[key]) return config.getPath(key) ?? null
  const m = /^networks\.([A-Za-z0-9_-]{1,32})(?:\.(rpcUrl|caip2|contract|kind))?$/.exec(key)
  if (m) {
    const net = config.networks()[m[1]]
    if (!net) throw new UsageError(`Unknown network "${m[1]}".`)
    return m[2] ? ((net as Record<string, unknown>)[m[2]] ?? null) : net
  }
  throw new UsageError(`Unknown setting "${key}".`, { metaMessages: [`Settings: ${Object.keys(FIXED).join(', ')}, networks.<name>[.field].`] })
}

/** Every setting with its value and description. */
export function listSettings(config: Config): { key: string; value: unknown; describe: string }[] {
  const out = Object.entries(FIXED).map(([key, d]) => ({ key, value: config.getPath(key) ?? null, describe: d.describe }))
  for (const [name, net] of Object.entries(config.networks())) {
    for (const f of networkFields(net.kind)) out.push({ key: `networks.${name}.${f}`, value: (net as Record<string, unknown>)[f] ?? null, describe: NETWORK_FIELDS[f].describe })
  }
  return out
}
