/**
 * Payments through a hub (issue 12, DESIGN §11; the mediator seed's `lightning_spend`,
 * `lock_spend` and `teach_secrets`): the family-independent rules and wire forms.
 *
 * Flow: the payer P draws a secret and signs, on a lane of its channel to the hub H, a voucher
 * adding `amount + fee` to the lane, locked to `hash = sha256(secret)` until T1; `POST <hub>/lock`
 * carries it with the payee R's address, the amount, the fee and the secret encrypted to R's
 * key. H checks it ({@link lockRefusal}: amount > 0, fee ≥ its policy, T1 far enough ahead,
 * and, in the family, the channel open on chain with funds for every in-flight lane), then
 * signs on a lane of its channel to R a voucher adding `amount`, locked to the same hash
 * until T2 = T1 − margin and posts it to R's channel endpoint (`POST <endpoint>/lock`). R
 * decrypts the secret, checks its hash, stores the voucher with it and answers the secret;
 * H stores it and answers P. Then each sender replaces its conditional voucher by an
 * unconditional one on the same lane (`POST <hub>/unlock`, and a plain voucher delivery to R):
 * nothing on chain ever needs the secret unless a party disappears. A lane carries one
 * conditional voucher at a time and is reused once it is simplified or expired, so a channel
 * has as many lanes as payments in flight at once (each lane costs gas to redeem), not one per
 * payment; a voucher that expired unredeemed leaves its lane worth the previous voucher.
 *
 * Every request is hostile input: strict zod schemas, decimal strings of base units, and
 * bounded sizes. Times are unix seconds of the chain (the contract compares `timeLockMax`
 * with `block.timestamp`).
 */
import { z } from 'zod'
import { InvalidVoucherError } from '../errors.js'

/** A hub's fee policy: `base + ceil(amount × ppm / 10^6)` base units per payment (the seed's `lightning fee`). */
export interface FeePolicy {
  /** Base units per payment. */
  base: bigint
  /** Parts per million of the amount. */
  ppm: bigint
}

/** The least fee `policy` takes for forwarding `amount` base units (rounded up). */
export function feeFor(policy: FeePolicy, amount: bigint): bigint {
  return policy.base + (amount * policy.ppm + 999_999n) / 1_000_000n
}

/**
 * The highest fee a payer pays a hub without a bound of its own (`--max-fee`): a hub names its
 * own fee, so at most 5 % of the amount (rounded down). Base units.
 * @example defaultMaxFee(1000n) // 50n
 */
export function defaultMaxFee(amount: bigint): bigint {
  return amount / 20n
}

/** What a hub's `GET /` says about itself: enough for a payer to price and time a payment. */
export interface HubInfo {
  /** CAIP-2 network of its channels. */
  network: string
  /** The hub's address: payers open channels to it. */
  address: string
  /** The channel contract its channels live in. */
  contract?: string
  feeBase: bigint
  feePpm: bigint
  /** Least time, seconds, from now to a payer's voucher's timeLockMax (T1). */
  minLock: number
  /** T1 − T2, seconds: the hub's time to redeem the payer's voucher once the payee revealed the secret. */
  margin: number
}

const dec = (what: string) => z.string().regex(/^\d{1,78}$/, `${what} must be a decimal string of base units`)
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 32 bytes of 0x hex').transform((s) => s.toLowerCase())
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x address')
/** The family's wire voucher, parsed by the family; present. */
const voucher = z.unknown().refine((v) => v !== undefined && v !== null, 'is required')
const ciphertext = z.string().regex(/^0x(?:[0-9a-fA-F]{2}){1,1024}$/, 'must be 0x hex, at most 1 KiB')

export const HubInfoWireSchema = z.object({
  network: z.string().max(100), address, contract: address.optional(), feeBase: dec('feeBase'), feePpm: dec('feePpm'),
  minLock: z.number().int().min(0).max(10 * 365 * 86400), margin: z.number().int().min(0).max(10 * 365 * 86400),
}).passthrough()

/** Parses a hub's `GET /` answer. @throws {InvalidVoucherError} not a hub's description */
export function hubInfoFromWire(input: unknown): HubInfo {
  const r = HubInfoWireSchema.safeParse(input)
  if (!r.success) throw new InvalidVoucherError(`The hub's description is malformed: ${r.error.issues[0].path.join('.')} ${r.error.issues[0].message}.`)
  const w = r.data
  return { network: w.network, address: w.address, contract: w.contract, feeBase: BigInt(w.feeBase), feePpm: BigInt(w.feePpm), minLock: w.minLock, margin: w.margin }
}

/**
 * Asks the hub at `endpoint` for its description (`GET <endpoint>/`) through `get` (the caller's transport) and parses it:
 * the one reader of a hub's terms for `serve --hub`, `buy` and `pay --via`.
 * @throws {InvalidVoucherError} it answered no 200 or no hub's description (`<endpoint> is not a channels hub: …`) · what `get` throws
 */
export async function readHubInfo(get: (url: string) => Promise<{ status: number; json: Record<string, unknown> }>, endpoint: string): Promise<HubInfo> {
  const r = await get(`${endpoint}/`)
  try {
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`)
    return hubInfoFromWire(r.json)
  } catch (err) {
    throw new InvalidVoucherError(`${endpoint} is not a channels hub: ${(err as Error).message}`)
  }
}

export function hubInfoToWire(i: HubInfo) {
  return { network: i.network, address: i.address, contract: i.contract, feeBase: i.feeBase.toString(), feePpm: i.feePpm.toString(), minLock: i.minLock, margin: i.margin }
}

/** `POST <hub>/lock` (payer → hub). `voucher` is the family's wire voucher, parsed by the family. */
export const LockRequestWireSchema = z.object({
  network: z.string().max(100),
  payee: address,
  amount: dec('amount'),
  fee: dec('fee'),
  hash: hex32,
  encryptedSecret: ciphertext,
  voucher,
}).strict()

/** `POST <endpoint>/lock` (hub → payee): the hub's conditional voucher and the payer's encrypted secret. */
export const ForwardRequestWireSchema = z.object({
  network: z.string().max(100),
  hash: hex32,
  encryptedSecret: ciphertext,
  voucher,
}).strict()

/** `POST <hub>/unlock` (payer → hub): the unconditional voucher replacing the conditional one of `hash`. */
export const UnlockRequestWireSchema = z.object({
  network: z.string().max(100),
  hash: hex32,
  voucher,
}).strict()

export type LockRequestWire = z.input<typeof LockRequestWireSchema>
export type ForwardRequestWire = z.input<typeof ForwardRequestWireSchema>
export type UnlockRequestWire = z.input<typeof UnlockRequestWireSchema>

/**
 * Parses a request body with `schema`.
 * @throws {InvalidVoucherError} malformed (the first issue, with its path)
 */
export function parseLockWire<S extends z.ZodTypeAny>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input)
  if (!r.success) throw new InvalidVoucherError(`The ${what} is malformed: ${r.error.issues[0].path.join('.') || 'body'} ${r.error.issues[0].message}.`)
  return r.data
}

/** The parts of a hub's lock check that need no chain and no database. */
export interface LockTerms {
  amount: bigint
  fee: bigint
  /** The voucher's timeLockMax, unix seconds. */
  timeLock: bigint
  /** The voucher's secretHash and the request's hash. */
  voucherHash: string
  hash: string
}

/**
 * Why a hub refuses a lock request on its terms (the seed's `lock_spend`), or undefined.
 * @param now - the chain's time, unix seconds (the later of the latest block's and the clock)
 * (That the voucher adds exactly amount + fee to its lane is checked against the lane's held voucher, in the family.)
 * @returns `{reason, message}`: `amount_zero`, `fee_too_low`, `hash_mismatch`, `lock_expired`, `lock_too_short`
 */
export function lockRefusal(t: LockTerms, policy: FeePolicy & { minLock: number }, now: number): { reason: string; message: string } | undefined {
  if (t.amount <= 0n) return { reason: 'amount_zero', message: 'The amount must be above zero.' }
  const least = feeFor(policy, t.amount)
  if (t.fee < least) return { reason: 'fee_too_low', message: `The fee ${t.fee} is below this hub's ${least} for ${t.amount} (base ${policy.base} + ${policy.ppm} ppm).` }
  if (t.voucherHash.toLowerCase() !== t.hash.toLowerCase()) return { reason: 'hash_mismatch', message: 'The voucher is not locked to the payment\'s hash.' }
  if (t.timeLock <= BigInt(now)) return { reason: 'lock_expired', message: `The voucher's time lock ${t.timeLock} has passed (the chain's time is ${now}).` }
  if (t.timeLock < BigInt(now + policy.minLock)) {
    return { reason: 'lock_too_short', message: `The voucher's time lock ${t.timeLock} is less than ${policy.minLock} s ahead of ${now}; lock it longer.` }
  }
  return undefined
}
