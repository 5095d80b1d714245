/**
 * The payee's half of the x402 `channel` scheme (DESIGN §2, §6): what a family hands a
 * transport that sells (transports/http402/server.ts) so that it never names a family.
 * Modelled on x402's `SchemeNetworkServer`: the transport owns HTTP (routes, statuses,
 * the 402 envelope, decoding `PAYMENT-SIGNATURE`, serving, refunding a failed request);
 * the family owns what it offers ({@link X402Payee.requirement}), whom it accepts
 * payments for ({@link X402Payee.offers}), the acceptance rules of a payment
 * ({@link X402Payee.accept}: DESIGN §7, only what the chain would redeem) and the
 * cooperative close ({@link X402Payee.answerClose}).
 *
 * Amounts are bigint base units (wei, token base units, satoshis); times are seconds.
 * Obtained from {@link ChannelScheme.seller} (core/scheme/index.ts).
 */
import type { ChannelRecord, Store } from '../store/index.js'
import type { Voucher } from '../channel/voucher.js'
import type { ChannelExtra, ChannelPayload, ChannelRequirement } from './x402.js'

/**
 * The signer recovered from a payment's voucher under one verifying contract (the
 * EIP-712 domain of an EVM voucher), or why there is none: what the transport's header
 * check (transports/http402/verify-pool.ts, maybe on a worker thread) hands back to
 * {@link X402Payee.accept}, which uses it only when `contract` is the channel's.
 */
export type Recovered = { contract: string; signer: string } | { contract: string; error: string }

/**
 * What the transport's header check recovers beside the event loop for a family whose
 * payments carry a signature to recover (EVM: the EIP-712 domain of its vouchers). Plain
 * data, so it can travel to worker threads with each header.
 */
export interface SignerDomain {
  /** The CAIP-2 network whose payments are recovered under this domain (others are not). */
  network: string
  /** EIP-712 domain `chainId`. */
  chainId: bigint
  /** EIP-712 domain `verifyingContract`: the PaymentChannels address the payee's channels use. */
  contract: string
}

/**
 * The payee's acceptance terms for channels it has not seen yet (`channels serve`'s
 * flags; the transport applies the defaults). A family reads the fields it has.
 */
export interface SellerPolicy {
  /**
   * What prices and deposits count, as a 402 entry's `asset` names it (EVM: an ERC-20 token's
   * address, issue 13 §1); undefined: the network's native coin. Only channels in it are accepted.
   */
  asset?: string
  /** Smallest deposit of a new channel, base units (the 402's `extra.minDeposit`). */
  minDeposit: bigint
  /** EVM: smallest settle delay of a new channel, seconds. */
  minSettleDelay: number
  /** Bitcoin: least time from now to a new channel's expiry, seconds. */
  minExpirySeconds: number
  /** Bitcoin: payments are refused (and the watcher closes) this long before the expiry, seconds. */
  closeMargin: number
  /** Bitcoin: confirmations a deposit needs. */
  minConf: number
  /** Hubs that pay this payee (`serve --hub`), listed in the 402 as `extra.hubs` with `extra.payToPubkey` (issue 12). */
  hubs?: { endpoint: string; address: string }[]
  /** Least seconds from now to the timeLockMax of a hub's conditional voucher (`serve --min-lock`). Default 120. */
  minLock?: number
}

/** An HTTP answer of `POST <endpoint>/lock`. */
export interface LockAnswer {
  status: number
  body: Record<string, unknown>
}

/** An HTTP answer of the cooperative-close endpoint (`POST <endpoint>/close`); refusals are `{error, reason}`. */
export interface CloseAnswer {
  status: 200 | 403 | 409 | 503
  body: Record<string, unknown>
}

/** One wallet's payee side on one network, for one paywall (see the module comment). */
export interface X402Payee {
  /** The CAIP-2 network it sells on (`eip155:31337`, `bip122:…`). */
  readonly network: string
  /** The wallet's database: the transport reads channel state from it (`GET …/channels/<id>`, corrective 402s) and refunds failed requests. */
  readonly store: Store
  /**
   * Where the transport's header check recovers a payment's signer, on a worker thread
   * when there are any (`--verify-threads`); absent when the family has nothing to
   * recover off the event loop (Bitcoin: payments are checked against the chain and
   * the payee's transaction rules in {@link accept}).
   */
  readonly signerDomain?: SignerDomain
  /**
   * Recovers a voucher's signer under {@link signerDomain} on the event loop (a worker
   * thread runs the same through the worker module `channels serve` names).
   * @returns the signer's address
   * @throws for a malformed or malleable signature (the header check records the message)
   */
  recoverSigner?(voucher: Voucher, domain: SignerDomain): string
  /** The channel endpoint's description (`GET <endpoint>`) besides network and price: the base `payTo`, `contract` where channels live in one, `pubkey` where hubs can pay it. */
  endpointInfo(): { payTo: string; contract?: string; pubkey?: string }
  /**
   * `POST <endpoint>/lock` (issue 12, DESIGN §11): a hub's conditional voucher and the payer's
   * secret encrypted to this wallet; stores the voucher with the secret and answers it
   * (200 `{hash, secret}`, 400, 409, 503). Absent on a family without hash locks.
   */
  acceptLock?(body: unknown): Promise<LockAnswer>
  /**
   * A routed purchase (`payload.type: "routed"`): charges `price` to the payment of `hash` a hub
   * forwarded, when `secret` opens it and it is worth at least the price and unused; committed before serving.
   * @throws {VoucherRefusedError} `wrong_secret`, `unknown_payment`, `already_used`, `amount_too_low`
   */
  acceptRouted?(hash: string, secret: string, price: bigint): Promise<{ channel: ChannelRecord; charged: bigint }>
  /** Gives a routed purchase back after the resource failed. */
  refundRouted?(channel: ChannelRecord, hash: string, price: bigint): void
  /**
   * The `accepts` entry offered now for one request at `price`: scheme `channel`, this
   * network, the asset, `payTo` (Bitcoin: a fresh payee key per channel, with
   * `extra.payeeIndex`) and the family's terms in `extra`, with `extra` merged last
   * (e.g. `{ channelState }` for a corrective 402).
   * @param price - base units
   */
  requirement(price: bigint, extra?: Partial<ChannelExtra>): ChannelRequirement
  /**
   * Whether an `accepted` entry echoed by a payer names a payee this paywall offers or
   * has offered (EVM: `payTo` is the wallet's address; Bitcoin: an offered payee key at
   * its index). The transport checks the network and price itself.
   */
  offers(accepted: ChannelRequirement): boolean
  /**
   * Verifies a payment against every acceptance rule of the family (DESIGN §7: only what
   * the chain would redeem) and commits it with the new `charged` before resolving; a
   * refused payment writes nothing.
   * @param price - base units charged for this request (0n for a pure top-up, `POST <endpoint>/voucher`)
   * @param accepted - the entry the payer echoed (Bitcoin: names the payee key index of a new channel)
   * @param recovered - the signer the transport's header check recovered under {@link signerDomain}, if any
   * @param o.durable - false: resolve once the payment's transaction has committed, before the WAL's fdatasync
   *   (core/store/group-commit.ts), for a caller that makes it durable itself (a later durable group commit) before
   *   anything depending on it leaves — the BTP claim receiver, which takes one channel's claims one commit after
   *   another and answers each after a durable commit. Default true. A family may commit durably regardless.
   * @returns the channel as stored after the payment, and its `charged`
   * @throws {VoucherRefusedError} a rule refused it (core/channel/accept.ts; `corrective` carries the channel's state when it is ours)
   * @throws {ChannelsError} with exit code 6 (NetworkError): the node is unreachable
   */
  accept(payload: ChannelPayload, price: bigint, accepted: ChannelRequirement, recovered?: Recovered, o?: { durable?: boolean }): Promise<{ channel: ChannelRecord; charged: bigint }>
  /**
   * The payee's side of `POST <endpoint>/close` on an inbound channel the transport found
   * in {@link store} (it answered 404 for others): checks that `signature` is the payer's
   * on the close request (core/channel/close-request.ts), then closes with the best
   * voucher (one close at a time per channel). 200 `{channelId, transaction, redeemed}`
   * (also for a channel closed already), 403 wrong signature, 409 the chain or this
   * wallet refuses the close now, 503 node unreachable.
   * Never throws for a refusal; unexpected errors propagate (HTTP 500).
   */
  answerClose(channel: ChannelRecord, signature: string): Promise<CloseAnswer>
  /**
   * In-band reconciliation (issue 11 §3): the request this paywall adds to the receipt of a
   * payment on `channel` (PAYMENT-RESPONSE `extra.reconcile`, wire form) when it holds vouchers
   * on two lanes or more of it, else undefined. From the database only. Absent on a family without lanes.
   */
  reconcileRequest?(channel: ChannelRecord): object | undefined
}
