/**
 * Vouchers (DESIGN §3): the model and its wire forms. Signing and recovering an EVM
 * voucher (EIP-712, DESIGN §4) is the EVM family's (families/evm/voucher.ts).
 *
 * `amount` is cumulative per lane; `nonce` strictly increases per lane. A voucher is
 * worth `amount − previous amount on its lane − amounts of merged lanes` (Filecoin
 * paych `UpdateChannelState`). On the wire every integer is a decimal string.
 *
 * The model is a union tagged by `family` ({@link Voucher}): an EVM voucher carries its
 * EIP-712 signature (DESIGN §4), a Bitcoin payment its half-signed payment transaction
 * (DESIGN §5). Code that needs only `channelId`/`lane`/`nonce`/`amount` takes a
 * `Voucher` (or a `Pick` of it); a family's code takes its own variant. The tag is not on
 * the wire: a decoder is told the family by its context (voucher-wire.ts).
 */
import { InvalidVoucherError } from '../errors.js'

/** A lane merged into an EVM voucher's lane, up to `nonce` (Filecoin paych merges). */
export interface Merge {
  lane: bigint
  nonce: bigint
}

/** An EVM voucher (DESIGN §4): the contract's `Voucher` struct and the payer's EIP-712 signature over it. */
export interface EvmVoucher {
  /** The tag; not part of the EIP-712 message (`voucherMessage` lists the struct's fields). */
  family: 'evm'
  /** bytes32 hex. */
  channelId: string
  lane: bigint
  nonce: bigint
  /** Cumulative amount on this lane, in base units (wei or token base units). */
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

/**
 * A Bitcoin payment (DESIGN §5, two1): one lane, no locks, no merges; the payer's
 * half-signed transaction spending the deposit to `{payee: amount, payer: change}`.
 */
export interface BitcoinPayment {
  family: 'bitcoin'
  /** The deposit's channel id: bytes32 hex. */
  channelId: string
  /** Always lane 0 (one lane per Bitcoin channel). */
  lane: 0n
  nonce: bigint
  /** Cumulative amount paid to the payee, in satoshis. */
  amount: bigint
  /** The payment transaction signed by the payer (SIGHASH_ALL), hex. */
  paymentTx: string
}

/** A voucher of either family, told apart by `family`. */
export type Voucher = EvmVoucher | BitcoinPayment

/** An EVM voucher before it is signed: the EIP-712 message's fields (no tag, no signature). */
export type UnsignedVoucher = Omit<EvmVoucher, 'family' | 'signature'>

export const ZERO_HASH = '0x' + '0'.repeat(64)
export const UINT64_MAX = (1n << 64n) - 1n
/** Nonces and lanes are stored in SQLite INTEGER columns: keep them below 2^63. */
export const INDEX_MAX = (1n << 63n) - 1n

/**
 * Why the store cannot hold `v`, or undefined: its time fields (timeLockMin, timeLockMax, minSettleAt; unix seconds)
 * are SQLite INTEGERs too, below 2^63, while the contract takes any uint64 (lanes and nonces are bounded by the wire
 * form already). A time past 2^63 − 1 s (year ≈ 292 billion) is no time a voucher needs.
 * @example unstorable({ ...v, minSettleAt: 2n ** 64n - 1n }) // "its minSettleAt 18446744073709551615 is beyond 9223372036854775807"
 */
export function unstorable(v: Voucher): string | undefined {
  if (v.family !== 'evm') return undefined
  for (const [name, value] of [['timeLockMin', v.timeLockMin], ['timeLockMax', v.timeLockMax], ['minSettleAt', v.minSettleAt]] as const) {
    if (value > INDEX_MAX) return `its ${name} ${value} is beyond ${INDEX_MAX}, the largest time this wallet stores`
  }
  return undefined
}

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

/**
 * The lanes that count (issue 11 §3): the latest voucher of every lane, without the lanes
 * a merge voucher superseded. A lane is superseded when a voucher on another lane merges
 * it at a nonce above the lane's latest voucher: redeeming that merge raises the lane's
 * nonce on chain, so the lane's own vouchers can never be redeemed after it, and the
 * merge voucher's amount already counts the lane's value (`PaymentChannels._merge`).
 * This is the ONE rule for "what a channel owes": `spentAcrossLanes(effectiveLanes(…))`.
 * @param latest - the latest voucher of each lane (`VoucherRepository.latestPerLane`)
 * @param mergers - every stored voucher of the channel that merges other lanes (`VoucherRepository.mergers`), any nonce
 * @returns the vouchers of `latest` that are not superseded, in the same order
 * @example effectiveLanes([v0, v1], [v0]) // [v0] when v0 (lane 0) merges lane 1 at a nonce above v1's
 */
export function effectiveLanes<T extends { lane: bigint; nonce: bigint }>(latest: readonly T[], mergers: readonly Voucher[]): T[] {
  if (mergers.length === 0) return [...latest]
  return latest.filter((v) => !supersededBy(v, mergers))
}

/** The voucher of `mergers` (another lane's) that merges `v`'s lane at a nonce above `v`'s, if any. */
export function supersededBy(v: { lane: bigint; nonce: bigint }, mergers: readonly Voucher[]): Voucher | undefined {
  return mergers.find((x) => x.family === 'evm' && x.lane !== v.lane && x.merges.some((g) => g.lane === v.lane && g.nonce > v.nonce))
}

/** The stored voucher (another lane's) that merges `lane`, at any nonce: a merged lane takes no new vouchers. */
export function mergerOf(lane: bigint, mergers: readonly Voucher[]): Voucher | undefined {
  return mergers.find((x) => x.family === 'evm' && x.lane !== lane && x.merges.some((g) => g.lane === lane))
}

/**
 * A Bitcoin payment (DESIGN §5): lane 0, the payer's nonce, the payee's cumulative amount.
 * @param amount - satoshis
 * @param paymentTx - the half-signed payment transaction, hex
 * @example bitcoinPayment('0x3f…', 2n, 1000n, '0200…') // {family: 'bitcoin', channelId: '0x3f…', lane: 0n, nonce: 2n, amount: 1000n, paymentTx: '0200…'}
 */
export function bitcoinPayment(channelId: string, nonce: bigint, amount: bigint, paymentTx: string): BitcoinPayment {
  return { family: 'bitcoin', channelId, lane: 0n, nonce, amount, paymentTx }
}

/**
 * Whether two vouchers are the same one: same family and signed content — an EVM voucher's every
 * signed field and its EIP-712 signature (compared without case), a Bitcoin payment's amount and
 * transaction. Safe on a voucher whose signer was not checked yet: a copied signature over other fields is not the same.
 */
export function sameVoucher(a: Voucher, b: Voucher): boolean {
  if (a.channelId !== b.channelId || a.lane !== b.lane || a.nonce !== b.nonce || a.amount !== b.amount) return false
  if (a.family === 'bitcoin') return b.family === 'bitcoin' && a.paymentTx.toLowerCase() === b.paymentTx.toLowerCase()
  return b.family === 'evm' && a.secretHash.toLowerCase() === b.secretHash.toLowerCase() && a.timeLockMin === b.timeLockMin && a.timeLockMax === b.timeLockMax
    && a.minSettleAt === b.minSettleAt && a.merges.length === b.merges.length && a.merges.every((g, i) => g.lane === b.merges[i].lane && g.nonce === b.merges[i].nonce)
    && a.signature.toLowerCase() === b.signature.toLowerCase()
}

/** The variant of {@link Voucher} (or of a record that extends it) whose tag is `F`. */
export type VoucherOf<V extends Voucher, F extends Voucher['family']> = Extract<V, { family: F }>

const KIND_NAMES: Record<Voucher['family'], string> = { evm: 'an EVM voucher', bitcoin: 'a Bitcoin payment' }

/**
 * Narrows a voucher (or a stored record of one) to one family's variant: what a family's
 * code calls on a voucher that reached it through a shared seam (`ChannelScheme.check`,
 * a stored row, an x402 payload).
 * @throws {InvalidVoucherError} the voucher is of the other family (made for another network)
 * @example voucherOfFamily(v, 'evm') // v, typed EvmVoucher; throws 'Expected an EVM voucher, got a Bitcoin payment.' for a payment
 */
export function voucherOfFamily<V extends Voucher, F extends Voucher['family']>(v: V, family: F): VoucherOf<V, F> {
  if (v.family !== family) throw new InvalidVoucherError(`Expected ${KIND_NAMES[family]}, got ${KIND_NAMES[v.family]}.`)
  return v as VoucherOf<V, F>
}

/**
 * A Bitcoin payment's wire form: lane 0, the payer's nonce, the payee amount (satoshis), the
 * half-signed transaction (hex); `BitcoinVoucherWire` in voucher-wire.ts, the type of what
 * its schema reads, checks that the two agree.
 */
export function bitcoinVoucherToWire(v: BitcoinPayment) {
  return { channelId: v.channelId, lane: '0' as const, nonce: v.nonce.toString(), amount: v.amount.toString(), paymentTx: v.paymentTx }
}

/** The wire form of either kind of voucher (what `--json`, tokens and headers carry; no tag: the context names the family). */
export function anyVoucherToWire(v: Voucher) {
  return v.family === 'bitcoin' ? bitcoinVoucherToWire(v) : voucherToWire(v)
}

/**
 * Converts a voucher to its wire form (decimal strings): `VoucherWire` in voucher-wire.ts,
 * the type of what `VoucherWireSchema` reads, which checks that the two agree. (Its type
 * stays inferred here so that this module, which `status` loads, never imports zod's.)
 */
export function voucherToWire(v: EvmVoucher) {
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

/** Encodes a voucher (EVM or Bitcoin) as one base64url token of its wire form (for `channels pay` output and the CLI). */
export function encodeVoucher(v: Voucher): string {
  return Buffer.from(JSON.stringify(anyVoucherToWire(v))).toString('base64url')
}
