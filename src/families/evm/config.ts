/**
 * The EVM family's part of config.json: the schema of its `networks` entries and its
 * settings of the `buy` policy. Loaded by every command (config.json is read by each), so
 * it imports zod and nothing of the family's chain code (no ethers).
 */
import { z } from 'zod'
import { baseUnitsField, buyShape, rpcUrlField, secondsField, type FamilyConfig } from '../../core/config-fields.js'
import { evmNativeAsset } from './asset.js'

/** CAIP-2 ids of EVM chains: `eip155:<chain id>`. */
export const EVM_CAIP2 = /^eip155:[1-9]\d{0,19}$/

/** A named ERC-20 asset of a network: `{symbol, address, decimals}` (the type: `EvmAsset` in ./asset.ts). */
export const EvmAssetSchema = z.object({
  /** Display symbol, e.g. `USDC`. */
  symbol: z.string().min(1).max(16),
  /** Token contract address. */
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address: 0x and 40 hex digits'),
  /** ERC-20 `decimals()`: base units per whole token are 10^decimals. */
  decimals: z.number().int().min(0).max(36),
}).strict()


/** A `networks.<name>` entry of kind `evm` (the PaymentChannels contract on an EVM chain). */
export const EvmNetworkSchema = z.object({
  kind: z.literal('evm'),
  /** CAIP-2 id, e.g. `eip155:31337`. */
  caip2: z.string().regex(EVM_CAIP2, 'must be eip155:<chain id>'),
  /** JSON-RPC URL of a node. */
  rpcUrl: rpcUrlField,
  /** Address of the PaymentChannels contract; default: the deterministic CREATE2 address. */
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address: 0x and 40 hex digits').optional(),
  /**
   * Named ERC-20 assets of this network, by lower-case name (e.g. `usdc`), so amounts like
   * `0.001usdc` can name them; `channels devnet` records its USD test token here (issue 13 §1).
   */
  assets: z.record(z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'asset names are 1–16 lower-case letters or digits, starting with a letter'), EvmAssetSchema).optional(),
})

/** A configured EVM network. */
export type EvmNetworkConfig = z.infer<typeof EvmNetworkSchema>

/**
 * The EVM settings of `buy`. Their names are those config.json has always stored (no
 * prefix: EVM was the first family). Amounts are in wei.
 */
export const EVM_BUY = {
  /**
   * Deposit of a channel opened by `buy`, in base units (wei). Unset (the default): the
   * deposit pays `depositRequests` requests at the 402's price, or the merchant's
   * `minDeposit` if that is more. (Wallets made before it was optional store 0.1 ETH here;
   * `config set buy.deposit auto` unsets it.)
   */
  deposit: {
    schema: baseUnitsField.optional(), input: 'amount', auto: true,
    describe: 'EVM networks: deposit of channels opened by buy (e.g. 0.01eth; auto: buy.depositRequests × the price)',
  },
  /** Highest price `buy` pays for one request without `--max-price`, in base units (wei). */
  maxPrice: { schema: baseUnitsField.default('10000000000000'), input: 'amount', describe: 'EVM networks: highest price buy pays without --max-price (e.g. 10gwei)' },
  /**
   * Highest hub fee `buy` pays for a purchase through a hub without `--max-fee`, in base units (wei). Unset (the
   * default): 5 % of the price (core/channel/lock.ts `defaultMaxFee`).
   */
  maxFee: {
    schema: baseUnitsField.optional(), input: 'amount', auto: true,
    describe: 'EVM networks: highest hub fee buy pays through a hub without --max-fee (e.g. 1gwei; auto: 5 % of the price)',
  },
  /** Settlement delay of channels opened by `buy`, in seconds. */
  settleDelay: { schema: secondsField(1).default(86400), input: 'seconds', describe: 'settle delay of channels opened by buy, seconds' },
} as const

/** The EVM family's config: networks of kind `evm` and its `buy` settings. */
export const evmConfig = {
  kind: 'evm',
  caip2: EVM_CAIP2,
  caip2Hint: 'eip155:<chain id>',
  network: EvmNetworkSchema,
  buy: EVM_BUY,
  /** Amount settings are in wei, read and shown as ether's (`0.01eth`, `10 gwei`). */
  settingsAsset: evmNativeAsset('eip155:1'),
} as const satisfies FamilyConfig

/** The EVM fields of the stored `buy` policy. */
export const evmBuyShape = buyShape(EVM_BUY)
