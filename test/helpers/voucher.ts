/**
 * Builds and signs PaymentChannels vouchers the way a payer's wallet does (EIP-712).
 */
import { Signature, ethers, type Signer, type TypedDataDomain } from 'ethers';

// The voucher model and its EIP-712 types are the wallet's own (src/core/channel/voucher.ts);
// test/unit/voucher.test.ts ties that encoding to the contract's `voucherDigest`.
import type { EvmVoucher, Merge } from '../../src/core/channel/voucher.js';
import { VOUCHER_TYPES, voucherDomain } from '../../src/families/evm/voucher.js';
export { VOUCHER_TYPES };
export type { Merge };
/**
 * An EVM voucher before its signature, tagged `family: 'evm'` as the wallet's are: the tag
 * rides along into ethers' EIP-712 encoder and the contract's struct encoder, which both
 * take only the typed fields, so what the contract recovers shows it changes nothing.
 */
export type Voucher = Omit<EvmVoucher, 'signature'>;

/** secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The EIP-712 domain of a PaymentChannels deployment. */
export function domain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return voucherDomain(BigInt(chainId), verifyingContract);
}

/** A voucher with zero locks and no merges, overridden by `fields`. */
export function voucher(fields: Partial<Voucher> & Pick<Voucher, 'channelId'>): Voucher {
  return {
    family: 'evm',
    lane: 0n,
    nonce: 1n,
    amount: 0n,
    secretHash: ethers.ZeroHash,
    timeLockMin: 0n,
    timeLockMax: 0n,
    minSettleAt: 0n,
    merges: [],
    ...fields,
  };
}

/** The payer's 65-byte signature (r ‖ s ‖ v) over `v`. */
export async function sign(payer: Signer, dom: TypedDataDomain, v: Voucher): Promise<string> {
  return payer.signTypedData(dom, VOUCHER_TYPES, v);
}

/** The malleable twin of a signature: s' = n - s with v flipped; recovers the same signer. */
export function highS(signature: string): string {
  const sig = Signature.from(signature);
  const s = N - BigInt(sig.s);
  const v = sig.v === 27 ? 28 : 27;
  return ethers.concat([sig.r, ethers.toBeHex(s, 32), ethers.toBeHex(v, 1)]);
}

/** channelId as the contract computes it. */
export function channelId(chainId: bigint | number, contract: string, payer: string, payee: string, token: string, salt: string): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ['uint256', 'address', 'address', 'address', 'address', 'bytes32'],
      [chainId, contract, payer, payee, token, salt],
    ),
  );
}
