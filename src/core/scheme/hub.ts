/**
 * Payments through a hub (issue 12, DESIGN §11): what a family with hash locks (EVM) offers
 * the commands and the hub transport (core/transports/hub), so that neither names a family.
 * The flow, the wire forms and the fee rule are in core/channel/lock.ts. Amounts are bigint
 * base units; times are unix seconds of the chain.
 */
import type { FeePolicy, HubInfo } from '../channel/lock.js'

/** An HTTP answer of a hub or payee endpoint. */
export interface LockAnswer {
  status: number
  body: Record<string, unknown>
}

/** `channels pay --via`: one payment through a hub, and its proof. Amounts in base units. */
export interface RoutedPayment {
  /** sha256 of the secret. */
  hash: string
  /** The preimage: the hub could only learn it from the payee, so it proves the payee was paid. */
  secret: string
  payee: string
  amount: bigint
  fee: bigint
  /** The payer's channel to the hub and the lane of the payment. */
  channelId: string
  lane: bigint
  asset: string
  hub: string
  /** The payer's lock (timeLockMax, unix seconds). */
  timeLock: number
  /** The conditional voucher was replaced by an unconditional one at the hub (else `channels sync` retries). */
  unlocked: boolean
  /**
   * With {@link PayViaOptions.unlockInBackground}: settles (never rejects) with whether the hub took the
   * unconditional voucher; `unlocked` is false until then.
   */
  unlocking?: Promise<boolean>
}

export interface PayViaOptions {
  /** The payee's secp256k1 public key (0x hex); default: asked of the hub and checked against the payee's address. */
  payeePubkey?: string
  /** Refuse a hub fee above this, base units (default 5 % of the amount). */
  maxFee?: bigint
  /** Seconds from now to the payer's timeLockMax; default the hub's minLock + margin + 120. */
  lockSeconds?: number
  /** The hub's description (`GET <hub>/`) when the caller has read it already (buy's choice of a hub); else it is asked. */
  info?: HubInfo
  /**
   * Return as soon as the hub answered the secret; the unconditional voucher replacing the conditional one goes to
   * the hub meanwhile (`RoutedPayment.unlocking`). `buy` retries the request with the proof at the same time: one
   * round trip less before the resource. The caller awaits `unlocking` before it ends.
   */
  unlockInBackground?: boolean
  /**
   * Runs inside the write transaction of the payer's conditional voucher, after its insert, with the voucher and
   * the hub's fee (base units): `buy` checks its budgets and records the purchase there (issue 13 §3). A throw
   * refuses the payment before anything leaves: the voucher is rolled back and the payment's row marked refused.
   */
  onCommit?: (p: { channelId: string; lane: bigint; nonce: bigint; fee: bigint }) => void
}

/** `channels hub`'s terms. */
export interface HubPolicy extends FeePolicy {
  /** Least seconds from now to a payer's timeLockMax. */
  minLock: number
  /** T1 − T2, seconds. */
  margin: number
  /** Least settle delay of a payer's channel the hub learns, seconds. */
  minSettleDelay: number
}

/** One payment as `channels hub status` shows it. */
export interface HubPaymentView {
  hash: string
  state: string
  payee: string
  amount: bigint
  fee: bigint
  inChannel?: string
  outChannel?: string
  inUnlocked: boolean
  outUnlocked: boolean
}

/** `channels hub status`: in-flight payments, fees earned, liquidity per channel (base units). */
export interface HubSummary {
  address: string
  network: string
  payments: { pending: number; fulfilled: number; refused: number; expired: number }
  /** Fees of fulfilled payments. */
  feesEarned: bigint
  /** What is locked on in-flight payments (amount + fee in, amount out). */
  inFlight: { inbound: bigint; outbound: bigint }
  channels: { channelId: string; direction: 'inbound' | 'outbound'; peer: string; deposit: bigint; spent: bigint; available: bigint; conditional: bigint; endpoint?: string }[]
  recent: HubPaymentView[]
}


/** The hub service's logic behind its HTTP routes (`channels hub`); no method throws for a refusal. */
export interface HubNode {
  readonly policy: HubPolicy
  /** `GET /`: network, address, contract, fee policy and lock terms. */
  info(): HubInfo
  /** `GET /payees/<address>`: the payee's public key, read from its endpoint. */
  payee(address: string): Promise<LockAnswer>
  /** `POST /lock`: take the payer's conditional voucher, forward the hub's, answer the secret. */
  lock(body: unknown): Promise<LockAnswer>
  /** `POST /unlock`: the payer's unconditional voucher replacing its conditional one. */
  unlock(body: unknown): Promise<LockAnswer>
  /** `GET /lock/<hash>[?challenge=<0x hex>]`: a payment's state, and once fulfilled `proof` = sha256(secret ‖ challenge) (core/channel/secret.ts secretProof). */
  payment(hash: string, challenge?: string): LockAnswer
  /** After a restart and periodically: finish or release what a crash interrupted; expire passed locks. @throws {NetworkError} */
  recover(): Promise<void>
  /** `channels hub status`. */
  summary(recent?: number): HubSummary
}

/** What a family with hash locks adds (EVM); absent where channels have none (Bitcoin two1). */
export interface LockScheme {
  /** `channels pay --via`: pays `amount` to `payee` through the hub at `hubUrl`. */
  payVia(hubUrl: string, payee: string, amount: bigint, o?: PayViaOptions): Promise<RoutedPayment>
  /** `channels hub`: the hub of this wallet under `policy`. */
  hub(policy: HubPolicy): HubNode
  /** `channels sync`: settles routed payments the hub fulfilled meanwhile and expires passed locks. @returns what changed, per channel */
  syncRouted(): Promise<{ channelId: string; change: string }[]>
  /** Expires held locks whose time passed unredeemed. @returns what changed, per channel */
  expire(): Promise<{ channelId: string; change: string }[]>
}
