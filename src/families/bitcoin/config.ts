/**
 * The Bitcoin family's part of config.json: the schema of its `networks` entries (address
 * parameters, cookie file, fee rate), the presets of the chains we know, its settings of the
 * `buy` policy and its field of a key record. Loaded by every command (config.json is read
 * by each), so it imports zod and the preset constants, none of the family's chain code.
 */
import { z } from 'zod'
import { UsageError } from '../../core/errors.js'
import { baseUnitsField, buyShape, issueText, rpcUrlField, secondsField, type FamilyConfig } from '../../core/config-fields.js'
import { BITCOIN_NETWORKS, type BitcoinNetworkParams } from './networks.js'
import { bitcoinAsset } from './asset.js'

/** CAIP-2 ids of Bitcoin-family chains: `bip122:<first 32 hex digits of the genesis hash>`. */
export const BITCOIN_CAIP2 = /^bip122:[0-9a-f]{32}$/

const byte = (what: string) => {
  const m = `must be an integer 0–255 (${what})`
  return z.number({ required_error: m, invalid_type_error: m }).int(m).min(0, m).max(255, m)
}

/**
 * Address prefixes of a Bitcoin-family chain (Bitcoin Core's `base58Prefixes`,
 * `bech32_hrp`), the dust relay fee of its nodes, and the BIP44 coin type of its keys.
 */
export const BitcoinParamsSchema = z.object({
  /** Bech32 human-readable part of segwit addresses (`bc`, `tb`, `bcrt`, `rltc`). */
  bech32: z.string({ required_error: 'must be 1–16 lowercase letters', invalid_type_error: 'must be 1–16 lowercase letters' }).regex(/^[a-z]{1,16}$/, 'must be 1–16 lowercase letters'),
  /** Base58 version byte of P2PKH addresses. */
  pubKeyHash: byte('the P2PKH address version byte'),
  /** Base58 version byte of P2SH addresses. */
  scriptHash: byte('the P2SH address version byte'),
  /** Version byte of WIF private keys. */
  wif: byte('the WIF version byte'),
  /** BIP44 coin type of the channel key path m/84'/<coinType>'/0'/0/0: 0 on Bitcoin mainnet, 1 on test networks. */
  coinType: z.number({ required_error: 'must be a BIP44 coin type, an integer 0–2147483647', invalid_type_error: 'must be a BIP44 coin type, an integer 0–2147483647' })
    .int('must be a BIP44 coin type, an integer 0–2147483647').min(0, 'must be a BIP44 coin type, an integer 0–2147483647').max(2 ** 31 - 1, 'must be a BIP44 coin type, an integer 0–2147483647'),
  /** The nodes' `-dustrelayfee`, sat/vB; default Bitcoin's 3 (Litecoin's is 30, see `dustRelayFeeOf`). */
  dustRelayFee: z.number({ invalid_type_error: 'must be a positive number of sat/vB' }).positive('must be a positive number of sat/vB').max(1_000_000, 'must be a positive number of sat/vB').optional(),
})

/** A Bitcoin-family network's `bitcoin` parameters, as config.json stores them. */
export type BitcoinParamsConfig = z.infer<typeof BitcoinParamsSchema>
// The stored parameters are the address model of networks.ts plus the coin type: keep them one.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const _sameParams: Same<Omit<BitcoinParamsConfig, 'coinType'>, Omit<BitcoinNetworkParams, 'name'>> = true
void _sameParams

/** A `networks.<name>` entry of kind `bitcoin` (two1 CLTV channels over Bitcoin Core RPC). */
export const BitcoinNetworkSchema = z.object({
  kind: z.literal('bitcoin'),
  /** CAIP-2 id, e.g. `bip122:000000000019d6689c085ae165831e93`. */
  caip2: z.string().regex(BITCOIN_CAIP2, 'must be bip122:<first 32 hex digits of the genesis hash>'),
  /** JSON-RPC URL of the node: `http://user:password@host:port`, or without credentials and with `rpcCookieFile`. */
  rpcUrl: rpcUrlField,
  /**
   * Address prefixes and coin type. `config set` and `config import` always record them;
   * optional here only because config.json files written by hand before could omit them
   * (such a network loads, and refuses to be used).
   */
  bitcoin: BitcoinParamsSchema.optional(),
  /** Path of the node's `.cookie` file when the URL carries no credentials. */
  rpcCookieFile: z.string().min(1, 'must be a non-empty path').optional(),
  /** Fee rate when the node has no estimate, sat/vB (default 2). */
  fallbackFeeRate: z.number().int('must be a whole number of sat/vB').min(1, 'must be at least 1 sat/vB').optional(),
})

/** A configured Bitcoin-family network. */
export type BitcoinNetworkConfig = z.infer<typeof BitcoinNetworkSchema>

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

const PARAM_FIELDS = Object.keys(BitcoinParamsSchema.shape)

/**
 * Bitcoin parameters from a preset name or a JSON object `{bech32, pubKeyHash, scriptHash, wif, coinType, dustRelayFee?}`
 * (`dustRelayFee` in sat/vB: the nodes' `-dustrelayfee`, default Bitcoin's 3; Litecoin's is 30),
 * checked by {@link BitcoinParamsSchema} with no unknown field.
 * @param v - `config set --params`: a preset name or JSON
 * @throws {UsageError} unknown preset, malformed JSON, or a field the schema refuses ("Bitcoin parameter <field> …")
 * @example bitcoinParams('litecoin-regtest').bech32 // 'rltc'
 */
export function bitcoinParams(v: string): BitcoinParamsConfig {
  if (BITCOIN_PRESETS[v]) return { ...BITCOIN_PRESETS[v] }
  let o: unknown
  try {
    o = JSON.parse(v)
  } catch {
    throw new UsageError(`Unknown Bitcoin parameters "${v}"; use ${Object.keys(BITCOIN_PRESETS).join(', ')} or JSON {bech32, pubKeyHash, scriptHash, wif, coinType}.`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError('Bitcoin parameters must be a JSON object {bech32, pubKeyHash, scriptHash, wif, coinType, dustRelayFee?}.')
  const unknown = Object.keys(o).find((k) => !PARAM_FIELDS.includes(k))
  if (unknown) throw new UsageError(`Bitcoin parameter ${unknown} is unknown (known: ${PARAM_FIELDS.join(', ')}).`)
  const r = BitcoinParamsSchema.safeParse(o)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  throw new UsageError(`Bitcoin parameter ${issueText(issue).replace(': ', ' ')}.`)
}

/**
 * The parameters of a Bitcoin-family network being added: the ones given (a preset or
 * JSON, see {@link bitcoinParams}), else the preset of a known genesis.
 * @param given - `--params`, or the `bitcoin` object of an imported network
 * @throws {UsageError} an unknown chain without parameters, or bad parameters
 */
export function paramsFor(caip2: string, given?: string): BitcoinParamsConfig {
  const preset = given ?? KNOWN_GENESIS[caip2]
  if (!preset) throw new UsageError(`Unknown Bitcoin-family chain ${caip2}: give its address parameters with --params (${Object.keys(BITCOIN_PRESETS).join(', ')} or JSON).`)
  return bitcoinParams(preset)
}

/**
 * The parameters of an imported Bitcoin-family network (`config import`): its `bitcoin`
 * object, checked as `--params` JSON is, else the preset of a known genesis.
 * @throws {UsageError} worded after the field: "missing: …", "must be an object …", "bech32 must be …"
 */
export function paramsFromFile(caip2: string, given: unknown): BitcoinParamsConfig {
  if (given === undefined) {
    const preset = KNOWN_GENESIS[caip2]
    if (!preset) throw new UsageError(`missing: ${caip2} is not a chain whose address parameters are known; give {bech32, pubKeyHash, scriptHash, wif, coinType}.`)
    return { ...BITCOIN_PRESETS[preset] }
  }
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new UsageError('must be an object {bech32, pubKeyHash, scriptHash, wif, coinType, dustRelayFee?}.')
  try {
    return bitcoinParams(JSON.stringify(given))
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^Bitcoin parameter /, ''))
  }
}

/**
 * The Bitcoin settings of `buy`, as config.json has always stored them (the `bitcoin`
 * prefix tells them from the EVM ones). Amounts are in satoshis.
 */
export const BITCOIN_BUY = {
  /** Deposit of a channel opened by `buy`, satoshis; unset as `deposit` (the default pays `depositRequests` requests, plus the close fee). */
  bitcoinDeposit: {
    schema: baseUnitsField.optional(), input: 'amount', auto: true,
    describe: 'Bitcoin networks: deposit of channels opened by buy (e.g. 0.01btc, 100000sat; auto: buy.depositRequests × the price + the close fee)',
  },
  /** Highest price `buy` pays without `--max-price`, satoshis. */
  bitcoinMaxPrice: { schema: baseUnitsField.default('10000'), input: 'amount', describe: 'Bitcoin networks: highest price buy pays without --max-price (satoshis)' },
  /** Lifetime of a channel opened by `buy` (until the refund), seconds. */
  bitcoinExpiry: { schema: secondsField(60).default(604800), input: 'seconds', describe: 'Bitcoin networks: lifetime of channels opened by buy, seconds' },
} as const

/** The Bitcoin field of a key record: what `keys show` and the paywall need without an unlock. */
export const bitcoinKeyShape = {
  /** Bitcoin channel pubkeys (compressed, hex) at m/84'/<coin type>'/0'/0/0, keyed by coin type ("0", "1"). */
  bitcoinPubkeys: z.record(z.string().regex(/^0[23][0-9a-f]{64}$/, 'must be a compressed public key (66 hex digits)')).optional(),
}

/** The Bitcoin family's config: networks of kind `bitcoin` and its `buy` settings. */
export const bitcoinConfig = {
  kind: 'bitcoin',
  caip2: BITCOIN_CAIP2,
  caip2Hint: 'bip122:<first 32 hex digits of the genesis hash>',
  network: BitcoinNetworkSchema,
  buy: BITCOIN_BUY,
  /** Amount settings are in satoshis, read in sat/btc/ltc and shown as bitcoin's (`0.01 BTC`, `10,000 sat`). */
  settingsAsset: bitcoinAsset({ caip2: 'bip122:000000000019d6689c085ae165831e93' }),
  params: { label: 'Bitcoin-family (bip122)', field: 'bitcoin', fromFlag: paramsFor, fromFile: paramsFromFile },
} as const satisfies FamilyConfig

/** The Bitcoin fields of the stored `buy` policy. */
export const bitcoinBuyShape = buyShape(BITCOIN_BUY)
