/**
 * The x402 `channel` scheme's shapes (DESIGN §6), shared by the transport that carries
 * them (transports/http402) and the families that fill them in (families/<kind>): one
 * `accepts` entry ({@link ChannelRequirement}) and one payment ({@link ChannelPayload}).
 * Amounts are decimal strings of base units; times are seconds.
 */
import type { Voucher } from '../channel/voucher.js'
import type { BitcoinVoucherWire, VoucherWire } from '../channel/voucher-wire.js'

export const SCHEME = 'channel'
/** Default path of the merchant's channel endpoint (voucher delivery, cooperative close). */
export const DEFAULT_ENDPOINT_PATH = '/.well-known/channels'

/** Bitcoin `open` payload: the deposit transaction (hex), its output index, and the channel's redeem script (hex). */
export interface BitcoinOpenWire {
  depositTx: string
  vout: number
  redeemScript: string
}

/** `extra` of a `channel` entry: EVM fields (`contract`, `minSettleDelay`) or Bitcoin ones (`minExpirySeconds`, `p2sh`). */
export interface ChannelExtra {
  /** EVM: PaymentChannels contract address. */
  contract?: string
  /** Smallest deposit the merchant accepts on a new channel, base units. */
  minDeposit: string
  /** EVM: smallest settle delay accepted, seconds. */
  minSettleDelay?: number
  /** Bitcoin: least time from now to a new channel's expiry, seconds. */
  minExpirySeconds?: number
  /** Bitcoin: the merchant stops accepting payments (and closes) this long before the expiry, seconds. */
  closeMargin?: number
  /** Bitcoin: whether the merchant asks for a P2SH deposit (two1); P2WSH otherwise (both are accepted). */
  p2sh?: boolean
  /**
   * Bitcoin: the index of `payTo` on the merchant's key chain (m/84'/<coin>'/0'/0/<i>), a fresh
   * key per channel; the payer echoes its channel's payTo and index. Absent = 0 (the base key).
   */
  payeeIndex?: number
  /** Merchant channel endpoint (absolute URL or path). */
  endpoint: string
  /** EVM: hubs that pay this merchant (issue 12, DESIGN §11): a buyer without a channel to `payTo` may pay through one. */
  hubs?: { endpoint: string; address: string }[]
  /** EVM: the merchant's secp256k1 public key (0x hex, compressed), to encrypt a routed payment's secret to. */
  payToPubkey?: string
  /** Corrective 402: the merchant's view of the channel named by the refused voucher. */
  channelState?: ChannelStateWire
}

/** The merchant's view of a channel, sent back in a corrective 402. */
export interface ChannelStateWire {
  channelId: string
  lane: string
  nonce: string
  amount: string
  charged: string
  /** The last voucher the merchant accepted on the lane, signed by the payer (Bitcoin: the half-signed payment). */
  voucher?: VoucherWire | BitcoinVoucherWire
}

/** One `accepts` entry of scheme `channel`. Amounts are decimal strings of base units. */
export interface ChannelRequirement {
  scheme: typeof SCHEME
  network: string
  amount: string
  asset: string
  payTo: string
  maxTimeoutSeconds: number
  extra: ChannelExtra
}

/** `payload` of a `PAYMENT-SIGNATURE` for scheme `channel`. */
export interface ChannelPayload {
  type: 'voucher' | 'open'
  channelId: string
  /** The voucher of the `accepted` entry's network's family: EVM, an EIP-712 voucher; Bitcoin, a payment (its half-signed transaction). */
  voucher: Voucher
  /** Bitcoin `open`: the deposit and script, so the merchant can check and later spend it. */
  open?: BitcoinOpenWire
}

/**
 * `payload` of a routed purchase (issue 12, DESIGN §11 "HTTP 402 through a hub"): the buyer
 * paid the merchant through a hub listed in `extra.hubs` and proves it with the payment's
 * secret; no channel of its own, no voucher. The merchant serves when it holds a voucher the
 * hub forwarded for `hash` worth at least the price, not used for a request yet.
 */
export interface RoutedPayload {
  type: 'routed'
  /** 0x + 64 hex (lower case): sha256 of the secret, the payment's id at the hub and the merchant. */
  hash: string
  /** 0x + 64 hex (lower case): the preimage of `hash`, the proof of payment. */
  secret: string
}

/** Any `payload` of scheme `channel`: a voucher on the buyer's channel to `payTo`, or the proof of a payment through a hub. */
export type PaymentPayload = ChannelPayload | RoutedPayload

/**
 * One `accepts` entry of x402's `exact` scheme (the x402 Foundation's one-off payment: the buyer signs a
 * transfer of exactly the price; EVM: EIP-3009) on an EVM network, as `@x402/evm`'s server scheme offers
 * it (hostile input until a family's {@link ExactPayer.check} passed it): `amount` base units of the
 * token `asset`, paid to `payTo`; the authorization is valid for `maxTimeoutSeconds` after signing.
 * `extra.name` / `extra.version` are the token's EIP-712 domain; `extra.assetTransferMethod` absent or
 * `eip3009` (x402's `permit2` is not paid here).
 */
export interface ExactRequirement {
  scheme: 'exact'
  network: string
  amount: string
  asset: string
  payTo: string
  maxTimeoutSeconds: number
  extra?: { name?: unknown; version?: unknown; assetTransferMethod?: unknown; [key: string]: unknown }
}

/** `payload` of a `PAYMENT-SIGNATURE` for scheme `exact` with EIP-3009: the authorization (decimal strings) and its signature (0x hex). */
export interface ExactPayload {
  authorization: { from: string; to: string; value: string; validAfter: string; validBefore: string; nonce: string }
  signature: string
}
