/**
 * The voucher model (DESIGN §3) and its EIP-712 form (DESIGN §4).
 *
 * `amount` is cumulative per lane; `nonce` strictly increases per lane. A voucher is
 * worth `amount − previous amount on its lane − amounts of merged lanes` (Filecoin
 * paych `UpdateChannelState`). On the wire every integer is a decimal string.
 */
import { z } from 'zod'
import type { HDNodeWallet } from 'ethers'
import { UsageError } from '../errors.js'
import { parseBaseUnits } from '../units.js'
import { recoverDigestSigner, voucherDigestBytes } from './recover.js'

export interface Merge {
  lane: bigint
  nonce: bigint
}

export interface Voucher {
  /** bytes32 hex. */
  channelId: string
  lane: bigint
  nonce: bigint
  /** Cumulative amount on this lane, in base units (wei). */
  amount: bigint
  /** bytes32 hex; zero hash = no hash lock. sha256(secret) must equal it. */
  secretHash: string
  /** Unix seconds; 0 = none. */
  timeLockMin: bigint
  /** Unix seconds; 0 = none. */
  timeLockMax: bigint
  /** Unix seconds; 0 = none. */
  minSettleAt: bigint
  merges: Merge[]
  /** 65-byte r‖s‖v hex, signed by the payer. */
  signature: string
}

export type UnsignedVoucher = Omit<Voucher, 'signature'>

export const ZERO_HASH = '0x' + '0'.repeat(64)
const UINT64_MAX = (1n << 64n) - 1n
/** Nonces and lanes are stored in SQLite INTEGER columns: keep them below 2^63. */
const INDEX_MAX = (1n << 63n) - 1n

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
export function signVoucher(v: UnsignedVoucher, signer: HDNodeWallet, chainId: bigint, contract: string): Voucher {
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

const uintString = (max: bigint, what: string) =>
  z.string().max(78).transform((s, ctx) => {
    try {
      const n = parseBaseUnits(s, what)
      if (n > max) throw new UsageError(`${what} ${s} is too large (max ${max})`)
      return n
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message })
      return z.NEVER
    }
  })
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x and 64 hex digits').transform((s) => s.toLowerCase())

/** Wire form of a voucher: integers as decimal strings. */
export const VoucherWireSchema = z
  .object({
    channelId: bytes32,
    lane: uintString(INDEX_MAX, 'lane'),
    nonce: uintString(INDEX_MAX, 'nonce'),
    amount: uintString((1n << 256n) - 1n, 'amount'),
    secretHash: bytes32.default(ZERO_HASH),
    timeLockMin: uintString(UINT64_MAX, 'timeLockMin').default('0'),
    timeLockMax: uintString(UINT64_MAX, 'timeLockMax').default('0'),
    minSettleAt: uintString(UINT64_MAX, 'minSettleAt').default('0'),
    merges: z.array(z.object({ lane: uintString(INDEX_MAX, 'merge lane'), nonce: uintString(INDEX_MAX, 'merge nonce') }).strict()).max(16).default([]),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'expected a 65-byte hex signature'),
  })
  .strict()

export type VoucherWire = z.input<typeof VoucherWireSchema>

/**
 * Wire form of a Bitcoin payment (DESIGN §6: "Bitcoin `voucher` carries the half-signed
 * payment transaction hex"): lane 0, the payer's nonce, the payee amount in satoshis.
 */
export const BitcoinVoucherWireSchema = z
  .object({
    channelId: bytes32,
    lane: z.literal('0').default('0'),
    nonce: uintString(INDEX_MAX, 'nonce'),
    amount: uintString(2_100_000_000_000_000n, 'amount'),
    paymentTx: z.string().max(8000).regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected transaction hex').transform((s) => s.toLowerCase()),
  })
  .strict()

export type BitcoinVoucherWire = z.input<typeof BitcoinVoucherWireSchema>

/** Whether a voucher is a Bitcoin payment (its `signature` holds the payment transaction, not an EIP-712 signature). */
export const isBitcoinVoucher = (v: Pick<Voucher, 'signature'>): boolean => !v.signature.startsWith('0x')

/** A Bitcoin payment's wire form. */
export function bitcoinVoucherToWire(v: Voucher): BitcoinVoucherWire {
  return { channelId: v.channelId, lane: '0', nonce: v.nonce.toString(), amount: v.amount.toString(), paymentTx: v.signature }
}

/** Parses a Bitcoin payment's wire form. @throws {UsageError} naming the first bad field */
export function bitcoinVoucherFromWire(input: unknown): Voucher {
  const r = BitcoinVoucherWireSchema.safeParse(input)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new UsageError(`Malformed payment: ${issue.path.join('.') || 'payment'}: ${issue.message}`)
  }
  const w = r.data
  return { channelId: w.channelId, lane: 0n, nonce: w.nonce, amount: w.amount, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], signature: w.paymentTx }
}

/** The wire form of either kind of voucher (what `--json` and tokens carry). */
export function anyVoucherToWire(v: Voucher): VoucherWire | BitcoinVoucherWire {
  return isBitcoinVoucher(v) ? bitcoinVoucherToWire(v) : voucherToWire(v)
}

/** Converts a voucher to its wire form (decimal strings). */
export function voucherToWire(v: Voucher): VoucherWire {
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

/**
 * Parses and validates a voucher's wire form.
 * @throws {UsageError} naming the first bad field
 */
export function voucherFromWire(input: unknown): Voucher {
  const r = VoucherWireSchema.safeParse(input)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new UsageError(`Malformed voucher: ${issue.path.join('.') || 'voucher'}: ${issue.message}`)
  }
  return r.data as Voucher
}

/** Encodes a voucher (EVM or Bitcoin) as one base64url token (for `channels pay` output and the CLI). */
export function encodeVoucher(v: Voucher): string {
  return Buffer.from(JSON.stringify(anyVoucherToWire(v))).toString('base64url')
}

/** Decodes a token made by {@link encodeVoucher}. @throws {UsageError} */
export function decodeVoucher(token: string): Voucher {
  if (token.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new UsageError('Malformed voucher: not a base64url token.')
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw new UsageError('Malformed voucher: not JSON inside.')
  }
  if (typeof json === 'object' && json !== null && 'paymentTx' in json) return bitcoinVoucherFromWire(json)
  return voucherFromWire(json)
}
