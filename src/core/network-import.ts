/**
 * Networks from a file: what `channels devnet` prints on its `--json` ready line and writes
 * to `$CHANNELS_HOME/devnet.json`, read by `channels config import` so that any other home
 * can use the devnet's nodes (issue 9 §3.2). Each network is checked by the rules of
 * `channels config set networks.<name> <rpcUrl> <caip2>` (src/core/settings.ts), then all
 * are written in one config write, or none.
 */
import type { Config, NetworkConfig } from './config.js'
import { NetworkSchema, checkedCaip2, familyOf } from './config.js'
import { checkedRpcUrl, issueText } from './config-fields.js'
import { UsageError } from './errors.js'
import { NETWORK_FIELDS, familyConfig } from './settings.js'

/**
 * Parses and validates the networks in `text`: a JSON object with a `networks` object
 * (the devnet's ready line, or just `{"networks": {...}}`), each entry
 * `{kind?, caip2, rpcUrl, contract?, bitcoin?, rpcCookieFile?, fallbackFeeRate?}`.
 * Other top-level fields (the devnet's `rpcUrl`, `funded`, …) are ignored.
 * @param text - the file's contents
 * @param source - the file's name, for messages
 * @returns the networks, as config stores them
 * @throws {UsageError} not JSON, no `networks` object, no network, a bad name, an unknown
 *   field or a value `config set` would refuse (the message names the network and field)
 * @example parseNetworks('{"networks":{"devnet":{"caip2":"eip155:31337","rpcUrl":"http://127.0.0.1:8545"}}}', 'x.json')
 * // {devnet: {kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545'}}
 */
export function parseNetworks(text: string, source: string): Record<string, NetworkConfig> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${source} is not JSON: ${(err as Error).message}.`, {
      metaMessages: ['Give the file `channels devnet` writes in its home (devnet.json), its --json ready line, or {"networks": {"<name>": {"caip2", "rpcUrl", …}}}.'],
    })
  }
  const networks = isObject(doc) ? doc.networks : undefined
  if (!isObject(networks)) throw new UsageError(`${source} has no "networks" object.`, { metaMessages: ['Expected {"networks": {"<name>": {"caip2", "rpcUrl", …}}}, as `channels devnet --json` prints.'] })
  const names = Object.keys(networks)
  if (!names.length) throw new UsageError(`${source} lists no network.`)
  const out: Record<string, NetworkConfig> = {}
  for (const name of names) out[name] = parseNetwork(name, networks[name])
  return out
}

/**
 * One network of the file: `caip2` and `rpcUrl` checked as `config set` checks them, `kind`
 * from `caip2` (a given `kind` must agree), the family's parameters (`fromFile`), the other
 * fields by `config set`'s parsers, then the whole entry by its family's network schema,
 * with no field the family does not know.
 */
function parseNetwork(name: string, entry: unknown): NetworkConfig {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new UsageError(`Invalid network name "${name}": 1–32 letters, digits, _ or -.`)
  const bad = (field: string, why: string) => new UsageError(`networks.${name}.${field}: ${why}`)
  if (!isObject(entry)) throw new UsageError(`networks.${name} must be an object {caip2, rpcUrl, …}.`)
  const caip2 = checked('caip2', () => checkedCaip2(String(entry.caip2)), bad)
  const rpcUrl = checked('rpcUrl', () => checkedRpcUrl(typeof entry.rpcUrl === 'string' ? entry.rpcUrl : JSON.stringify(entry.rpcUrl)), bad)
  const kind = familyOf(caip2)
  if (entry.kind !== undefined && entry.kind !== kind) throw bad('kind', `${JSON.stringify(entry.kind)} does not match ${caip2} (a${kind === 'evm' ? 'n evm' : ` ${kind}`} network).`)
  const family = familyConfig(kind)
  const known = Object.keys(family.network.shape)
  for (const f of Object.keys(entry)) if (!known.includes(f)) throw bad(f, `unknown field of a${kind === 'evm' ? 'n evm' : ` ${kind}`} network (known: ${known.join(', ')}).`)
  const net: Record<string, unknown> = { ...entry, kind, caip2, rpcUrl }
  if (family.params) net[family.params.field] = checked(family.params.field, () => family.params!.fromFile(caip2, entry[family.params!.field]), bad)
  for (const [f, { parse }] of Object.entries(NETWORK_FIELDS)) {
    if (net[f] !== undefined && f !== 'caip2' && f !== 'rpcUrl') net[f] = checked(f, () => parse(String(net[f])), bad)
  }
  const r = NetworkSchema.safeParse(net)
  if (!r.success) throw new UsageError(`${issueText(r.error.issues[0], `networks.${name}`)}.`)
  return r.data
}

/** Runs one of `config set`'s checks, naming the network's field in its refusal. */
function checked<T>(field: string, check: () => T, bad: (f: string, why: string) => UsageError): T {
  try {
    return check()
  } catch (err) {
    throw bad(field, (err as Error).message)
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Records the networks of `text` in the wallet's config (adding them, or replacing networks
 * of the same names): all in one write, or nothing on any error.
 * @param source - the file's name, for messages
 * @returns the networks written, and the names among them that replaced a configured network
 * @throws {UsageError} see {@link parseNetworks}; the config schema refuses the result
 */
export function importNetworks(config: Config, text: string, source: string): { networks: Record<string, NetworkConfig>; replaced: string[] } {
  const networks = parseNetworks(text, source)
  const before = config.all().networks
  config.setNetworks(networks)
  return { networks, replaced: Object.keys(networks).filter((n) => n in before) }
}
