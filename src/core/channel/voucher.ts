/**
 * Vouchers (DESIGN §3): signing, recovering, wire forms. The model's types are declared
 * in `chains/backend.ts` and the EIP-712 form (DESIGN §4) in `chains/evm/eip712.ts`,
 * below the channel layer; both are re-exported here.
 *
 * `amount` is cumulative per lane; `nonce` strictly increases per lane. A voucher is
 * worth `amount − previous amount on its lane − amounts of merged lanes` (Filecoin
 * paych `UpdateChannelState`). On the wire every integer is a decimal string.
 */
import type { BaseWallet } from 'ethers'
import type { UnsignedVoucher, Voucher } from '../../families/evm/chain.js'
import { UsageError } from '../errors.js'
import { recoverDigestSigner, voucherDigestBytes } from '../../families/evm/recover.js'

// The voucher model lives with the chain seam it crosses (chains/backend.ts), below both
// this module and recover.ts; re-exported here so importers keep one place to look.
export type { Merge, Voucher, UnsignedVoucher } from '../../families/evm/chain.js'

export const ZERO_HASH = '0x' + '0'.repeat(64)
export const UINT64_MAX = (1n << 64n) - 1n
/** Nonces and lanes are stored in SQLite INTEGER columns: keep them below 2^63. */
export const INDEX_MAX = (1n << 63n) - 1n

/**
 * What a channel owes its payee: the sum of the latest voucher amount of every lane,
 * optionally leaving one lane out (to add a new voucher for it). Base units.
 * @param latest - the latest voucher of each lane (`VoucherRepository.latestPerLane`)
 */
export function spentAcrossLanes(latest: readonly { lane: bigint; amount: bigint }[], exceptLane?: bigint): bigint {
  let sum = 0n
  for (const v of latest) if (v.lane !== exceptLane) sum += v.amount
  return sum
}

export { voucherDomain, VOUCHER_TYPES, voucherMessage } from '../../families/evm/eip712.js'

/**
 * EIP-712 digest of a voucher (what the contract's `voucherDigest` returns), hashed
 * from precomputed type hashes and a cached domain separator (see `recover.ts`); equal
 * to ethers' `TypedDataEncoder.hash(voucherDomain(…), VOUCHER_TYPES, voucherMessage(v))`.
 * @returns 0x-prefixed 32-byte hex
 * @throws {UsageError} a field out of its Solidity type's range
 */
export function voucherDigest(v: UnsignedVoucher, chainId: bigint, contract: string): string {
  return '0x' + Buffer.from(voucherDigestBytes(v, chainId, contract)).toString('hex')
}

/**
 * Signs a voucher with the payer's key (EIP-712), synchronously so it can run inside
 * the SQLite transaction that allocates the nonce.
 */
export function signVoucher(v: UnsignedVoucher, signer: BaseWallet, chainId: bigint, contract: string): Voucher {
  const signature = signer.signingKey.sign(voucherDigest(v, chainId, contract)).serialized
  return { ...v, signature }
}

/**
 * Recovers the signer of a voucher, refusing malformed, high-s and bad-v signatures
 * (the contract uses OpenZeppelin ECDSA, which refuses them too). Uses libsecp256k1
 * (native) when it loads, else ethers (`verifierBackend()` says which).
 * @returns the EIP-55 address of the signer
 * @throws {UsageError} malformed or malleable signature
 */
export function recoverVoucherSigner(v: Voucher, chainId: bigint, contract: string): string {
  if (typeof v.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(v.signature)) throw new UsageError('Voucher signature must be 65 bytes of hex.')
  return recoverDigestSigner(voucherDigestBytes(v, chainId, contract), v.signature)
}

/** Whether a voucher is a Bitcoin payment (its `signature` holds the payment transaction, not an EIP-712 signature). */
export const isBitcoinVoucher = (v: Pick<Voucher, 'signature'>): boolean => !v.signature.startsWith('0x')

/** A Bitcoin payment as a voucher (DESIGN §5): lane 0, plain, the half-signed payment transaction in `signature`. */
export function bitcoinVoucher(channelId: string, nonce: bigint, amount: bigint, paymentTx: string): Voucher {
  return { channelId, lane: 0n, nonce, amount, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], signature: paymentTx }
}

/**
 * A Bitcoin payment's wire form: lane 0, the payer's nonce, the payee amount (satoshis), the
 * half-signed transaction (hex); `BitcoinVoucherWire` in voucher-wire.ts, the type of what
 * its schema reads, checks that the two agree.
 */
export function bitcoinVoucherToWire(v: Voucher) {
  return { channelId: v.channelId, lane: '0' as const, nonce: v.nonce.toString(), amount: v.amount.toString(), paymentTx: v.signature }
}


/** The wire form of either kind of voucher (what `--json` and tokens carry). */
export function anyVoucherToWire(v: Voucher) {
  return isBitcoinVoucher(v) ? bitcoinVoucherToWire(v) : voucherToWire(v)
}

/**
 * Converts a voucher to its wire form (decimal strings): `VoucherWire` in voucher-wire.ts,
 * the type of what `VoucherWireSchema` reads, which checks that the two agree. (Its type
 * stays inferred here so that this module, which `status` loads, never imports zod's.)
 */
export function voucherToWire(v: Voucher) {
  return {
    channelId: v.channelId,
    lane: v.lane.toString(),
    nonce: v.nonce.toString(),
    amount: v.amount.toString(),
    secretHash: v.secretHash,
    timeLockMin: v.timeLockMin.toString(),
    timeLockMax: v.timeLockMax.toString(),
    minSettleAt: v.minSettleAt.toString(),
    merges: v.merges.map((m) => ({ lane: m.lane.toString(), nonce: m.nonce.toString() })),
    signature: v.signature,
  }
}


/** Encodes a voucher (EVM or Bitcoin) as one base64url token (for `channels pay` output and the CLI). */
export function encodeVoucher(v: Voucher): string {
  return Buffer.from(JSON.stringify(anyVoucherToWire(v))).toString('base64url')
}

