/**
 * The asset of Bitcoin-family networks: the chain's coin, counted in satoshis, shown as
 * BTC or LTC (or sat for small amounts). Imported by the family registry
 * (families/index.ts), which `status` loads at start: it imports nothing but core
 * (no bitcoinjs-lib).
 */
import { assetId, type Asset } from '../../core/asset.js'
import { MAX_SATOSHIS, parseAmount } from '../../core/units.js'
import { UsageError } from '../../core/errors.js'

/**
 * Bech32 prefixes of Litecoin's chains (Litecoin Core chainparams `bech32_hrp`: main,
 * test, regtest): a Bitcoin-family network with one of them counts in LTC.
 */
export const LITECOIN_HRPS: ReadonlySet<string> = new Set(['ltc', 'tltc', 'rltc'])

/** SLIP-44 coin types (https://github.com/satoshilabs/slips/blob/master/slip-0044.md): 0 Bitcoin, 2 Litecoin. */
export const COIN_TYPES = { BTC: 0, LTC: 2 } as const

/**
 * Units on input, on every Bitcoin-family chain: sat and sats (base units), btc and ltc
 * (10^8 sat; either on either chain, as always).
 */
const UNITS = { sat: 0, sats: 0, btc: 8, ltc: 8 }

/** Below 10^6 sat (0.01 coin) an amount prints in sat: `546 sat`, not `0.00000546 BTC`. */
const SMALLER = [{ unit: 'sat', decimals: 0, below: 1_000_000n }]

/** No Bitcoin-family amount exceeds 21 million coins (consensus `MAX_MONEY`). */
const MAX = { value: MAX_SATOSHIS, text: '21 million coins' }

/**
 * The coin of a Bitcoin-family network: LTC on a chain with a Litecoin bech32 prefix
 * (`ltc`, `tltc`, `rltc`), BTC on any other; `<caip2>/slip44:<coin type>` with 8 decimals.
 *
 * The reference is the coin's SLIP-44 coin type on every chain of it, test chains
 * included (the genesis hash in the CAIP-2 part tells them apart, as in
 * `bip122:000000000933ea01ad0ee984209779ba/slip44:0` for testnet bitcoin); SLIP-44's coin
 * type 1 ("testnet, all coins") is for key derivation paths (config's `coinType`) and
 * would lose which coin it is.
 * @param network - the network's CAIP-2 id and address parameters (without them, BTC)
 * @param _address - a channel's `asset` ("sat"): ignored, a Bitcoin-family channel holds the chain's coin
 * @example bitcoinAsset({ caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', bitcoin: { bech32: 'rltc' } }).id // 'bip122:530827f38f93b43ed12af0b3ad25a288/slip44:2'
 */
export function bitcoinAsset(network: { caip2: string; bitcoin?: { bech32: string } }, _address?: string): Asset {
  const symbol = LITECOIN_HRPS.has(network.bitcoin?.bech32 ?? '') ? 'LTC' : 'BTC'
  return {
    id: assetId(network.caip2, 'slip44', COIN_TYPES[symbol]), symbol, decimals: 8, smaller: SMALLER, units: UNITS,
    unitsOf: 'this Bitcoin-family network', max: MAX,
  }
}

/**
 * Parses an amount typed on a Bitcoin-family network: satoshis (`"1000"`, `"1000sat"`) or
 * coins (`"0.001btc"`, `"0.001ltc"`). Its channels hold the chain's coin only, so an `asset`
 * other than the coin's (`sat`, `btc`, `ltc`) is refused.
 * @returns `value` in satoshis (never an `asset`: the native coin)
 * @throws {UsageError} a malformed amount, a unit not the coin's, more than 21 million coins, another `asset`
 */
export function parseBitcoinAmount(network: { caip2: string; bitcoin?: { bech32: string } }, input: string, what: string, asset?: string): { value: bigint } {
  if (asset !== undefined && !/^(sat|sats|btc|ltc)$/i.test(asset.trim())) {
    throw new UsageError(`Invalid --asset "${asset}": Bitcoin-family channels hold the chain's coin only; tokens are an EVM feature.`)
  }
  return { value: parseAmount(input, what, bitcoinAsset(network)) }
}
