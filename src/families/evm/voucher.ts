/**
 * EVM vouchers (DESIGN §4): the EIP-712 digest, signing with the payer's key, and
 * recovering the signer as the contract does (OpenZeppelin ECDSA).
 */
import type { BaseWallet } from 'ethers'
import type { EvmVoucher, UnsignedVoucher } from '../../core/channel/voucher.js'
import { UsageError } from '../../core/errors.js'
import { recoverDigestKey, recoverDigestSigner, signDigest, voucherDigestBytes } from './recover.js'

export { voucherDomain, VOUCHER_TYPES, voucherMessage } from './eip712.js'

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
 * the SQLite transaction that allocates the nonce. Signs with libsecp256k1 when its
 * binding loads (see `signDigest` in `recover.ts`), byte for byte the signature ethers'
 * `signer.signingKey.sign(digest)` makes.
 * @throws {UsageError} a field out of its Solidity type's range
 */
export function signVoucher(v: UnsignedVoucher, signer: BaseWallet, chainId: bigint, contract: string): EvmVoucher {
  const signature = signDigest(signer.signingKey.privateKey, voucherDigestBytes(v, chainId, contract))
  return { family: 'evm', ...v, signature }
}

/**
 * Recovers the signer of a voucher, refusing malformed, high-s and bad-v signatures
 * (the contract uses OpenZeppelin ECDSA, which refuses them too). Uses libsecp256k1
 * (native) when it loads, else ethers (`verifierBackend()` says which).
 * @returns the EIP-55 address of the signer
 * @throws {UsageError} malformed or malleable signature
 */
export function recoverVoucherSigner(v: EvmVoucher, chainId: bigint, contract: string): string {
  if (typeof v.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(v.signature)) throw new UsageError('Voucher signature must be 65 bytes of hex.')
  return recoverDigestSigner(voucherDigestBytes(v, chainId, contract), v.signature)
}


/**
 * What an Interledger claim carries beside a voucher (transports/btp/claim.ts, DESIGN §12):
 * the EIP-712 digest its signature signs, the uncompressed public key that signature recovers
 * to and that key's address, from one hash and one recovery (libsecp256k1 when it loads; the
 * claim receiver runs this on every claim, so not ethers' pure-JS `SigningKey.recoverPublicKey`,
 * ≈25× slower). Refuses what {@link recoverVoucherSigner} refuses.
 * @returns `digest` 0x + 64 hex; `publicKey` 0x04 + 128 lowercase hex (as ethers writes it); `signer` EIP-55
 * @throws {UsageError} malformed or malleable signature; a field out of its Solidity type's range
 * @example
 * voucherProof(v, 31337n, contract)
 * // { digest: '0x5c…', publicKey: '0x04ba…', signer: '0x7099…79C8' }
 */
export function voucherProof(v: EvmVoucher, chainId: bigint, contract: string): { digest: string; publicKey: string; signer: string } {
  const digest = voucherDigestBytes(v, chainId, contract)
  const { publicKey, signer } = recoverDigestKey(digest, v.signature)
  return { digest: '0x' + Buffer.from(digest).toString('hex'), publicKey: '0x04' + Buffer.from(publicKey).toString('hex'), signer }
}
