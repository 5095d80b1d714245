/**
 * Vouchers (DESIGN §3): the model and its wire forms. Signing and recovering an EVM
 * voucher (EIP-712, DESIGN §4) is the EVM family's (families/evm/voucher.ts).
 *
 * `amount` is cumulative per lane; `nonce` strictly increases per lane. A voucher is
 * worth `amount − previous amount on its lane − amounts of merged lanes` (Filecoin
 * paych `UpdateChannelState`). On the wire every integer is a decimal string.
 */
/**
 * The voucher model (DESIGN §3), family-independent: an EVM voucher carries its EIP-712
 * signature, a Bitcoin payment its half-signed transaction in `signature`.
 */
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
export const UINT64_MAX = (1n << 64n) - 1n
/** Nonces and lanes are stored in SQLite INTEGER columns: keep them below 2^63. */
export const INDEX_MAX = (1n << 63n) - 1n

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

/** Whether a voucher is a Bitcoin payment (its `signature` holds the payment transaction, not an EIP-712 signature). */
export const isBitcoinVoucher = (v: Pick<Voucher, 'signature'>): boolean => !v.signature.startsWith('0x')

/** A Bitcoin payment as a voucher (DESIGN §5): lane 0, plain, the half-signed payment transaction in `signature`. */
export function bitcoinVoucher(channelId: string, nonce: bigint, amount: bigint, paymentTx: string): Voucher {
  return { channelId, lane: 0n, nonce, amount, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], signature: paymentTx }
}

/**
 * A Bitcoin payment's wire form: lane 0, the payer's nonce, the payee amount (satoshis), the
 * half-signed transaction (hex); `BitcoinVoucherWire` in voucher-wire.ts, the type of what
 * its schema reads, checks that the two agree.
 */
export function bitcoinVoucherToWire(v: Voucher) {
  return { channelId: v.channelId, lane: '0' as const, nonce: v.nonce.toString(), amount: v.amount.toString(), paymentTx: v.signature }
}


/** The wire form of either kind of voucher (what `--json` and tokens carry). */
export function anyVoucherToWire(v: Voucher) {
  return isBitcoinVoucher(v) ? bitcoinVoucherToWire(v) : voucherToWire(v)
}

/**
 * Converts a voucher to its wire form (decimal strings): `VoucherWire` in voucher-wire.ts,
 * the type of what `VoucherWireSchema` reads, which checks that the two agree. (Its type
 * stays inferred here so that this module, which `status` loads, never imports zod's.)
 */
export function voucherToWire(v: Voucher) {
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


/** Encodes a voucher (EVM or Bitcoin) as one base64url token (for `channels pay` output and the CLI). */
export function encodeVoucher(v: Voucher): string {
  return Buffer.from(JSON.stringify(anyVoucherToWire(v))).toString('base64url')
}

