/**
 * `channels/evm`: the EVM family's own API — the PaymentChannels contract (build,
 * CREATE2 address, deployment), EIP-712 vouchers (DESIGN §4), the chain backend and the
 * channel manager. Family-independent pieces are in `channels`.
 */
export { EvmScheme, load } from './scheme.js'
export { ChannelManager, type OpenRequest } from './manager.js'
export { evmChannel, EvmChannelDataSchema, type EvmChannel, type EvmChannelData } from './channel.js'
export type { ChainBackend, OnChainChannel, TxResult, OpenParams } from './chain.js'
export { EvmBackend, ContractMismatchError } from './backend.js'
export { contractAddress, deployPaymentChannels, CREATE2_PROXY } from './deploy.js'
export { voucherDomain, VOUCHER_TYPES, voucherMessage, voucherDigest, signVoucher, recoverVoucherSigner } from './voucher.js'
export { verifierBackend } from './recover.js'
export { acceptVoucher, learnChannel, type AcceptPolicy } from './inbound.js'
export { checkVoucher, addVoucher, submitVouchers, fundChannel, type SubmitResult } from './operations.js'
export { closeChannel, type CloseOutcome } from './cooperative.js'
export { syncChannel, refreshChannel } from './sync.js'
export { startSettler } from './watcher.js'
export { startRedeemer, redeemRound, type RedeemerOptions, type RedeemCandidate, type RoundEvent } from './redeemer.js'
export { loadEvmSigner } from '../../core/keys/wallet.js'
export { evmBuyer } from './buyer.js'
export { evmAsset, evmNativeAsset, erc20Asset, ETH_COIN_TYPE } from './asset.js'
export { reserveWithTopUp, releaseReserved, advanceDeposit, sendQueued, type ReserveReport, type DepositAdvance } from './deposits.js'
export {
  reserveFunds, releaseFunds, claimQueued, settleDeposit, allocateLane, lookupChannel, fundsOf, fundsNeed, availableFunds, voucherFunds,
  type Funds, type ReserveOutcome, type TopUpPolicy, type ClaimedDeposit, type SignedDeposit, type DepositOutcome, type PayableChannel,
} from '../../core/channel/funds.js'
// Hash locks' secrets (DESIGN §11): EVM vouchers are the ones with hash locks.
export { drawSecret, secretHashOf, encryptSecret, decryptSecret, type HashLock } from '../../core/channel/secret.js'
// Payments through a hub (issue 12, DESIGN §11).
export { payThroughHub, unlockAtHub, syncRoutedPayments, expireLocks, EvmHub, acceptForward, acceptRouted, checkPayeeKey, hubInfo, lockNow } from './locks.js'
