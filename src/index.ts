/**
 * `channels` as a library (`import { … } from 'channels'`): the family-independent façade —
 * errors, amounts, config, the store, the channel state machine, the scheme interfaces a
 * family implements and the registry of families, vouchers, keys, and the x402 transport.
 * A family's own API is a subpath: `channels/evm` (contract, EIP-712 vouchers, manager),
 * `channels/bitcoin` (two1 CLTV scripts, transactions, manager); local nodes are
 * `channels/devnet`.
 */
export * from './core/errors.js'
export * from './core/units.js'
export * from './core/asset.js'
export { Config, walletHome, BUILTIN_NETWORKS, type NetworkConfig, type WalletConfig, type KeyRecord } from './core/config.js'
export { Store, type ChannelRecord, type VoucherRecord } from './core/store/index.js'
export { transition, CHANNEL_STATES, IllegalTransitionError, type ChannelState, type ChannelEvent } from './core/channel/state.js'
export { ChannelReader, type ChannelStatus } from './core/channel/reader.js'
export type * from './core/scheme/index.js'
export { toJson } from './core/scheme/index.js'
export * from './core/scheme/x402.js'
export { families } from './families/index.js'
export { VoucherRefusedError, refundCharge, type VoucherCheck } from './core/channel/accept.js'
export * from './core/channel/voucher.js'
export * from './core/channel/voucher-wire.js'
export { createKey, listKeys, keyInfo } from './core/keys/wallet.js'
export {
  encodePaymentRequired, decodePaymentRequired, encodePaymentSignature, decodePaymentSignature,
  encodePaymentResponse, decodePaymentResponse, closeRequestMessage, PaymentHeaderError, HEADER, X402_VERSION, MAX_SIGNATURE_HEADER,
  type PaymentRequired, type PaymentResponse, type ChannelReceipt, type RoutedReceipt,
} from './core/transports/http402/protocol.js'
export { buy, type BuyOptions, type BuyResult } from './core/transports/http402/client.js'
export type { X402Payer, BuyerOptions, RoutedPayer } from './core/scheme/buyer.js'
export { startPaywall, type PaywallOptions, type Paywall } from './core/transports/http402/server.js'
export type { X402Payee, SellerPolicy, SignerDomain, CloseAnswer, Recovered } from './core/scheme/seller.js'
export { checkPaymentHeader, startHeaderVerifier, type HeaderCheck, type HeaderVerifier } from './core/transports/http402/verify-pool.js'
export { deliverVoucher, describeHubs, httpMerchant } from './core/transports/http402/merchant.js'
export { PaymentChannelManager, type ManagerOptions, type ManagerStatus, type VoucherCreateResult } from './manager/index.js'
