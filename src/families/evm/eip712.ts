/**
 * A voucher's EIP-712 form (DESIGN §4): the PaymentChannels domain, the typed-data
 * types, and the message, which is also the contract's `Voucher` struct. The hot-path
 * digest is hashed by hand in `channel/recover.ts`, from the same definitions.
 */
import type { UnsignedVoucher } from './chain.js'

/** EIP-712 domain of the PaymentChannels contract. */
export function voucherDomain(chainId: bigint, contract: string) {
  return { name: 'PaymentChannels', version: '1', chainId, verifyingContract: contract }
}

/** EIP-712 types (DESIGN §4). */
export const VOUCHER_TYPES = {
  Voucher: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'lane', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
    { name: 'amount', type: 'uint256' },
    { name: 'secretHash', type: 'bytes32' },
    { name: 'timeLockMin', type: 'uint64' },
    { name: 'timeLockMax', type: 'uint64' },
    { name: 'minSettleAt', type: 'uint64' },
    { name: 'merges', type: 'Merge[]' },
  ],
  Merge: [
    { name: 'lane', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
}

/** A voucher without its signature, as EIP-712 `message` and as the contract's `Voucher` struct. */
export function voucherMessage(v: UnsignedVoucher) {
  return {
    channelId: v.channelId,
    lane: v.lane,
    nonce: v.nonce,
    amount: v.amount,
    secretHash: v.secretHash,
    timeLockMin: v.timeLockMin,
    timeLockMax: v.timeLockMax,
    minSettleAt: v.minSettleAt,
    merges: v.merges.map((m) => ({ lane: m.lane, nonce: m.nonce })),
  }
}
