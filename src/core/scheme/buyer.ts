/**
 * The buyer's seam (DESIGN §2, §6): what the x402 buyer (transports/http402/client.ts)
 * needs from a chain family to pay a 402 over a channel. Modelled on x402's
 * `SchemeNetworkClient`: the transport parses the challenge, picks the entry, talks
 * HTTP and decides when to open, retry or give up; the family checks and fills in the
 * `channel` scheme's fields ({@link ChannelRequirement}, {@link ChannelPayload}) and owns
 * the channels, the keys and the chain. A family implements it in families/<kind>/buyer.ts
 * and hands it out through `ChannelScheme.buyer` (scheme/index.ts); the transport never imports a family.
 */
import type { NetworkConfig } from '../config.js'
import type { Asset } from '../asset.js'
import type { ChannelRecord, Store, VoucherRecord } from '../store/index.js'
import type { Voucher } from '../channel/voucher.js'
import type { ChannelPayload, ChannelRequirement, ExactPayload, ExactRequirement } from './x402.js'
import type { PayViaOptions, RoutedPayment } from './hub.js'

/** How a buyer opens channels: the policy of `channels buy` for a channel it opens. */
export interface BuyerOptions {
  /** EVM: settle delay of a channel opened here, seconds (raised to the merchant's `minSettleDelay`). */
  settleDelay: number
  /** Bitcoin: lifetime of a channel opened here, seconds from now (raised to the merchant's minimum + margin). */
  expirySeconds?: number
}

/**
 * One wallet on one network paying x402 `channel` 402s: everything `buy()` asks of a
 * family. The entry checks, the default deposit, opening and the payload's extra fields
 * differ per family; the voucher bookkeeping (createVoucher, acknowledge, signedByPayer)
 * is the family's channel manager's own.
 *
 * Order of use (nothing is opened or stored for a 402 this wallet cannot pay):
 * {@link checkEntry} on the chosen entry, then {@link payable} or {@link open}, then per
 * request {@link createVoucher}, {@link accepted} and {@link announce} for the payment,
 * {@link acknowledge} on a receipt; on a corrective 402 {@link fromWire} and
 * {@link signedByPayer} before anything the merchant claims is believed.
 */
export interface X402Payer {
  /** The network paid on: its `caip2` selects the 402's entries. */
  readonly network: NetworkConfig & { name: string }
  /** The wallet's database (channels and vouchers of this network). */
  readonly store: Store
  /** What an amount on this network counts, for messages: an entry's or a channel's `asset` (see `ChannelFamily.asset`). */
  asset(address?: string): Asset

  // ── The entry ──────────────────────────────────────────────────────────────────

  /**
   * Checks (and normalizes in place: `payTo` to its canonical form) the entry this wallet
   * is about to pay, before anything is opened or stored.
   * @throws {PaymentRefusedError} an entry this family cannot pay (bad payTo, untrusted contract, asset, payee index)
   */
  checkEntry(entry: ChannelRequirement): void
  /** An open channel to the entry's payee, or (Bitcoin: a fresh payee key per channel) bound to its `endpoint`, that can pay `price`. */
  payable(entry: ChannelRequirement, price: bigint, endpoint: string): ChannelRecord | undefined
  /** The least deposit that pays `requests` requests at `price` on a new channel, base units (Bitcoin: plus the close fee). */
  defaultDeposit(entry: ChannelRequirement, price: bigint, requests: bigint): Promise<bigint>

  // ── Opening ────────────────────────────────────────────────────────────────────

  /**
   * Opens a channel to the entry's payee with `deposit`, bound to `endpoint`; resolves
   * once it can be paid on. `onSent` is called when the open transaction is broadcast.
   */
  open(entry: ChannelRequirement, deposit: bigint, endpoint: string, onSent: (tx: string) => void, onProgress?: (s: string) => void): Promise<ChannelRecord>
  /** What the purchase waits for while a channel opens (for progress and timeout messages). */
  readonly openWait: string

  // ── Paying ─────────────────────────────────────────────────────────────────────

  /**
   * Signs and commits (before it is sent) the next voucher on `c`, lane 0: its cumulative
   * amount is `target(previous amount, charged)`.
   * @param onCommit - runs inside the voucher's write transaction, after its insert (buy records the
   *   purchase there, after checking the budgets: issue 13 §3); a throw refuses the voucher, rolled back
   * @throws {InsufficientFundsError} the channel cannot pay it · what `onCommit` threw
   */
  createVoucher(c: ChannelRecord, target: (previous: bigint, charged: bigint) => bigint, onCommit?: (v: VoucherRecord) => void): Promise<VoucherRecord>
  /** The `accepted` entry to send with a payment on `c` (Bitcoin: the channel's own payTo and payee index). */
  accepted(entry: ChannelRequirement, c: ChannelRecord): ChannelRequirement
  /** Extra payload fields announcing a channel the merchant may not know (Bitcoin: deposit and script). */
  announce(c: ChannelRecord, v: VoucherRecord): Partial<ChannelPayload>
  /** Records the merchant's `charged` for a voucher this wallet signed; whether anything changed. */
  acknowledge(c: ChannelRecord, v: Voucher, charged: bigint): boolean

  // ── A corrective 402 ───────────────────────────────────────────────────────────

  /** The merchant's voucher from its wire form. @throws an unreadable voucher */
  fromWire(w: unknown): Voucher
  /** Whether `v` is a voucher this wallet signed for `c` (its chain, contract, key). */
  signedByPayer(c: ChannelRecord, v: Voucher): boolean
  /**
   * After a refusal: asks the chain whether `c` is still open, recording what it finds (a
   * merchant's redemption service may have closed it). Absent: the family's merchants never
   * close a channel a payer still uses.
   * @throws {NetworkError} the node is unreachable
   */
  stillOpen?(c: ChannelRecord): Promise<boolean>

  // ── In-band reconciliation (issue 11 §3) ─────────────────────────────────────────

  /**
   * Answers a merchant's reconciliation request (the receipt's `extra.reconcile`, hostile
   * wire input) on `c`: when granted, signs and commits the merged voucher, which the next
   * payment on its lane supersedes and carries forward. Absent on a family without lanes.
   * @returns what was done, for a progress line
   * @throws nothing the purchase must fail for: a refused or malformed request is the returned text
   */
  reconcile?(c: ChannelRecord, request: unknown): Promise<string>

  // ── Through a hub (issue 12, DESIGN §11) ───────────────────────────────────────────

  /**
   * Paying a merchant through a hub it lists (`extra.hubs`) when this wallet has no channel to
   * the merchant that can pay. Absent on a family without hash locks (Bitcoin two1): its buyer
   * ignores `extra.hubs`.
   */
  readonly locks?: RoutedPayer

  // ── x402 `exact` (issue 13 §2, DESIGN §14) ────────────────────────────────────────

  /**
   * Paying x402's `exact` scheme: a one-off transfer of the price signed by the wallet (EVM: an EIP-3009
   * authorization of the token), which the merchant's facilitator submits. Absent on a family without it
   * (Bitcoin): its buyer ignores `exact` entries.
   */
  readonly exact?: ExactPayer
}

/**
 * What `buy` needs of a family to pay an x402 `exact` entry. Order of use: {@link check}, then
 * {@link sign}; `buy` records the purchase and checks the budgets (one transaction) before the signed
 * payload leaves the process.
 */
export interface ExactPayer {
  /**
   * Checks an `exact` entry of this network as hostile input before anything is signed: `payTo` an
   * address, `asset` a token contract whose EIP-712 domain (name, version, chain, address) is the one
   * `extra` names, the transfer method EIP-3009, `maxTimeoutSeconds` within reason, `amount` base units
   * above 0; and that the wallet holds `amount` of the token. Reads the chain; changes nothing (the entry
   * is sent back as it came, since the merchant matches it exactly).
   * @returns `asset` and `payTo` in their canonical form (EVM: EIP-55), which budgets and the record count by
   * @throws {PaymentRefusedError} an entry this wallet will not sign · {InsufficientFundsError} the wallet holds less · {NetworkError}
   */
  check(entry: ExactRequirement): Promise<{ asset: string; payTo: string }>
  /**
   * Signs the transfer of `entry.amount` of `entry.asset` to `entry.payTo`, valid from now for
   * `entry.maxTimeoutSeconds` (nothing is sent, nothing stored).
   * @throws {KeystoreError} the key cannot be unlocked
   */
  sign(entry: ExactRequirement): Promise<ExactPayload>
  /**
   * Gas of a one-off `exact` payment in the token `asset` against a channel in it, and the node's fee
   * per gas now: what `buy --expect N` weighs (DESIGN §14).
   * @throws {NetworkError} the node is unreachable
   */
  gas(asset: string): Promise<PaymentGas>
}

/** Gas of the two ways to pay a token on an EVM network (estimates, see the family's constants). */
export interface PaymentGas {
  /** One exact payment: an EIP-3009 `transferWithAuthorization` (submitted, and paid for, by the merchant's facilitator). */
  exact: bigint
  /** A channel in the token: the payer's approve and open, and the payee's close with one voucher. */
  channel: bigint
  /** What the node asks per gas now (EIP-1559 max fee, else the gas price), in wei. */
  feePerGas: bigint
}

/** A buyer's payments through a hub: what `buy` needs of the family's {@link LockScheme} (core/scheme/hub.ts). */
export interface RoutedPayer {
  /**
   * An open channel of this wallet to the hub at `hubAddress` that can pay `amount` (the price
   * plus the hub's fee, base units) on a fresh lane, beside every other lane it holds. From the
   * database only; undefined for an address that is not one.
   */
  payable(hubAddress: string, amount: bigint): ChannelRecord | undefined
  /**
   * Pays `amount` (base units) to `payee` through the hub at `hubUrl` and waits for the secret
   * (`LockScheme.payVia`: the conditional voucher is committed before it leaves).
   * @throws {PaymentRefusedError} the hub refused or asks more than `o.maxFee` · {InsufficientFundsError} · {NetworkError}
   */
  payVia(hubUrl: string, payee: string, amount: bigint, o?: PayViaOptions): Promise<RoutedPayment>
}
