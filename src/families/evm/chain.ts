/**
 * The EVM manager's view of its chain (Lotus `ManagerNodeAPI`): only what the manager
 * needs of the PaymentChannels contract; `backend.ts` implements it over ethers.
 */
import type { BaseWallet } from 'ethers'
import type { EvmVoucher } from '../../core/channel/voucher.js'

export type { Merge, EvmVoucher, UnsignedVoucher } from '../../core/channel/voucher.js'

/** A channel as the chain holds it. Amounts in base units, times in unix seconds. */
export interface OnChainChannel {
  payer: string
  payee: string
  asset: string
  deposit: bigint
  redeemed: bigint
  settleDelay: number
  /** 0 while open. */
  settleAt: number
  minSettleAt: number
}

/** A mined transaction's essentials. */
export interface TxResult {
  hash: string
  /** Gas used × effective gas price, in wei. */
  fee: bigint
  gasUsed: bigint
}

export interface OpenParams {
  payee: string
  /** Token address; zero address = native currency. */
  asset: string
  /** Deposit in base units. */
  amount: bigint
  /** Seconds. */
  settleDelay: number
  /** bytes32 hex. */
  salt: string
}

export interface ChainBackend {
  /** CAIP-2 id of the chain. */
  readonly caip2: string
  /** Address of the channel contract. */
  readonly contract: string
  /** Chain id as EIP-712 wants it. */
  readonly chainId: bigint
  /** @throws {NetworkError} unreachable node or a node for another chain */
  checkNetwork(): Promise<void>
  /** @throws {ChannelsError} when the contract's code is not the build we ship */
  verifyContract(): Promise<void>
  /** Balance of `address`: wei, or base units of the ERC-20 token `asset` (its `balanceOf`; default the zero address: ether). */
  balance(address: string, asset?: string): Promise<bigint>
  /** Unix seconds of the latest block. */
  now(): Promise<number>
  channelIdOf(payer: string, p: OpenParams): string
  getChannel(channelId: string): Promise<OnChainChannel | undefined>
  open(signer: BaseWallet, p: OpenParams, onSent?: (hash: string) => void): Promise<TxResult>
  /** Payer: add `amount` base units to a channel. */
  deposit(signer: BaseWallet, channelId: string, asset: string, amount: bigint, onSent?: (hash: string) => void): Promise<TxResult>
  /** A lane's state on chain (Filecoin `LaneState`): highest redeemed nonce and amount. */
  getLane(channelId: string, lane: bigint): Promise<{ nonce: bigint; redeemed: bigint }>
  settle(signer: BaseWallet, channelId: string): Promise<TxResult>
  collect(signer: BaseWallet, channelId: string): Promise<TxResult>
  /** Payee: redeem `voucher` and collect in one transaction. */
  close(signer: BaseWallet, voucher: EvmVoucher, secret?: string): Promise<TxResult>
  /** Amounts a closing transaction paid out (its `ChannelCollected` event), if it holds one for `channelId`. */
  collectedBy(txHash: string, channelId: string): Promise<{ paidToPayee: bigint; refundedToPayer: bigint } | undefined>
  /** Whether a transaction was mined successfully, reverted, or is unknown to the node. */
  transactionStatus(hash: string): Promise<'mined' | 'failed' | 'unknown'>
  /** Payee: redeem without closing. */
  update(signer: BaseWallet, voucher: EvmVoucher, secret?: string): Promise<TxResult>
  /**
   * Payee: `updateMany` — redeems several vouchers (of any channels, lanes in order) in one
   * transaction; all or none.
   * @param secrets - one hex preimage per voucher ('0x' without a hash lock); default all '0x'
   */
  updateMany(signer: BaseWallet, vouchers: EvmVoucher[], secrets?: readonly (string | undefined)[]): Promise<TxResult>
  /**
   * Payee: `closeMany` — redeems one voucher per channel and collects each channel, in one
   * transaction; all or none.
   * @param secrets - one hex preimage per voucher; default all '0x'
   */
  closeMany(signer: BaseWallet, vouchers: EvmVoucher[], secrets?: readonly (string | undefined)[]): Promise<TxResult>
  /**
   * Gas that a redeeming call from `from` would use if sent now (`eth_estimateGas`).
   * @throws {ChannelStateError} the call would revert (the contract's error named)
   */
  estimateRedeemGas(from: string, call: RedeemCall, vouchers: EvmVoucher[], secrets?: readonly (string | undefined)[]): Promise<bigint>
  /** Fee per gas a transaction sent now offers, in wei: EIP-1559 `maxFeePerGas`, else the legacy gas price. */
  feePerGas(): Promise<bigint>
  /**
   * What a mined transaction did to channels, from its events (empty when it is unknown or
   * reverted): each `ChannelCollected` by channel id, and the channel's redeemed total after
   * its last `ChannelUpdated`, base units.
   */
  redeemedIn(txHash: string): Promise<TxRedemptions>
}

/** The channel events of one transaction ({@link ChainBackend.redeemedIn}). Amounts in base units. */
export interface TxRedemptions {
  collected: Map<string, { paidToPayee: bigint; refundedToPayer: bigint }>
  /** The channel's redeemed total after the transaction's last `ChannelUpdated` of it. */
  updated: Map<string, bigint>
}

/** The contract's redeeming functions: `update`/`close` take one voucher, the batch ones any number. */
export type RedeemCall = 'update' | 'close' | 'updateMany' | 'closeMany'
