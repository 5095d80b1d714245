/**
 * Typed settings behind `channels config get|set|list`: each key parses human input
 * (amounts with units, booleans, seconds, URLs) into the stored form and rejects bad
 * values with an error naming them, before anything is written.
 */
import { getAddress } from 'ethers'
import type { Config, NetworkConfig } from './config.js'
import { BUILTIN_NETWORKS } from './config.js'
import { UsageError } from './errors.js'
import { parseAmount } from './units.js'

type Parser = (value: string, config: Config) => unknown

const bool: Parser = (v) => {
  if (/^(true|yes|1|on)$/i.test(v)) return true
  if (/^(false|no|0|off)$/i.test(v)) return false
  throw new UsageError(`Invalid boolean "${v}"; use true or false.`)
}
const amount = (what: string): Parser => (v) => parseAmount(v, what).toString()
const seconds: Parser = (v) => {
  if (!/^[1-9]\d{0,9}$/.test(v) || Number(v) > 2 ** 32 - 1) throw new UsageError(`Invalid number of seconds "${v}".`)
  return Number(v)
}
const url: Parser = (v) => {
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new UsageError(`Invalid URL "${v}".`)
  }
  if (!/^(https?|wss?):$/.test(u.protocol)) throw new UsageError(`Invalid URL "${v}": use http(s) or ws(s).`)
  return v
}
const caip2: Parser = (v) => {
  if (!/^eip155:[1-9]\d{0,19}$/.test(v)) throw new UsageError(`Invalid network id "${v}"; expected eip155:<chain id>.`)
  return v
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
  'buy.deposit': { describe: 'deposit of channels opened by buy (e.g. 0.01eth)', parse: amount('buy.deposit') },
  'buy.maxPrice': { describe: 'highest price buy pays without --max-price', parse: amount('buy.maxPrice') },
  'buy.settleDelay': { describe: 'settle delay of channels opened by buy, seconds', parse: seconds },
}

/** Fields of `networks.<name>.<field>`. */
const NETWORK_FIELDS: Record<string, Parser> = { rpcUrl: url, caip2, contract: address }

/**
 * Parses and stores one setting.
 * @param key - e.g. `buy.maxPrice`, `networks.sepolia.rpcUrl`
 * @returns the stored value
 * @throws {UsageError} unknown key or bad value (nothing is written)
 */
export function setSetting(config: Config, key: string, value: string): unknown {
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
    const next = { ...current, kind: 'evm' as const, [field]: parsed }
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

/** Adds or replaces a network in one call. @throws {UsageError} */
export function setNetwork(config: Config, name: string, rpcUrl: string, id: string, contract?: string): NetworkConfig {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new UsageError(`Invalid network name "${name}".`)
  const net: NetworkConfig = { kind: 'evm', caip2: caip2(id, config) as string, rpcUrl: url(rpcUrl, config) as string }
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
