/**
 * What an EVM channel keeps besides the common fields (DESIGN §4): the `data` of its
 * {@link ChannelRecord}. Loaded by `status` and `list` (families/index.ts), so it imports
 * zod and the core only (no ethers).
 */
import { z } from 'zod'
import { channelOf, type ChannelRecord } from '../../core/store/channels.js'

/** The `data` of an EVM channel row (JSON). */
export const EvmChannelDataSchema = z.object({
  /** The PaymentChannels contract holding the channel (EIP-55 address). */
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address'),
  /** Seconds between `settle` and `collect`, as opened on chain. */
  settleDelay: z.number().int().nonnegative(),
  /** Payer: the bytes32 salt the channel was opened with (its id derives from it); absent on inbound channels. */
  salt: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be bytes32 hex').optional(),
})

/** What an EVM channel keeps besides the common fields. */
export type EvmChannelData = z.infer<typeof EvmChannelDataSchema>

/** An EVM channel. */
export type EvmChannel = ChannelRecord<EvmChannelData>

/**
 * `c` as an EVM channel, its `data` checked.
 * @throws {ChannelDataError} `c` is not an EVM channel, or its data is damaged
 * @example evmChannel(c).data.contract // '0x65F6…7003'
 */
export function evmChannel(c: ChannelRecord): EvmChannel {
  return channelOf(c, 'evm', EvmChannelDataSchema)
}

/**
 * The family's part of the x402 entry a voucher is delivered under (`MerchantLink.deliver`):
 * the channel's contract; a delivered voucher opens nothing, so no minimums.
 */
export function deliveryExtra(c: ChannelRecord): { contract: string; minSettleDelay: number } {
  return { contract: evmChannel(c).data.contract, minSettleDelay: 0 }
}
