/**
 * The seam between the family-independent wallet and a chain family (DESIGN §2):
 * what a family (families/evm, families/bitcoin) implements so that commands, and
 * later the manager API, the hub and the transports, never name a family.
 *
 * Modelled on x402's `SchemeNetworkClient`/`SchemeNetworkServer`: a
 * {@link ChannelFamily} is the cheap, static description of a family (its kind and
 * CAIP-2 namespace); {@link ChannelFamily.load} imports its chain libraries on demand and
 * gives the {@link ChannelScheme} of one wallet on one network: the {@link PayerScheme}
 * half (open, pay, collect, …) and the {@link PayeeScheme} half (check, add, redeem,
 * close, watch). A capability a family lacks is an absent optional method (`settle`,
 * `fund`) plus a sentence in {@link ChannelScheme.unsupported} saying what to do instead,
 * never an `if (bitcoin) throw` in shared code.
 *
 * Amounts are bigint base units (wei, token base units, satoshis); times are Unix
 * seconds. Results are the `--json` shapes of the commands after {@link toJson}.
 */
import type { Config, NetworkConfig } from '../config.js'
import type { Asset } from '../asset.js'
import type { Family } from '../config-fields.js'
import type { Store } from '../store/index.js'
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import type { ChannelReader, ChannelStatus } from '../channel/reader.js'
import type { SyncReport, RefreshResult, DeliverVoucher } from '../channel/sync.js'
import type { Voucher } from '../channel/voucher.js'
import type { ReconcileRequest, ReconcileResponse } from '../channel/reconcile.js'
import type { Settler, SettlerEvent } from '../channel/settler.js'
import type { BuyerOptions, X402Payer } from './buyer.js'
import type { SellerPolicy, X402Payee } from './seller.js'
import type { LockScheme } from './hub.js'

/** The families this build knows (the `kind` of a network in config.json; one union with config's `Family`). */
export type FamilyKind = Family

/** One wallet on one network: what every scheme is made from. */
export interface WalletContext {
  config: Config
  store: Store
  network: ReturnType<Config['network']>
  /** `--key`: the key's name (default: the default key). */
  key?: string
  /** How to reach a merchant's channel endpoint (the transport hands it in; families never import one). */
  merchant: MerchantLink
  /** A wallet handed in by a library user instead of a key of config.json (`PaymentChannelManager`); `key` is then ignored. */
  wallet?: InjectedWallet
}

/**
 * The secret of a wallet an embedding program holds itself (the manager-API seed's Wallet
 * dependency): a hex private key (EVM) or a BIP-39 mnemonic (derived at the family's path).
 * `name` is what channel rows record as their key.
 */
export type InjectedWallet = { name: string } & ({ privateKey: string; mnemonic?: undefined } | { mnemonic: string; privateKey?: undefined })

/** A transport's calls to a merchant outside a purchase (transports/http402/merchant.ts). */
export interface MerchantLink {
  /** GETs JSON; the answer's status and JSON body. @throws {NetworkError} unreachable */
  get(url: string): Promise<{ status: number; json: Record<string, unknown> }>
  /**
   * POSTs JSON; the answer's status and JSON body. `o.noRetry`: a request that must not be retried (a hub's lock),
   * never sent on a socket its server may be closing as it idles (then it is unknown whether it arrived).
   * @throws {NetworkError} unreachable
   */
  post(url: string, headers: Record<string, string>, body?: string, o?: { noRetry?: boolean }): Promise<{ status: number; json: Record<string, unknown> }>
  /** Delivers a committed voucher to the channel's bound endpoint and records the acknowledgement; the merchant's `charged`. */
  deliver: DeliverVoucher
}

/** A chain family's static description, loaded without its chain libraries (see families/index.ts). */
export interface ChannelFamily {
  kind: FamilyKind
  /** The CAIP-2 namespace of its networks (`eip155`, `bip122`). */
  namespace: string
  /** The wallet of `ctx` on this family: imports ethers or bitcoinjs-lib on first call. */
  load(ctx: WalletContext): Promise<ChannelScheme>
  /** The family's own rows of `channels status <channel>` (no chain library, no network). */
  details(c: ChannelRecord): DetailRow[]
  /**
   * What an amount on `network` counts (its CAIP-19 id, symbol, decimals, units): the
   * network's native coin, or the token `address` names (a channel's or a 402 entry's
   * `asset`; the EVM zero address and Bitcoin's `"sat"` name the native coin). Synchronous
   * and cheap: no chain library, no network.
   * @example families.evm.asset(devnet).id // 'eip155:31337/slip44:60'
   */
  asset(network: NetworkConfig, address?: string): Asset
  /**
   * Parses an amount a person typed on `network` (a `--price`, `--deposit`, budget):
   * base units, or a decimal with a unit of the native coin (`0.01eth`, `1000sat`) or,
   * on EVM, of a token the network's config names (`0.001usdc`). With `asset` (a `--asset`
   * value: a named asset or a token address; or a channel's `asset`) the amount must be in it.
   * Synchronous, no chain library, no network.
   * @returns `value` in base units; `asset`: the token as a 402 entry or a channel names it
   *   (EVM: its address), undefined for the native coin
   * @throws {UsageError} a malformed amount, a unit of no asset here, too many decimals, an unknown `asset`
   * @example families.evm.parseAmount(devnet, '0.001usdc', '--price') // {value: 1000n, asset: '0x…'}
   */
  parseAmount(network: NetworkConfig, input: string, what: string, asset?: string): { value: bigint; asset?: string }
  /**
   * The family's fields of a channel's `--json` status, beside the common ones. Every family
   * gives `contract`, `settleDelay` and `expiry` (the shape of the v3 output, which scripts read).
   */
  statusJson(c: ChannelRecord): FamilyStatusJson
  /**
   * Base units of the deposit that no payment may spend: on Bitcoin the fee every payment
   * leaves for the payee's close (`closeFee`), on EVM 0. Subtracted from `available`.
   */
  closeReserve(c: ChannelRecord): bigint
}

/**
 * The family's part of a channel's `--json` status, in the shape every release has printed.
 * EVM: the PaymentChannels contract, the settle delay in seconds, `expiry: null`. Bitcoin:
 * the deposit address as `contract`, `settleDelay: 0`, the expiry in unix seconds.
 */
export interface FamilyStatusJson {
  contract: string
  settleDelay: number
  expiry: number | null
}

/** A labelled value for people: an amount in the channel's asset, a time, or text. */
export type DetailRow = [label: string, value: { amount: bigint } | { time: number | undefined } | string]

/** A progress line for people (stderr; none with --quiet or --json). The core never prints. */
export type Progress = (line: string) => void

// ── Payer ────────────────────────────────────────────────────────────────────────

/**
 * A conditional voucher's locks (DESIGN §11): redeemable only with the preimage of
 * `secretHash` (sha256) and only until `timeLockMax` (unix seconds). EVM only; a lane that
 * holds a voucher already takes none (a conditional payment goes on a fresh lane).
 */
export interface HashTimeLock {
  /** 0x + 64 hex: sha256 of the secret. */
  secretHash: string
  /** Unix seconds after which the voucher can no longer be redeemed. */
  timeLockMax: bigint
}

/** `channels open`. Options of another family are a UsageError (exit 2) naming the right ones. */
export interface OpenOptions {
  /** EVM: the payee's address; Bitcoin: the payee's channel pubkey (hex). */
  payee: string
  /** Base units. */
  deposit: bigint
  /** Merchant channel endpoint to bind (http(s) URL). */
  endpoint?: string
  /** EVM: ERC-20 token address (default the native coin). */
  asset?: string
  /** EVM: seconds between settle and collect (default config buy.settleDelay). */
  settleDelay?: number
  /** Bitcoin: seconds from now until the payer may take the refund (default config buy.bitcoinExpiry). */
  expirySeconds?: number
  /** Bitcoin: deposit to P2SH (two1) instead of P2WSH. */
  p2sh?: boolean
  /** Bitcoin: wait for the deposit to confirm (default true). */
  wait?: boolean
  onProgress?: Progress
}

export interface OpenResult {
  channel: ChannelRecord
  status: ChannelStatus
  /** The open (EVM) or deposit (Bitcoin) transaction. */
  transaction: string
  /** Bitcoin: when the payer may take the refund (Unix seconds). */
  refundAfter?: number
}

/** `channels pay` / `voucher create`: the next voucher on a channel. */
export interface PayOptions {
  /** Lane (EVM: any; Bitcoin: 0 only, else a UsageError). */
  lane: bigint
  /** Deliver to the endpoint bound to the channel (when one is bound). */
  deliver: boolean
}

export interface PayResult {
  channel: ChannelRecord
  voucher: VoucherRecord
  /** What this voucher adds (Bitcoin: may exceed the amount asked, the payee output's dust threshold). */
  paid: bigint
  delivered: boolean
  /** What the merchant charged, when delivered. */
  charged?: bigint
}

export interface CollectResult {
  channelId: string
  asset: string
  transaction: string
  paidToPayee: bigint
  refundedToPayer: bigint
  /** Bitcoin: the refund transaction's fee (EVM: gas is not taken from the channel). */
  fee?: bigint
}

export interface SettleResult {
  channelId: string
  transaction: string
  /** When `collect` becomes possible (Unix seconds). */
  settleAt: number
}

export interface FundResult {
  channelId: string
  asset: string
  added: bigint
  deposit: bigint
  transaction: string
}

/**
 * `channels close`, by the payer (asking the merchant) or the payee. `result` is
 * `closed` when the channel closed; otherwise the payer fell back (EVM: to a settle,
 * `settleAt` and `fallbackReason` say when and why).
 */
export interface CloseResult {
  channelId: string
  asset: string
  result: string
  transaction: string
  /** Who closed: the payee on its own (`payee`), or the merchant at the payer's request (`requested`). */
  by: 'payee' | 'requested'
  paidToPayee?: bigint
  refundedToPayer?: bigint
  /** Bitcoin: the close transaction's fee. */
  fee?: bigint
  settleAt?: number
  fallbackReason?: string
}

/** The payer's half: opening, paying, taking the refund. */
export interface PayerScheme {
  open(o: OpenOptions): Promise<OpenResult>
  /** The next voucher on `target` (channel id prefix or merchant URL) adding `delta`, committed, then delivered or not. */
  pay(target: string, delta: bigint, o: PayOptions): Promise<PayResult>
  /**
   * A voucher for `amount` in total on the lane (`voucher create`), committed, never delivered.
   * `o.reserved`: paid from the funds `reserve` set aside (what it adds leaves `reserved`); without
   * it the voucher must fit what is available beside every reservation (core/channel/funds.ts).
   */
  createVoucher(prefix: string, amount: bigint, lane: bigint, o?: { reserved?: boolean; lock?: HashTimeLock }): Promise<VoucherRecord>
  collect(prefix: string): Promise<CollectResult>
  /** Absent on families without a settlement period (see {@link ChannelScheme.unsupported}). */
  settle?(prefix: string): Promise<SettleResult>
  /** Absent on families whose deposit is fixed at open. */
  fund?(prefix: string, amount: bigint, onProgress?: Progress): Promise<FundResult>
  /**
   * `channels reserve`: sets `amount` aside for payments to come (the seed's ReserveFunds, Lotus
   * FundManager); when the channel lacks it, queues a top-up and sends it at once if no deposit is
   * pending (never waits for a block). Absent: see {@link ChannelScheme.unsupported}('funds').
   * @throws {InsufficientFundsError} the family cannot top this channel up and its deposit lacks it (shortfall)
   */
  reserve?(prefix: string, amount: bigint): Promise<FundsResult>
  /** `channels release`: gives back reserved funds (the seed's ReleaseFunds). @throws {UsageError} more than is reserved */
  release?(prefix: string, amount: bigint): Promise<FundsResult>
  /**
   * `channels lookup`: the open outbound channels to `payee` with at least `minAvailable` (default:
   * any) free funds, most available first (the seed's Lookup, Lotus `PaychGet` without creating).
   * @throws {NotFoundError} none (exit 2)
   */
  lookup?(payee: string, minAvailable?: bigint): Promise<LookupResult[]>
  /**
   * `channels lane new`: a lane no voucher of the channel uses and no earlier call handed out,
   * recorded so two processes never get the same one (the seed's AllocateLane). Absent on
   * families with one lane.
   */
  allocateLane?(prefix: string): Promise<LaneResult>
}

/** `channels reserve` / `release`. Amounts in base units. */
export interface FundsResult {
  channelId: string
  asset: string
  /** Set aside on the channel now, in total. */
  reserved: bigint
  /** `confirmed − spent − reserved`: what a payment without a reservation may still use. */
  available: bigint
  /** Deposits in flight. */
  pending: bigint
  /** The top-up deposit in flight (sent by this call or before), if any. */
  pendingTx?: string
  /** Top-up waiting for the pending deposit; sent as one deposit once it is mined. */
  queued: bigint
  /** reserve: what this call added to the top-up (0 when the channel covered it). */
  topUp?: bigint
  /** reserve: the deposit this call broadcast, if it sent one (else the top-up waits behind `pendingTx`). */
  sent?: string
}

/** One channel of `channels lookup`. */
export interface LookupResult {
  channelId: string
  asset: string
  /** Base units a payment without a reservation may use. */
  available: bigint
}

/** `channels lane new`. */
export interface LaneResult {
  channelId: string
  lane: bigint
}

// ── Payee ────────────────────────────────────────────────────────────────────────

export interface VoucherCheckResult {
  valid: boolean
  reason?: string
  /** The voucher is this wallet's own (it is the channel's payer). */
  own: boolean
  /** What redeeming it now adds on chain, base units. */
  redeemable: bigint
  /** What it adds over the best voucher held for its lane. */
  delta: bigint
  /** Valid and redeemable now: false for a hash-locked voucher checked without its secret (Lotus CheckSpendable). */
  spendable: boolean
  /** The channel's asset (for rendering). */
  asset: string
}

export interface AddResult {
  channelId: string
  voucher: Voucher
  /** What it adds over what was held, base units. */
  delta: bigint
  asset: string
}

export interface RedeemResult {
  /** The channel's whole id (for rendering: the command is given a prefix). */
  channelId: string
  transactions: string[]
  redeemed: bigint
  alreadyRedeemed: { lane: bigint; nonce?: bigint; transaction?: string }[]
  asset: string
}

/**
 * The payee's half: judging and storing vouchers, redeeming them, closing. A voucher is
 * one of the scheme's family (decoded for its network, `readVoucher`); one of the other
 * family is refused with an InvalidVoucherError (`voucherOfFamily`).
 */
export interface PayeeScheme {
  /**
   * `voucher check`: never stores anything. `secret` (hex) is the preimage of a hash-locked
   * voucher (EVM); a family without hash locks refuses one with a UsageError.
   */
  check(prefix: string, v: Voucher, secret?: string): Promise<VoucherCheckResult>
  /** `voucher add`: stores `v` if it adds at least `minDelta`; a hash-locked one (EVM) only with its `secret` (hex), stored beside it. */
  add(prefix: string, v: Voucher, minDelta: bigint, secret?: string): Promise<AddResult>
  /** `voucher submit`: redeems `v` (with the `secret` of its hash lock) or the best stored vouchers on chain; idempotent. */
  redeem(prefix: string, v?: Voucher, secret?: string): Promise<RedeemResult>
}

// ── Lanes, merges, reconciliation (issue 11 §3; absent on one-lane families) ─────

/** `voucher merge`: which lanes to merge into which, and for how much. */
export interface MergeOptions {
  /** The lane the merge voucher is on. */
  into: bigint
  /** The lanes it merges. */
  lanes: bigint[]
  /** Base units, at most the lanes' sum; default the sum. */
  amount?: bigint
}

/** What a family with lanes adds (EVM); absent where every channel has one lane (Bitcoin). */
export interface LaneScheme {
  /** Payer, `voucher merge`: ONE voucher merging `lanes` into `into`, committed (never delivered); and the lanes' sum, base units. */
  mergeVoucher(prefix: string, o: MergeOptions): Promise<{ voucher: VoucherRecord; sum: bigint }>
  /** Payer, `reconcile answer`: a merged voucher worth `reqVal` when the discount meets config `reconcile.minDiscount`, else a Failure. */
  answerReconcile(request: ReconcileRequest): Promise<ReconcileResponse>
  /** Payee, `reconcile request`: its unredeemed best vouchers of a channel and the value asked (default: the sum less the gas saved). */
  reconcileRequest(prefix: string, reqVal?: bigint): Promise<ReconcileRequest & { sum: bigint }>
  /** Payee, `reconcile accept`: stores the combined voucher of `response` to `request`; what it changes (≤ 0 by the discount). */
  acceptReconcile(request: ReconcileRequest, response: ReconcileResponse): Promise<AddResult>
}

// ── Both ─────────────────────────────────────────────────────────────────────────

/** What `deploy` reports (a family whose channels live in a contract). */
export interface DeployResult {
  /** Config name of the network. */
  network: string
  /** CAIP-2 id. */
  caip2: string
  /** EIP-55 address of PaymentChannels. */
  contract: string
  /** Hash of the deployment transaction; null when the code was there already. */
  transaction: string | null
  deployed: boolean
}

/** One wallet on one network of one family. */
export interface ChannelScheme extends PayerScheme, PayeeScheme {
  readonly kind: FamilyKind
  /** What people call this family's voucher: `voucher` (EVM), `payment` (two1's half-signed payment transaction). */
  readonly voucherName: string
  /** Whether a channel has lanes (EVM); else every voucher is on lane 0. */
  readonly lanes: boolean
  /** The family's channel manager (read side shared by all families). */
  readonly reader: ChannelReader
  /** Lanes, merges and reconciliation; absent on a family whose channels have one lane. */
  readonly laneOps?: LaneScheme
  /** Payments through a hub (hash-time-locked, DESIGN §11); absent on a family without hash locks. */
  readonly locks?: LockScheme
  /** Why an absent capability is absent, and what to do instead (a UsageError message). */
  unsupported(capability: 'settle' | 'fund' | 'deploy' | 'funds' | 'lane' | 'hub'): string
  /** `channels deploy`: the family's channel contract on this network, recorded in config. Absent where channels need no contract. */
  deploy?(onProgress?: Progress): Promise<DeployResult>
  /** `channels close <target>` by whichever side this wallet is. */
  close(target: string, onProgress?: Progress): Promise<CloseResult>
  /** `channels sync`: chain, then merchant; every channel not final when `target` is absent. */
  sync(target?: string): Promise<SyncReport[]>
  /** The chain half of sync under a deadline (`channels list`). */
  refresh(o: { timeoutMs: number; direction?: 'outbound' | 'inbound' }): Promise<RefreshResult>
  /** Extra key rows for `keys show` on this network (Bitcoin: the P2WPKH funding address of the key's pubkeys). */
  keyDetails(pubkeys: Record<string, string> | undefined): Promise<{ fundingAddress?: string }>
  /**
   * `buy`'s defaults from config.json's buy section for this family (EVM buy.maxPrice/buy.deposit,
   * Bitcoin buy.bitcoinMaxPrice/buy.bitcoinDeposit): the max price in base units, and the
   * deposit as written with the key it came from (for the error of a bad value).
   */
  buyDefaults(): { maxPrice: bigint; deposit?: { value: string; key: string }; maxFee?: bigint }
  /** `buy`: this wallet as the payer of x402 `channel` 402s (core/scheme/buyer.ts), opening channels with `o`. */
  buyer(o: BuyerOptions): Promise<X402Payer>
  /** Unlocks the key (a prompt when needed); the paywall and buy start it early. */
  signer(): Promise<unknown>
  /** Before serving: the node or contract is the one configured. @throws {NetworkError} · {ContractMismatchError} */
  checkChain(): Promise<void>
  /** Warnings for a payee about to serve (EVM: it cannot pay gas for one close). */
  serveWarnings(): Promise<ServeWarning[]>
  /** The payee's watcher: settles/closes channels before the payer can take their deposit. */
  watch(o: { intervalSeconds: number; closeMargin: number }, onEvent: (e: SettlerEvent) => void): Settler
  /** Fields of the paywall's ready line that name where payments go (`payTo`, and `asset` or `contract`). */
  serveInfo(): Promise<{ payTo: string; asset?: string; contract?: string }>
  /**
   * The payee side of the x402 `channel` scheme for one paywall (`channels serve`): what
   * it offers, the rules it accepts payments by, the cooperative close (core/scheme/seller.ts).
   * @throws {KeystoreError} Bitcoin: the key's chain node cannot be unlocked (a fresh payee key per channel)
   */
  seller(policy: SellerPolicy): Promise<X402Payee>
  /**
   * What an Interledger claim (transports/btp/claim.ts, DESIGN §12) carries beside a voucher to
   * prove it: the digest the voucher's signature signs under this wallet's channel contract
   * (EVM: the EIP-712 digest, 0x + 64 hex), and the uncompressed public key (0x04 + 128 hex)
   * and address that signature recovers to. Pure: no node, no key. Absent on a family whose
   * vouchers are not signed digests (Bitcoin).
   * @throws {UsageError} a malformed or malleable signature, or a field out of its type's range
   */
  voucherProof?(v: Voucher): { digest: string; publicKey: string; signer: string }
}

/** A warning line of `serve` (stderr; with --json `{warning: {kind, ...data, message, fix}}`). */
export interface ServeWarning {
  kind: string
  message: string
  /** What to do about it. */
  fix: string
  /** Machine-readable details (decimal strings). */
  data: Record<string, string>
}

/** bigint fields as decimal strings (the wire and `--json` form); undefined fields dropped by JSON. */
export type Jsonified<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] extends bigint | undefined ? string | undefined : T[K] }

/** A result's bigints as decimal strings, one level deep (for `--json`). */
export function toJson<T extends object>(r: T): Jsonified<T> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? v.toString() : v
  return out as Jsonified<T>
}
