/**
 * The assets of EVM networks: the native coin (counted in wei, shown as ETH, gwei or wei)
 * and ERC-20 tokens. Imported by the family registry (families/index.ts), which `status`
 * loads at start: it imports nothing but core/asset.ts (no ethers).
 */
import { assetId, type Asset } from '../../core/asset.js'

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

/**
 * The asset of an amount on an EVM network: its native coin, or the ERC-20 token at
 * `address` (a channel's `asset`; the zero address, as the contract names the native
 * coin, or none means the native coin).
 * @param network - the network (its `caip2`, `eip155:<chain id>`)
 * @example evmAsset({ caip2: 'eip155:1' }).id // 'eip155:1/slip44:60'
 */
export function evmAsset(network: { caip2: string }, address?: string): Asset {
  return address === undefined || ZERO_ADDRESS.test(address) ? evmNativeAsset(network.caip2) : erc20Asset(network.caip2, address)
}
