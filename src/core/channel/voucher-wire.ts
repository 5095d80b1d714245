/**
 * The voucher wire forms: their zod schemas, the types inferred from them (`VoucherWire`,
 * `BitcoinVoucherWire`: what the schemas read) and their parsing. Kept apart from the voucher
 * model, which the signing and EIP-712 code use without parsing anything.
 */
import { z } from 'zod'
import { UsageError } from '../errors.js'
import { MAX_SATOSHIS, parseBaseUnits } from '../units.js'
import { INDEX_MAX, UINT64_MAX, ZERO_HASH, bitcoinVoucher, bitcoinVoucherToWire, voucherToWire, type Voucher } from './voucher.js'

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

/** Wire form of a voucher, as `VoucherWireSchema` reads it: integers as decimal strings; omitted fields take their defaults. */
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
    amount: uintString(MAX_SATOSHIS, 'amount'),
    paymentTx: z.string().max(8000).regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected transaction hex').transform((s) => s.toLowerCase()),
  })
  .strict()

/** Wire form of a Bitcoin payment, as `BitcoinVoucherWireSchema` reads it: lane 0, the payer's nonce, the payee amount (satoshis), the half-signed transaction (hex). */
export type BitcoinVoucherWire = z.input<typeof BitcoinVoucherWireSchema>

// What voucher.ts writes is what these schemas read (its functions keep zod out of `status`).
const _writes: [(v: Voucher) => VoucherWire, (v: Voucher) => BitcoinVoucherWire] = [voucherToWire, bitcoinVoucherToWire]
void _writes

/** Parses a Bitcoin payment's wire form. @throws {UsageError} naming the first bad field */
export function bitcoinVoucherFromWire(input: unknown): Voucher {
  const r = BitcoinVoucherWireSchema.safeParse(input)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new UsageError(`Malformed payment: ${issue.path.join('.') || 'payment'}: ${issue.message}`)
  }
  const w = r.data
  return bitcoinVoucher(w.channelId, w.nonce, w.amount, w.paymentTx)
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
