/**
 * The voucher wire forms: their zod schemas, the types inferred from them (`VoucherWire`,
 * `BitcoinVoucherWire`: what the schemas read) and their parsing. Kept apart from the voucher
 * model, which the signing and EIP-712 code use without parsing anything. The wire forms
 * carry no `family` tag: a parser is chosen by the context (the network a voucher is paid
 * on), and only {@link voucherFromUntaggedWire} reads an object of unknown family.
 */
import { z } from 'zod'
import { UsageError } from '../errors.js'
import { MAX_SATOSHIS, parseBaseUnits } from '../units.js'
import type { Family } from '../config-fields.js'
import {
  INDEX_MAX, UINT64_MAX, ZERO_HASH, bitcoinPayment, bitcoinVoucherToWire, voucherToWire,
  type BitcoinPayment, type EvmVoucher, type Voucher, type VoucherOf,
} from './voucher.js'

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
const _writes: [(v: EvmVoucher) => VoucherWire, (v: BitcoinPayment) => BitcoinVoucherWire] = [voucherToWire, bitcoinVoucherToWire]
void _writes

/** The first issue of a refused parse, as `Malformed <what>: <field>: <message>`. */
function malformed(what: 'voucher' | 'payment', error: z.ZodError): UsageError {
  const issue = error.issues[0]
  return new UsageError(`Malformed ${what}: ${issue.path.join('.') || what}: ${issue.message}`)
}

/**
 * The model's voucher from what each family's wire schema has read (and checked): the
 * tag is added here, from the family whose schema was chosen, never from the JSON.
 */
export const voucherOfWire = {
  evm: (w: z.output<typeof VoucherWireSchema>): EvmVoucher => ({ family: 'evm', ...w }),
  bitcoin: (w: z.output<typeof BitcoinVoucherWireSchema>): BitcoinPayment => bitcoinPayment(w.channelId, w.nonce, w.amount, w.paymentTx),
} as const satisfies Record<Family, unknown>

/** Parses a Bitcoin payment's wire form. @throws {UsageError} naming the first bad field */
export function bitcoinVoucherFromWire(input: unknown): BitcoinPayment {
  const r = BitcoinVoucherWireSchema.safeParse(input)
  if (!r.success) throw malformed('payment', r.error)
  return voucherOfWire.bitcoin(r.data)
}

/**
 * Parses and validates an EVM voucher's wire form.
 * @throws {UsageError} naming the first bad field
 */
export function voucherFromWire(input: unknown): EvmVoucher {
  const r = VoucherWireSchema.safeParse(input)
  if (!r.success) throw malformed('voucher', r.error)
  return voucherOfWire.evm(r.data)
}

/** Each family's wire parser: the family comes from the context (a network's CAIP-2 namespace, `familyOfNetwork`), never from the JSON. */
const FROM_WIRE: { [F in Family]: (input: unknown) => VoucherOf<Voucher, F> } = { evm: voucherFromWire, bitcoin: bitcoinVoucherFromWire }

const WIRE_SCHEMAS = { evm: VoucherWireSchema, bitcoin: BitcoinVoucherWireSchema } as const satisfies Record<Family, z.ZodTypeAny>
const WIRE_NAMES = { evm: ['voucher', 'an EVM voucher'], bitcoin: ['payment', 'a Bitcoin payment'] } as const satisfies Record<Family, readonly [string, string]>

/**
 * Parses the wire form of a voucher of `family` (the family of the network it is paid on).
 * @throws {UsageError} naming the first bad field, or saying that it is the other family's
 *   wire form (a token made on another network than `--network`)
 * @example voucherFromFamilyWire('bitcoin', {channelId: '0x3f…', nonce: '1', amount: '1000', paymentTx: '0200…'}) // {family: 'bitcoin', lane: 0n, …}
 */
export function voucherFromFamilyWire<F extends Family>(family: F, input: unknown): VoucherOf<Voucher, F> {
  try {
    return FROM_WIRE[family](input) as VoucherOf<Voucher, F>
  } catch (err) {
    const other = (Object.keys(WIRE_SCHEMAS) as Family[]).find((f) => f !== family && WIRE_SCHEMAS[f].safeParse(input).success)
    if (!other) throw err
    throw new UsageError(`Malformed ${WIRE_NAMES[family][0]}: it is ${WIRE_NAMES[other][1]}, not ${WIRE_NAMES[family][1]}; was it made on another network?`)
  }
}

/**
 * Parses a voucher's wire form when nothing says which family it is (a token handed to
 * the library's `decodeVoucher` without a network): the one guess the code makes, and
 * it is by the two schemas, not by a key. The wire forms carry no tag (DESIGN §6 fixed
 * them before the model had one) but cannot be confused: an EVM voucher has a 65-byte
 * `signature` and a payment a `paymentTx`, and both schemas are strict, so at most one
 * accepts a given object (checked: exactly one must). When neither does, the refusal is
 * the one of the schema the object is closer to (fewer issues; the EVM one on a tie), so
 * that a malformed payment is reported as a payment.
 * @throws {UsageError} naming the first bad field
 */
export function voucherFromUntaggedWire(input: unknown): Voucher {
  const evm = VoucherWireSchema.safeParse(input)
  const bitcoin = BitcoinVoucherWireSchema.safeParse(input)
  if (evm.success && bitcoin.success) throw new UsageError('Malformed voucher: it reads both as an EVM voucher and as a Bitcoin payment.')
  if (evm.success) return voucherOfWire.evm(evm.data)
  if (bitcoin.success) return voucherOfWire.bitcoin(bitcoin.data)
  throw bitcoin.error.issues.length < evm.error.issues.length ? malformed('payment', bitcoin.error) : malformed('voucher', evm.error)
}

/**
 * Decodes a token made by {@link encodeVoucher}.
 * @param family - the family of the network the token is for (the CLI's `--network`);
 *   without it the wire form alone decides ({@link voucherFromUntaggedWire})
 * @throws {UsageError} not a token, not JSON, or a malformed voucher
 */
export function decodeVoucher<F extends Family>(token: string, family: F): VoucherOf<Voucher, F>
export function decodeVoucher(token: string, family?: Family): Voucher
export function decodeVoucher(token: string, family?: Family): Voucher {
  if (token.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new UsageError('Malformed voucher: not a base64url token.')
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw new UsageError('Malformed voucher: not JSON inside.')
  }
  return family ? voucherFromFamilyWire(family, json) : voucherFromUntaggedWire(json)
}
