/**
 * Payment reconciliation (Filecoin payment-channel spec, "Payment Reconciliation"; DESIGN
 * §13): a payee holding vouchers on several lanes of a channel asks the payer for ONE voucher
 * worth `reqVal` that merges them, so that it redeems one voucher instead of many; the payer
 * grants it when the discount `sum − reqVal` meets its configured minimum
 * (`reconcile.minDiscount`). Family-independent types, wire forms and the payer's rule;
 * a family signs the merged voucher (families/evm/lanes.ts).
 *
 * The request is hostile input (it comes from the payee, over HTTP or a file): its wire form
 * is parsed by a strict zod schema, every voucher by its family's wire schema, and the payer
 * answers only for vouchers it signed and holds, never adopting one (DESIGN §13).
 */
import { z } from 'zod'
import { UsageError } from '../errors.js'
import { parseBaseUnits } from '../units.js'
import type { Family } from '../config-fields.js'
import { anyVoucherToWire, type Voucher } from './voucher.js'
import { voucherFromFamilyWire } from './voucher-wire.js'

/** A payee's request: merge the lanes of `vouchers` (its best voucher of each) into one voucher worth `reqVal` base units. */
export interface ReconcileRequest {
  /** bytes32 hex. */
  channelId: string
  /** The payee's best voucher of each lane to merge (at least two lanes). */
  vouchers: Voucher[]
  /** The value asked for, base units: at most the vouchers' sum. */
  reqVal: bigint
}

/** The payer's answer. `combined` is present exactly when `status` is `Success`. */
export interface ReconcileResponse {
  /** The merge voucher worth `reqVal`, signed by the payer. */
  combined?: Voucher
  status: 'Success' | 'Failure'
  /** Why it failed, or what was granted. */
  message: string
}

/** Most vouchers a request may carry (the merged voucher keeps one lane and carries at most 16 merges; the wire schema's bound). */
export const MAX_RECONCILE_VOUCHERS = 16

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x and 64 hex digits').transform((s) => s.toLowerCase())
const baseUnits = z.string().max(78).transform((s, ctx) => {
  try {
    return parseBaseUnits(s, 'reqVal')
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message })
    return z.NEVER
  }
})

/** Wire form of a {@link ReconcileRequest}: vouchers in their family's wire form, `reqVal` a decimal string. */
export const ReconcileRequestWireSchema = z.object({
  channelId: bytes32,
  vouchers: z.array(z.unknown()).min(2, 'a reconciliation merges at least two lanes').max(MAX_RECONCILE_VOUCHERS),
  reqVal: baseUnits,
}).strict()

/** Wire form of a {@link ReconcileResponse}. */
export const ReconcileResponseWireSchema = z.object({
  combined: z.unknown().optional(),
  status: z.enum(['Success', 'Failure']),
  message: z.string().max(1000),
}).strict()

/** The wire form of a request (what `reconcile request` prints, the paywall's `reconcile` receipt field). */
export function reconcileRequestToWire(r: ReconcileRequest) {
  return { channelId: r.channelId, vouchers: r.vouchers.map(anyVoucherToWire), reqVal: r.reqVal.toString() }
}

/** The wire form of a response (what `reconcile answer` prints). */
export function reconcileResponseToWire(r: ReconcileResponse) {
  return { ...(r.combined ? { combined: anyVoucherToWire(r.combined) } : {}), status: r.status, message: r.message }
}

const issue = (what: string, e: z.ZodError) => {
  const i = e.issues[0]
  return new UsageError(`Malformed reconciliation ${what}: ${i.path.join('.') || what}: ${i.message}`)
}

/**
 * Parses a request's wire form; its vouchers are read as vouchers of `family` (the network
 * the command or paywall runs on) and must all be of its channel.
 * @throws {UsageError} naming the first bad field
 */
export function reconcileRequestFromWire(family: Family, input: unknown): ReconcileRequest {
  const r = ReconcileRequestWireSchema.safeParse(input)
  if (!r.success) throw issue('request', r.error)
  const vouchers = r.data.vouchers.map((w, i) => {
    try {
      return voucherFromFamilyWire(family, w)
    } catch (err) {
      throw new UsageError(`Malformed reconciliation request: vouchers.${i}: ${(err as Error).message}`)
    }
  })
  for (const v of vouchers) if (v.channelId !== r.data.channelId) throw new UsageError(`Malformed reconciliation request: a voucher is for channel ${v.channelId}, not ${r.data.channelId}.`)
  if (new Set(vouchers.map((v) => v.lane)).size !== vouchers.length) throw new UsageError('Malformed reconciliation request: two vouchers are on the same lane.')
  return { channelId: r.data.channelId, vouchers, reqVal: r.data.reqVal }
}

/**
 * Parses a response's wire form (`combined` as a voucher of `family`).
 * @throws {UsageError} naming the first bad field, or a Success without `combined`
 */
export function reconcileResponseFromWire(family: Family, input: unknown): ReconcileResponse {
  const r = ReconcileResponseWireSchema.safeParse(input)
  if (!r.success) throw issue('response', r.error)
  if (r.data.status === 'Success' && r.data.combined === undefined) throw new UsageError('Malformed reconciliation response: a Success carries the combined voucher.')
  const combined = r.data.combined === undefined ? undefined : voucherFromFamilyWire(family, r.data.combined)
  return { ...(combined ? { combined } : {}), status: r.data.status, message: r.data.message }
}

/**
 * The payer's rule on the value asked (Filecoin reconciliation): `reqVal ≤ sum` and
 * `sum − reqVal ≥ minDiscount`. Base units.
 * @returns why the request is refused, or undefined when it is granted
 * @example reconcileRefusal(3000n, 2900n, 1000n) // 'the discount 100 is below this payer's minimum 1000 (reconcile.minDiscount)'
 */
export function reconcileRefusal(sum: bigint, reqVal: bigint, minDiscount: bigint): string | undefined {
  if (reqVal > sum) return `the requested value ${reqVal} is above the vouchers' sum ${sum}`
  if (sum - reqVal < minDiscount) return `the discount ${sum - reqVal} is below this payer's minimum ${minDiscount} (reconcile.minDiscount)`
  return undefined
}
