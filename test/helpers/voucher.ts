/**
 * Builds and signs PaymentChannels vouchers the way a payer's wallet does (EIP-712).
 */
import { Signature, ethers, type Signer, type TypedDataDomain } from 'ethers';

export interface Merge {
  lane: bigint;
  nonce: bigint;
}

export interface Voucher {
  channelId: string;
  lane: bigint;
  nonce: bigint;
  /** Cumulative amount of the lane, in base units (wei or token units). */
  amount: bigint;
  secretHash: string;
  timeLockMin: bigint;
  timeLockMax: bigint;
  minSettleAt: bigint;
  merges: Merge[];
}

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
};

/** secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The EIP-712 domain of a PaymentChannels deployment. */
export function domain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: 'PaymentChannels', version: '1', chainId, verifyingContract };
}

/** A voucher with zero locks and no merges, overridden by `fields`. */
export function voucher(fields: Partial<Voucher> & Pick<Voucher, 'channelId'>): Voucher {
  return {
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
