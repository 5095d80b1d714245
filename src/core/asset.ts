/**
 * What an amount counts: an {@link Asset}, named by its CAIP-19 id and carrying what
 * people need to read and write amounts of it (symbol, decimals, smaller display units,
 * the units accepted on input, the largest amount there can be). A chain family builds
 * the assets of its networks (`ChannelFamily.asset`, families/<kind>/asset.ts); the core
 * (units.ts: `formatAmount`, `parseAmount`) only reads them, so it knows no family.
 *
 * CAIP-19 (https://chainagnostic.org/CAIPs/caip-19): `<CAIP-2 chain id>/<asset namespace>:<asset reference>`,
 * e.g. `eip155:1/slip44:60` (ether), `eip155:8453/erc20:0x833589fcd6edb6e08f4c7c32d4f71b54bda02913`
 * (an ERC-20), `bip122:000000000019d6689c085ae165831e93/slip44:0` (bitcoin).
 */
import { UsageError } from './errors.js'

/**
 * A unit below an asset's own, for amounts too small to read well in the asset's unit:
 * an amount `v` with `0 < v < below` prints in it, unless it is also below the
 * threshold of a later (smaller) unit of {@link Asset.smaller}, listed largest first.
 * @example { unit: 'gwei', decimals: 9, below: 10n ** 14n } // 5×10^13 wei prints "50,000 gwei"
 */
export interface DisplayUnit {
  /** Printed after the number, as is (`gwei`, `wei`, `sat`). */
  unit: string
  /** Base units per unit, as a power of ten (9 for gwei, 0 for wei and sat). */
  decimals: number
  /** Amounts of at least this many base units print in a larger unit. */
  below: bigint
}

/**
 * What an amount counts, built by the asset's chain family. Amounts of it are `bigint`
 * base units everywhere in the core (wei, token base units, satoshis).
 *
 * An ERC-20 token whose symbol and decimals are not known has neither (`symbol` and
 * `decimals` absent together): its amounts print as base units of its address
 * (`1,000 units of 0x3f2a91…c0de`) and it accepts base units only.
 */
export interface Asset {
  /** CAIP-19 asset id, e.g. `eip155:31337/slip44:60`, `bip122:530827f38f93b43ed12af0b3ad25a288/slip44:2`. */
  readonly id: string
  /** The unit people count it in (`ETH`, `BTC`, `LTC`, `USDC`); absent for a token not known. */
  readonly symbol?: string
  /** Base units per `symbol`, as a power of ten (18 for ETH, 8 for BTC and LTC, 6 for USDC); absent with `symbol`. */
  readonly decimals?: number
  /** Smaller units for small amounts, largest first (ETH: gwei below 10^14 wei, wei below 10^9; BTC: sat below 10^6). */
  readonly smaller?: readonly DisplayUnit[]
  /**
   * Unit suffixes accepted on input (lowercase) with their decimals, besides plain base
   * units: ETH `wei gwei eth ether`, Bitcoin family `sat sats btc ltc`, a known token its symbol.
   */
  readonly units: Readonly<Record<string, number>>
  /** Where the units belong, for a refusal: "sat is not a unit of *this EVM network*". */
  readonly unitsOf: string
  /**
   * The largest amount there can be, base units, and how a refusal names it (Bitcoin
   * family: 2.1 × 10^15 sat, "21 million coins"). Every amount is also at most
   * 2^256 − 1, the largest the wire and the EVM contract carry.
   */
  readonly max?: { value: bigint; text: string }
}

/** The parts of a CAIP-19 asset id. */
export interface AssetIdParts {
  /** CAIP-2 chain id, e.g. `eip155:1`. */
  chainId: string
  /** Asset namespace, e.g. `slip44`, `erc20`. */
  namespace: string
  /** Asset reference, e.g. `60`, `0x833589fcd6edb6e08f4c7c32d4f71b54bda02913`. */
  reference: string
}

/**
 * CAIP-2 `namespace:reference` and CAIP-19's `/asset_namespace:asset_reference` (CAIP-19
 * §Syntax: namespaces `[-a-z0-9]{3,8}`, chain references `[-_a-zA-Z0-9]{1,32}`, asset
 * references `[-.%a-zA-Z0-9]{1,128}`; the optional `/token_id` is not used here).
 */
const CAIP19 = /^([-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32})\/([-a-z0-9]{3,8}):([-.%a-zA-Z0-9]{1,128})$/

/**
 * A CAIP-19 asset id from its parts.
 * @param chainId - CAIP-2 id of the chain (`eip155:1`, `bip122:…`)
 * @throws {UsageError} the result is not a CAIP-19 asset id
 * @example assetId('eip155:1', 'slip44', '60') // 'eip155:1/slip44:60'
 */
export function assetId(chainId: string, namespace: string, reference: string | number): string {
  const id = `${chainId}/${namespace}:${reference}`
  parseAssetId(id)
  return id
}

/**
 * The parts of a CAIP-19 asset id (`<chain id>/<namespace>:<reference>`).
 * @throws {UsageError} not a CAIP-19 asset id
 * @example parseAssetId('eip155:8453/erc20:0x8335…2913') // { chainId: 'eip155:8453', namespace: 'erc20', reference: '0x8335…2913' }
 */
export function parseAssetId(id: string): AssetIdParts {
  const m = CAIP19.exec(id)
  if (!m) throw new UsageError(`Invalid asset id "${id}": expected CAIP-19 <chain id>/<namespace>:<reference>, e.g. eip155:1/slip44:60.`)
  return { chainId: m[1], namespace: m[2], reference: m[3] }
}
