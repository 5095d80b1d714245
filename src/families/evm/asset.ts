/**
 * The assets of EVM networks: the native coin (counted in wei, shown as ETH, gwei or wei)
 * and ERC-20 tokens. Imported by the family registry (families/index.ts), which `status`
 * loads at start: it imports only core/asset.ts and core/units.ts (no ethers).
 */
import { assetId, type Asset } from '../../core/asset.js'
import { parseAmount } from '../../core/units.js'
import { UsageError } from '../../core/errors.js'

/** SLIP-44 coin type of ether (https://github.com/satoshilabs/slips/blob/master/slip-0044.md). */
export const ETH_COIN_TYPE = 60

/** The native coin's units on input: wei (base units), gwei (10^9 wei), eth and ether (10^18 wei). */
const ETH_UNITS = { wei: 0, gwei: 9, eth: 18, ether: 18 }

/**
 * Units below ETH: an amount below 10^14 wei (0.0001 ETH) prints in gwei, below 10^9 wei
 * (1 gwei) in wei, so a price reads `10 gwei`, not `0.00000001 ETH`.
 */
const ETH_SMALLER = [
  { unit: 'gwei', decimals: 9, below: 10n ** 14n },
  { unit: 'wei', decimals: 0, below: 10n ** 9n },
]

const ZERO_ADDRESS = /^0x0{40}$/i

/** What a refusal says EVM units belong to ("sat is not a unit of this EVM network"). */
const EVM_NETWORK = 'this EVM network'

/**
 * The native coin of an EVM chain: `<caip2>/slip44:60`, ETH with 18 decimals.
 *
 * The reference is ether's SLIP-44 coin type on every EVM chain, test chains included
 * (the chain id in the CAIP-2 part tells them apart, as in `eip155:11155111/slip44:60`
 * for Sepolia ether); SLIP-44's coin type 1 ("testnet, all coins") is for key
 * derivation paths and would lose which coin it is. Every EVM native coin prints as
 * ETH, as it always has here.
 * @param caip2 - the chain's CAIP-2 id, `eip155:<chain id>`
 * @example evmNativeAsset('eip155:31337').id // 'eip155:31337/slip44:60'
 */
export function evmNativeAsset(caip2: string): Asset {
  return { id: assetId(caip2, 'slip44', ETH_COIN_TYPE), symbol: 'ETH', decimals: 18, smaller: ETH_SMALLER, units: ETH_UNITS, unitsOf: EVM_NETWORK }
}

/**
 * An ERC-20 token: `<caip2>/erc20:<address>`. With its symbol and decimals (read from
 * the chain, or known for a stablecoin) it prints and parses in its unit (`1.5 USDC`,
 * `"1.5usdc"`); without them, as base units of its address (`1,000 units of 0x3f2a91…c0de`)
 * accepting base units only. No ceiling but 2^256 − 1 (the ERC-20 `uint256` balance).
 * @param address - the token's address as stored (EIP-55 case is kept in the id, as CAIP-10 writes eip155 addresses)
 * @throws {UsageError} `address` cannot be a CAIP-19 asset reference
 * @example erc20Asset('eip155:8453', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', { symbol: 'USDC', decimals: 6 }).id // 'eip155:8453/erc20:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'
 */
export function erc20Asset(caip2: string, address: string, known?: { symbol: string; decimals: number }): Asset {
  const id = assetId(caip2, 'erc20', address)
  if (!known) return { id, units: {}, unitsOf: `the token ${address}` }
  return { id, symbol: known.symbol, decimals: known.decimals, units: { [known.symbol.toLowerCase()]: known.decimals }, unitsOf: known.symbol }
}

/** A token a network's config names (`networks.<name>.assets.<asset>`, schema in ./config.ts). */
export interface EvmAsset {
  /** Display symbol, e.g. `USDC`. */
  symbol: string
  /** Token contract address. */
  address: string
  /** ERC-20 decimals: base units per whole token are 10^decimals. */
  decimals: number
}

/** An EVM network as far as its assets go: its CAIP-2 id and the named ERC-20 assets config gives it. */
export interface EvmAssetsOf {
  caip2: string
  /** `networks.<name>.assets`: named tokens, e.g. `{usdc: {symbol: 'USDC', address, decimals: 6}}`. */
  assets?: Record<string, EvmAsset>
}

/**
 * The asset of an amount on an EVM network: its native coin, or the ERC-20 token at
 * `address` (a channel's `asset`; the zero address, as the contract names the native
 * coin, or none means the native coin). A token the network's config names (its
 * `assets`, compared case-insensitively) gets its symbol and decimals, so it prints
 * `1.5 USDC`; another token prints in base units.
 * @param network - the network (its `caip2`, `eip155:<chain id>`, and its named `assets`)
 * @example evmAsset({ caip2: 'eip155:1' }).id // 'eip155:1/slip44:60'
 */
export function evmAsset(network: EvmAssetsOf, address?: string): Asset {
  if (address === undefined || ZERO_ADDRESS.test(address)) return evmNativeAsset(network.caip2)
  const named = Object.entries(network.assets ?? {}).find(([, a]) => a.address.toLowerCase() === address.toLowerCase())
  return named ? namedAsset(network.caip2, named[0], named[1], address) : erc20Asset(network.caip2, address)
}

/**
 * A token the network's config names: the ERC-20 asset with its symbol and decimals,
 * whose units are its name and its lower-case symbol (`usdc`). Undefined when the
 * network names no asset `name`.
 * @param name - the asset's name in `networks.<network>.assets`, any case
 * @example evmNamedAsset({ caip2: 'eip155:31337', assets: { usdc: { symbol: 'USDC', address: '0x…', decimals: 6 } } }, 'usdc')?.decimals // 6
 */
export function evmNamedAsset(network: EvmAssetsOf, name: string): { asset: Asset; address: string } | undefined {
  const key = name.toLowerCase()
  const a = Object.hasOwn(network.assets ?? {}, key) ? network.assets![key] : undefined
  return a ? { asset: namedAsset(network.caip2, key, a, a.address), address: a.address } : undefined
}

function namedAsset(caip2: string, name: string, a: EvmAsset, address: string): Asset {
  const asset = erc20Asset(caip2, address, { symbol: a.symbol, decimals: a.decimals })
  return { ...asset, units: { ...asset.units, [name]: a.decimals } }
}

/**
 * Parses an amount on an EVM network, in its native coin or in a token the network's
 * config names: `"0.01eth"`, `"10gwei"`, `"50"` (wei) count ether; `"0.001usdc"` on a
 * network whose `assets` name `usdc` (6 decimals) is 1000 base units of that token.
 * With `inAsset` (a `--asset` value, or a channel's `asset`) the amount must be in that
 * asset: its units, or base units. (Issue 13 §1: the devnet names its USD test token `usdc`.)
 * @param input - text as typed, e.g. a `--price`
 * @param what - the value's name in error messages
 * @param network - the network: its `caip2` and named `assets`
 * @param inAsset - the asset the amount counts: a named asset (`usdc`), a token address, or the zero address (ether)
 * @returns `value` in base units of `asset`; `token`: the token's address, undefined for the native coin
 * @throws {UsageError} as {@link parseAmount}: a malformed amount, a unit neither ether's nor a named asset's (nor
 *   `inAsset`'s), too many decimals; an `inAsset` that is neither a named asset nor an address
 * @example parseEvmAmount('0.001usdc', '--price', devnet) // {value: 1000n, asset: <USDC>, token: '0x…'}
 */
export function parseEvmAmount(input: string, what: string, network: EvmAssetsOf, inAsset?: string): { value: bigint; asset: Asset; token?: string } {
  if (inAsset !== undefined) {
    const { asset, token } = evmAssetNamed(network, inAsset)
    return { value: parseAmount(input, what, asset), asset, ...(token ? { token } : {}) }
  }
  const unit = /([a-z]+)\s*$/i.exec(input.trim())?.[1]
  const named = unit ? evmNamedAsset(network, unit) : undefined
  const asset = named?.asset ?? evmNativeAsset(network.caip2)
  return { value: parseAmount(input, what, asset), asset, ...(named ? { token: named.address } : {}) }
}

/**
 * The asset a `--asset` value names on an EVM network: a named asset of the network's config
 * (`usdc`, any case), `eth` or the zero address (the native coin), or a token address.
 * @returns the asset, and the token's address (undefined for the native coin)
 * @throws {UsageError} neither a named asset nor an address
 * @example evmAssetNamed(devnet, 'usdc').token // '0x…' (the devnet's USD test token)
 */
export function evmAssetNamed(network: EvmAssetsOf, nameOrAddress: string): { asset: Asset; token?: string } {
  const v = nameOrAddress.trim()
  if (/^(eth|ether)$/i.test(v) || ZERO_ADDRESS.test(v)) return { asset: evmNativeAsset(network.caip2) }
  const named = evmNamedAsset(network, v)
  if (named) return { asset: named.asset, token: named.address }
  if (/^0x[0-9a-fA-F]{40}$/.test(v)) return { asset: evmAsset(network, v), token: v }
  const names = Object.keys(network.assets ?? {})
  throw new UsageError(`Unknown asset "${nameOrAddress}": expected a token address${names.length ? `, ${names.join(', ')}` : ''} or eth.`, {
    metaMessages: ['Name a token in config (`networks.<network>.assets`, which `channels devnet` fills), or give its address.'],
  })
}
