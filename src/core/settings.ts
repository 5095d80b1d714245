/**
 * Typed settings behind `channels config get|set|list`: each key parses human input
 * (amounts with units, booleans, seconds, URLs) into the stored form and rejects bad
 * values with an error naming them, before anything is written.
 */
import { getAddress } from 'ethers'
import type { BitcoinParamsConfig, Config, NetworkConfig } from './config.js'
import { BUILTIN_NETWORKS } from './config.js'
import { UsageError } from './errors.js'
import { parseAmount } from './units.js'
import { BITCOIN_NETWORKS } from './chains/bitcoin/networks.js'

type Parser = (value: string, config: Config) => unknown

const bool: Parser = (v) => {
  if (/^(true|yes|1|on)$/i.test(v)) return true
  if (/^(false|no|0|off)$/i.test(v)) return false
  throw new UsageError(`Invalid boolean "${v}"; use true or false.`)
}
/**
 * An amount setting: the units of the family its flag takes (`buy.deposit` stands for
 * `buy --deposit` on EVM networks, `buy.bitcoinDeposit` for it on Bitcoin-family ones),
 * refused in the flag's words, so `buy.deposit 100sat` is no more stored as 100 wei
 * than `--deposit 100sat` is paid (issue 9, bug 7).
 */
const amount = (what: string, family: 'evm' | 'bitcoin'): Parser => (v) => parseAmount(v, what, family).toString()
const seconds: Parser = (v) => {
  if (!/^[1-9]\d{0,9}$/.test(v) || Number(v) > 2 ** 32 - 1) throw new UsageError(`Invalid number of seconds "${v}".`)
  return Number(v)
}
const count: Parser = (v) => {
  if (!/^[1-9]\d{0,8}$/.test(v)) throw new UsageError(`Invalid count "${v}"; expected a whole number from 1 to 999999999.`)
  return Number(v)
}
/** An http(s) or ws(s) URL, as a network's `rpcUrl`. @throws {UsageError} */
export function checkedRpcUrl(v: string): string {
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new UsageError(`Invalid URL "${v}".`)
  }
  if (!/^(https?|wss?):$/.test(u.protocol)) throw new UsageError(`Invalid URL "${v}": use http(s) or ws(s).`)
  return v
}
const url: Parser = (v) => checkedRpcUrl(v)

/** A CAIP-2 id of a family we know: `eip155:<chain id>` or `bip122:<genesis prefix>`. @throws {UsageError} */
export function checkedCaip2(v: string): string {
  if (!/^eip155:[1-9]\d{0,19}$/.test(v) && !/^bip122:[0-9a-f]{32}$/.test(v)) {
    throw new UsageError(`Invalid network id "${v}"; expected eip155:<chain id> or bip122:<first 32 hex digits of the genesis hash>.`)
  }
  return v
}
const caip2: Parser = (v) => checkedCaip2(v)

/**
 * Address prefixes and coin types of the Bitcoin-family chains we know: the prefixes of
 * `BITCOIN_NETWORKS` (Bitcoin Core / Litecoin Core chainparams), coin type 0 on Bitcoin
 * mainnet and 1 on test networks.
 */
export const BITCOIN_PRESETS: Record<string, BitcoinParamsConfig> = Object.fromEntries(
  Object.entries(BITCOIN_NETWORKS).map(([preset, { name: _name, ...prefixes }]) => [preset, { ...prefixes, coinType: preset === 'bitcoin' ? 0 : 1 }]),
)

/** Presets by CAIP-2 id (genesis hash prefix), so `config set networks.x <url> bip122:…` needs no --params for these. */
export const KNOWN_GENESIS: Record<string, string> = {
  'bip122:000000000019d6689c085ae165831e93': 'bitcoin',
  'bip122:000000000933ea01ad0ee984209779ba': 'bitcoin-testnet', // testnet3
  'bip122:00000000da84f2bafbbc53dee25a72ae': 'bitcoin-testnet', // testnet4
  'bip122:0f9188f13cb7b2c71f2a335e3a4fc328': 'bitcoin-regtest',
  'bip122:530827f38f93b43ed12af0b3ad25a288': 'litecoin-regtest',
}

/** The fields of a Bitcoin-family network's `bitcoin` parameters. */
const BITCOIN_PARAM_FIELDS = ['bech32', 'pubKeyHash', 'scriptHash', 'wif', 'coinType', 'dustRelayFee']

/**
 * Bitcoin parameters from a preset name or a JSON object `{bech32, pubKeyHash, scriptHash, wif, coinType, dustRelayFee?}`
 * (`dustRelayFee` in sat/vB: the nodes' `-dustrelayfee`, default Bitcoin's 3; Litecoin's is 30).
 * @throws {UsageError} unknown preset or malformed JSON
 */
export function bitcoinParams(v: string): BitcoinParamsConfig {
  if (BITCOIN_PRESETS[v]) return { ...BITCOIN_PRESETS[v] }
  let o: Record<string, unknown>
  try {
    o = JSON.parse(v)
  } catch {
    throw new UsageError(`Unknown Bitcoin parameters "${v}"; use ${Object.keys(BITCOIN_PRESETS).join(', ')} or JSON {bech32, pubKeyHash, scriptHash, wif, coinType}.`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError('Bitcoin parameters must be a JSON object {bech32, pubKeyHash, scriptHash, wif, coinType, dustRelayFee?}.')
  const unknown = Object.keys(o).find((k) => !BITCOIN_PARAM_FIELDS.includes(k))
  if (unknown) throw new UsageError(`Bitcoin parameter ${unknown} is unknown (known: ${BITCOIN_PARAM_FIELDS.join(', ')}).`)
  const int = (k: string) => {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 0 || (o[k] as number) > 255) throw new UsageError(`Bitcoin parameter ${k} must be an integer 0–255.`)
    return o[k] as number
  }
  if (typeof o.bech32 !== 'string' || !/^[a-z]{1,16}$/.test(o.bech32)) throw new UsageError('Bitcoin parameter bech32 must be 1–16 lowercase letters.')
  const dust = o.dustRelayFee
  if (dust !== undefined && (typeof dust !== 'number' || !(dust > 0) || dust > 1_000_000)) throw new UsageError('Bitcoin parameter dustRelayFee must be a positive number of sat/vB.')
  return {
    bech32: o.bech32, pubKeyHash: int('pubKeyHash'), scriptHash: int('scriptHash'), wif: int('wif'), coinType: int('coinType'),
    ...(dust !== undefined ? { dustRelayFee: dust as number } : {}),
  }
}
const address: Parser = (v) => {
  try {
    return getAddress(v)
  } catch {
    throw new UsageError(`Invalid address "${v}".`)
  }
}

/** Settings with a fixed path. */
const FIXED: Record<string, { parse: Parser; describe: string }> = {
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
  'buy.deposit': { describe: 'EVM networks: deposit of channels opened by buy (e.g. 0.01eth; auto: buy.depositRequests × the price)', parse: amount('buy.deposit', 'evm') },
  'buy.depositRequests': { describe: 'when buy.deposit is unset, a channel opened by buy pays this many requests at the 402\'s price (or the merchant\'s minDeposit if more)', parse: count },
  'buy.maxPrice': { describe: 'EVM networks: highest price buy pays without --max-price (e.g. 10gwei)', parse: amount('buy.maxPrice', 'evm') },
  'buy.settleDelay': { describe: 'settle delay of channels opened by buy, seconds', parse: seconds },
  'buy.bitcoinDeposit': { describe: 'Bitcoin networks: deposit of channels opened by buy (e.g. 0.01btc, 100000sat; auto: buy.depositRequests × the price + the close fee)', parse: amount('buy.bitcoinDeposit', 'bitcoin') },
  'buy.bitcoinMaxPrice': { describe: 'Bitcoin networks: highest price buy pays without --max-price (satoshis)', parse: amount('buy.bitcoinMaxPrice', 'bitcoin') },
  'buy.bitcoinExpiry': { describe: 'Bitcoin networks: lifetime of channels opened by buy, seconds', parse: seconds },
}

/**
 * The chain family of an amount setting (its value is a decimal string of base units in
 * that family's smallest unit), or undefined for a setting that is not an amount.
 * @example amountSettingFamily('buy.bitcoinDeposit') // 'bitcoin'
 */
export function amountSettingFamily(key: string): 'evm' | 'bitcoin' | undefined {
  return key === 'buy.deposit' || key === 'buy.maxPrice' ? 'evm' : key === 'buy.bitcoinDeposit' || key === 'buy.bitcoinMaxPrice' ? 'bitcoin' : undefined
}

/** Settings that `auto` unsets, going back to the default computed by `buy` (issue 9 §3.6). */
const UNSETTABLE = new Set(['buy.deposit', 'buy.bitcoinDeposit'])

/** Fields of `networks.<name>.<field>`. */
const NETWORK_FIELDS: Record<string, Parser> = { rpcUrl: url, caip2, contract: address }

/**
 * Parses and stores one setting.
 * @param key - e.g. `buy.maxPrice`, `networks.sepolia.rpcUrl`
 * @returns the stored value
 * @throws {UsageError} unknown key or bad value (nothing is written)
 */
export function setSetting(config: Config, key: string, value: string): unknown {
  if (UNSETTABLE.has(key) && value === 'auto') {
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
    const parsed = NETWORK_FIELDS[field](value, config)
    const current: Partial<NetworkConfig> = config.all().networks[name] ?? BUILTIN_NETWORKS[name] ?? { kind: 'evm' }
    const next = { ...current, kind: current.kind ?? 'evm', [field]: parsed }
    if (field === 'caip2' && (next.kind === 'bitcoin') !== String(parsed).startsWith('bip122:')) {
      throw new UsageError(`Network "${name}" is ${next.kind}; ${String(parsed)} belongs to another chain family. Re-add it with \`config set networks.${name} <rpcUrl> <caip2>\`.`)
    }
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
 * Adds or replaces a network in one call. A `bip122:` id makes a Bitcoin-family network;
 * its parameters come from `params` (preset or JSON) or from the known genesis hashes.
 * @throws {UsageError}
 */
export function setNetwork(config: Config, name: string, rpcUrl: string, id: string, contract?: string, params?: string): NetworkConfig {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new UsageError(`Invalid network name "${name}".`)
  const chain = caip2(id, config) as string
  const net: NetworkConfig = { kind: chain.startsWith('bip122:') ? 'bitcoin' : 'evm', caip2: chain, rpcUrl: url(rpcUrl, config) as string }
  if (net.kind === 'bitcoin') {
    const preset = params ?? KNOWN_GENESIS[chain]
    if (!preset) throw new UsageError(`Unknown Bitcoin-family chain ${chain}: give its address parameters with --params (${Object.keys(BITCOIN_PRESETS).join(', ')} or JSON).`)
    net.bitcoin = bitcoinParams(preset)
  } else if (params) throw new UsageError('--params applies to Bitcoin-family (bip122) networks only.')
  if (contract) net.contract = address(contract, config) as string
  config.setNetwork(name, net)
  return net
}

/** Reads one setting (dotted path). @throws {UsageError} unknown key */
export function getSetting(config: Config, key: string): unknown {
  if (FIXED[key]) return config.getPath(key) ?? null
  const m = /^networks\.([A-Za-z0-9_-]{1,32})(?:\.(rpcUrl|caip2|contract|kind))?$/.exec(key)
  if (m) {
    const net = config.networks()[m[1]]
    if (!net) throw new UsageError(`Unknown network "${m[1]}".`)
    return m[2] ? (net[m[2] as keyof NetworkConfig] ?? null) : net
  }
  throw new UsageError(`Unknown setting "${key}".`, { metaMessages: [`Settings: ${Object.keys(FIXED).join(', ')}, networks.<name>[.field].`] })
}

/** Every setting with its value and description. */
export function listSettings(config: Config): { key: string; value: unknown; describe: string }[] {
  const out = Object.entries(FIXED).map(([key, d]) => ({ key, value: config.getPath(key) ?? null, describe: d.describe }))
  for (const [name, net] of Object.entries(config.networks())) {
    for (const f of ['caip2', 'rpcUrl', 'contract'] as const) out.push({ key: `networks.${name}.${f}`, value: net[f] ?? null, describe: f === 'contract' ? 'PaymentChannels address (default: the deterministic CREATE2 one)' : `network ${f}` })
  }
  return out
}
