/**
 * What a Bitcoin channel keeps besides the common fields (DESIGN §5): the `data` of its
 * {@link ChannelRecord}. Loaded by `status` and `list` (families/index.ts), so it imports
 * zod and the core only (no bitcoinjs-lib).
 */
import { z } from 'zod'
import { channelOf, type ChannelRecord } from '../../core/store/channels.js'

/** Hex text; its content is checked where it is decoded (a script or transaction that does not parse is refused there). */
const hex = z.string()

/** The `data` of a Bitcoin channel row (JSON). Hex strings; values in satoshis. */
export const BitcoinChannelDataSchema = z.object({
  /** The address the deposit pays (P2WSH, or P2SH, of the redeem script), in the network's encoding. */
  depositAddress: z.string().min(1),
  /** Unix seconds after which the payer can take the refund (the CLTV of the script's refund branch). */
  expiry: z.number().int().nonnegative(),
  /** The two1 redeem script. */
  redeemScript: hex,
  /** Index of the channel output in the deposit transaction. */
  depositVout: z.number().int().nonnegative(),
  /** The whole deposit transaction (needed to spend a P2SH deposit, and by the payee to check it). */
  depositTx: hex,
  /** Payer: the fully signed refund, kept before the deposit was broadcast. */
  refundTx: hex.optional(),
  /** P2SH (two1-compatible) rather than P2WSH. */
  p2sh: z.boolean(),
  /** Fee every payment leaves for the payee's close, satoshis (decimal string). */
  closeFee: z.string().regex(/^\d+$/, 'must be a decimal amount'),
  /**
   * The payee key's index on the merchant's BIP84 external chain (`m/84'/<coin>'/0'/0/<i>`):
   * the paywall offers a fresh child per channel (two1). Payee: the key that countersigns;
   * payer: echoed in the channel's payments. Absent = 0, the key's base channel key.
   */
  payeeIndex: z.number().int().nonnegative().optional(),
})

/** What a Bitcoin channel keeps besides the common fields. */
export type BitcoinChannelData = z.infer<typeof BitcoinChannelDataSchema>

/** A Bitcoin channel. */
export type BitcoinChannel = ChannelRecord<BitcoinChannelData>

/**
 * `c` as a Bitcoin channel, its `data` checked.
 * @throws {ChannelDataError} `c` is not a Bitcoin channel, or its data is damaged
 * @example bitcoinChannel(c).data.expiry // 1796617946
 */
export function bitcoinChannel(c: ChannelRecord): BitcoinChannel {
  return channelOf(c, 'bitcoin', BitcoinChannelDataSchema)
}

/**
 * The family's part of the x402 entry a payment is delivered under (`MerchantLink.deliver`):
 * the payee key index the channel pays, as `buy` names it in `accepted`.
 */
export function deliveryExtra(c: ChannelRecord): { payeeIndex: number } {
  return { payeeIndex: bitcoinChannel(c).data.payeeIndex ?? 0 }
}
