/**
 * `channels/bitcoin`: the Bitcoin family's own API — two1 CLTV channel scripts (P2WSH,
 * P2SH), deposit, refund and payment transactions, the payee's checks, Bitcoin Core RPC
 * and the channel manager. Family-independent pieces are in `channels`.
 */
export { BitcoinScheme, load } from './scheme.js'
export { bitcoinChannel, BitcoinChannelDataSchema, type BitcoinChannel, type BitcoinChannelData } from './channel.js'
export * from './errors.js'
export * from './networks.js'
export { buildRedeemScript, parseRedeemScript, depositOutput, keyOutputScript, LOCKTIME_THRESHOLD, type RedeemScriptParams, type DepositOutput, type KeyOutputType, type BytesLike } from './script.js'
export { dustThreshold, SEQUENCE_FINAL, SEQUENCE_LOCKTIME, type DepositOutpoint } from './spend.js'
export { buildRefundTransaction, buildPaymentTransaction, countersignPayment, type BuiltPayment } from './transactions.js'
export { verifyPaymentTransaction, DEFAULT_MIN_FEE_RATE, DEFAULT_MAX_FEE_RATE, type VerifyPaymentParams, type VerifiedPayment } from './verify.js'
export { ECPair as BitcoinECPair, BIP32 as BitcoinBIP32 } from './ecc.js'
export { buildDepositTransaction, type Utxo, type BuiltDeposit } from './deposit.js'
export { BitcoinRpc, BitcoinRpcError } from './rpc.js'
export { BitcoinBackend } from './backend.js'
export { BitcoinChannelManager, type BitcoinOpenRequest } from './manager.js'
export { acceptBitcoinPayment, checkBitcoinVoucher, syncBitcoinChannel, type BitcoinAcceptPolicy } from './inbound.js'
export { startBitcoinWatcher } from './watcher.js'
export { loadBitcoinSigner, bitcoinPath } from '../../core/keys/wallet.js'
export { bitcoinBuyer } from './buyer.js'
export { bitcoinAsset, LITECOIN_HRPS, COIN_TYPES } from './asset.js'
