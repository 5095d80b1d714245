/**
 * The `payment-channel-claim` BTP sub-protocol's claim (DESIGN §12, the ILP seed's
 * `EVMClaimMessage`): our EVM voucher in the seed's JSON clothes.
 *
 * Mapping (claim field ← voucher):
 * - `channelId` ← channelId; `nonce` ← nonce; `transferredAmount` ← amount, the cumulative
 *   total of the voucher's lane in base units (wei or token base units), a decimal string;
 * - `signature` ← the payer's EIP-712 voucher signature (65 bytes r‖s‖v, DESIGN §4);
 * - `additionalHash` ← the EIP-712 digest that signature signs (the receiver recomputes it and
 *   refuses a claim whose digest differs), `publicKey` ← the uncompressed secp256k1 key the
 *   signature recovers to (must be the one behind the recovered signer; the authority is
 *   still the channel's payer on chain);
 * - the claim has no lane: a claim is always lane 0, with no hash lock, no time lock, no
 *   minSettleAt and no merges (a voucher with any of those cannot be sent as a claim);
 * - `lockedAmount` must be `'0'` and `locksRoot` the zero hash: pending HTLCs are not carried
 *   in claims yet (the seed's Raiden-style locks; our hash locks, DESIGN §11, travel as
 *   conditional vouchers through a hub instead).
 *
 * Sent as JSON with contentType 2 (RFC 23 `application/json`); 1 (`text/plain;
 * charset=utf-8`, what the seed shows) and 2 are accepted, anything else is refused.
 * Every field is parsed strictly (hostile input): sizes, decimal strings, hex lengths.
 */
import { z } from 'zod'
import { UsageError } from '../../errors.js'
import { INDEX_MAX, ZERO_HASH, type EvmVoucher, type Voucher } from '../../channel/voucher.js'
import type { ChannelScheme } from '../../scheme/index.js'

/** The BTP sub-protocol name of a claim. */
export const CLAIM_PROTOCOL = 'payment-channel-claim'
/** btp-packet's MIME codes (RFC 23): 0 octet stream, 1 text/plain utf-8, 2 JSON. */
export const CONTENT_TEXT = 1
export const CONTENT_JSON = 2
/** Largest claim accepted, in bytes of JSON (a real one is about 900). */
export const MAX_CLAIM_BYTES = 4096
const MAX_UINT256 = (1n << 256n) - 1n

/** A claim refused before anything is verified: malformed, too big, wrong content type. BTP code F01. */
export class ClaimFormatError extends UsageError {
  override name = 'Btp.ClaimFormatError'
  override code = 'CLAIM_MALFORMED'
}

/** A printable ASCII token (ids chosen by the sender). */
const token = (max: number) => z.string().min(1).max(max).regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces')
const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `expected 0x and ${bytes * 2} hex digits`).transform((s) => s.toLowerCase())
/** A non-negative decimal string without leading zeros, at most `max`. */
const decimal = (max: bigint, what: string) =>
  z.string().max(78).regex(/^(0|[1-9]\d*)$/, `${what}: expected a decimal string`).transform((s, ctx) => {
    const n = BigInt(s)
    if (n > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what} ${s} is above ${max}` })
      return z.NEVER
    }
    return n
  })

/** The claim as JSON (what {@link parseClaim} reads and {@link claimFromVoucher} writes). */
export const ClaimSchema = z
  .object({
    version: z.literal('1.0'),
    blockchain: z.literal('evm'),
    messageId: token(128),
    /** ISO 8601 time of sending (informative: nothing is decided on it). */
    timestamp: z.string().max(40).datetime({ offset: true }),
    senderId: token(128),
    channelId: hex(32),
    /** A JSON number (a safe integer, as the seed shows) or a decimal string; below 2^63 (the store's INTEGER). */
    nonce: z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).transform((n) => BigInt(n)), decimal(INDEX_MAX, 'nonce')]),
    transferredAmount: decimal(MAX_UINT256, 'transferredAmount'),
    lockedAmount: z.literal('0', { errorMap: () => ({ message: 'lockedAmount must be "0": claims carry no pending locks' }) }),
    locksRoot: hex(32).refine((s) => s === ZERO_HASH, 'locksRoot must be the zero hash: claims carry no pending locks'),
    signature: hex(65),
    additionalHash: hex(32),
    publicKey: z.string().regex(/^0x04[0-9a-fA-F]{128}$/, 'expected an uncompressed secp256k1 key (0x04 and 128 hex digits)').transform((s) => s.toLowerCase()),
  })
  .strict()

/** A claim as sent (JSON). */
export type ClaimWire = z.input<typeof ClaimSchema>
/** A claim as parsed: `nonce` and `transferredAmount` as bigint (base units). */
export type Claim = z.output<typeof ClaimSchema>

/**
 * Reads a claim from a BTP protocol data entry.
 * @param data - the entry's bytes (UTF-8 JSON, at most {@link MAX_CLAIM_BYTES})
 * @param contentType - the entry's contentType: 1 or 2
 * @throws {ClaimFormatError} wrong content type, too big, not JSON, or a field refused (the first issue is named)
 * @example parseClaim(Buffer.from(JSON.stringify(wire)), 2).transferredAmount // 5000000n
 */
export function parseClaim(data: Buffer, contentType: number): Claim {
  if (contentType !== CONTENT_JSON && contentType !== CONTENT_TEXT) {
    throw new ClaimFormatError(`A claim's contentType must be ${CONTENT_JSON} (JSON) or ${CONTENT_TEXT} (text), not ${contentType}.`)
  }
  if (data.length > MAX_CLAIM_BYTES) throw new ClaimFormatError(`A claim is at most ${MAX_CLAIM_BYTES} bytes; this one has ${data.length}.`)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch {
    throw new ClaimFormatError('The claim is not UTF-8 JSON.')
  }
  const r = ClaimSchema.safeParse(json)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new ClaimFormatError(`Malformed claim: ${issue.path.join('.') || 'claim'}: ${issue.message}`)
  }
  return r.data
}

/** What a claim carries beside its voucher (`ChannelScheme.voucherProof`): the EIP-712 digest, the signer's public key and address. */
export type ClaimProof = (v: Voucher) => { digest: string; publicKey: string; signer: string }

/**
 * The family's claim proof, bound to its wallet.
 * @throws {UsageError} the family has no claims (no `voucherProof`: Bitcoin)
 */
export function claimProof(s: ChannelScheme): ClaimProof {
  if (!s.voucherProof) throw new UsageError('Interledger claims are EVM vouchers; this network\'s family has none.')
  return s.voucherProof.bind(s)
}

/** The voucher a claim carries: lane 0, plain (see the module comment). */
export function voucherFromClaim(c: Claim): EvmVoucher {
  return {
    family: 'evm', channelId: c.channelId, lane: 0n, nonce: c.nonce, amount: c.transferredAmount, secretHash: ZERO_HASH,
    timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], signature: c.signature,
  }
}

/**
 * The claim of a voucher, to send.
 * @param proof - the voucher's digest and signer's public key (`ChannelScheme.voucherProof`)
 * @param o.senderId - who sends it (the BTP account name); o.messageId - unique per claim (default: channel, nonce and time)
 * @throws {UsageError} the voucher is not a plain lane-0 voucher
 */
export function claimFromVoucher(v: EvmVoucher, proof: { digest: string; publicKey: string }, o: { senderId: string; messageId?: string; now?: Date }): ClaimWire {
  if (v.lane !== 0n || v.secretHash !== ZERO_HASH || v.timeLockMin !== 0n || v.timeLockMax !== 0n || v.minSettleAt !== 0n || v.merges.length) {
    throw new UsageError('Only a plain voucher on lane 0 can be sent as a claim (no hash lock, time lock, minSettleAt or merges).')
  }
  const now = o.now ?? new Date()
  return {
    version: '1.0', blockchain: 'evm',
    messageId: o.messageId ?? `claim_${v.channelId.slice(2, 18)}_${v.nonce}_${now.getTime()}`,
    timestamp: now.toISOString(), senderId: o.senderId, channelId: v.channelId,
    nonce: v.nonce <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.nonce) : v.nonce.toString(),
    transferredAmount: v.amount.toString(), lockedAmount: '0', locksRoot: ZERO_HASH,
    signature: v.signature, additionalHash: proof.digest, publicKey: proof.publicKey,
  }
}
