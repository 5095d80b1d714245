/**
 * `PaymentChannelManager`: the payment-channel manager API of the seed
 * (shared/seeds/payment-channel-manager-api.md, after Lotus `paychmgr`) for a program that
 * embeds `channels` instead of running the CLI. Its sixteen methods are the seed's, in
 * camelCase, with the seed's semantics; each is one call into the wallet of one chain family
 * (core/scheme's {@link ChannelScheme}), so the CLI and a library program run the same code.
 *
 * Constructed from the seed's two dependencies, a chain and a wallet, plus a store path:
 * ```ts
 * const pcm = new PaymentChannelManager({
 *   chain: { kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545' },
 *   wallet: { name: 'app', privateKey: '0x…' },
 *   store: '/var/lib/app/channels.db',
 * })
 * const { channel } = await pcm.create(payee, 10n ** 16n)
 * const { voucher, shortfall } = await pcm.voucherCreate(channel, 1000n, 0n)
 * ```
 * Settings (config.json: buy policy, `reconcile.minDiscount`, `redeem.*`) are read from the
 * store's directory (written with defaults if absent). Channels are named by id or a unique
 * id prefix; vouchers are {@link Voucher} objects or their encoded form (`voucher create`'s).
 *
 * Amounts are bigint base units (wei, token base units; satoshis); lanes and nonces bigint.
 * Errors are the CLI's (core/errors.ts, each with its exit code): UsageError, NotFoundError,
 * InsufficientFundsError (with `shortfall`), InvalidVoucherError, ChannelStateError, NetworkError.
 * A wallet handed in by a program works on EVM networks (Bitcoin keys live in a wallet home).
 */
import { dirname, resolve as resolvePath } from 'node:path'
import { mkdirSync } from 'node:fs'
import { Config, NetworkSchema, type NetworkConfig } from '../core/config.js'
import { Store } from '../core/store/index.js'
import { openDatabase } from '../core/store/db.js'
import type { ChannelRecord, VoucherRecord } from '../core/store/index.js'
import type { ChannelScheme, InjectedWallet } from '../core/scheme/index.js'
import type { BuyerOptions, X402Payer } from '../core/scheme/buyer.js'
import type { SellerPolicy, X402Payee } from '../core/scheme/seller.js'
import { fullStatus, type FullStatus } from '../core/channel/status.js'
import { decodeVoucher } from '../core/channel/voucher-wire.js'
import type { Voucher } from '../core/channel/voucher.js'
import { InsufficientFundsError, InvalidVoucherError, UsageError } from '../core/errors.js'
import { families } from '../families/index.js'
import { httpMerchant } from '../core/transports/http402/merchant.js'
import { ClaimSender, claimProof, type BtpConnection } from '../core/transports/btp/index.js'
import { claimReceiver } from '../core/transports/btp/receiver.js'

/** What a {@link PaymentChannelManager} is made from. */
export interface ManagerOptions {
  /**
   * The chain (seed: Chain): a network as config.json's `networks.<name>` holds it, e.g.
   * `{kind: 'evm', caip2: 'eip155:31337', rpcUrl, contract?}`; `name` names it in messages.
   */
  chain: NetworkConfig & { name?: string }
  /** The wallet (seed: Wallet): a hex private key or a BIP-39 mnemonic, and the name its channels record. */
  wallet: InjectedWallet
  /** Path of the SQLite database (created if absent; its directory holds config.json). */
  store: string
}

/** The seed's `PaychStatus`: one channel's funds. Amounts in base units. */
export interface ManagerStatus extends FullStatus {
  /** Seed `Channel`: the channel id. */
  channel: string
  /** Seed `Direction`. */
  direction: 'inbound' | 'outbound'
  /** Seed `From`: the payer. */
  from: string
  /** Seed `To`: the payee. */
  to: string
  /** The channel's state (DESIGN §3). */
  state: ChannelRecord['state']
  /** The asset's address (EVM: token, zero address for the native coin). */
  asset: string
}

/** The seed's `VoucherCreateResult`: the voucher, or null and the amount the channel lacks. */
export interface VoucherCreateResult {
  voucher: VoucherRecord | null
  /** Base units the channel would need on top of its funds; 0n when `voucher` is set. */
  shortfall: bigint
}

/**
 * This wallet as an Interledger peer's settlement (DESIGN §12): what the ILP plugin
 * (`channels/ilp`) pays a BTP peer with and is paid with. Obtained from
 * {@link PaymentChannelManager.ilpSettlement}.
 */
export interface IlpSettlement {
  /**
   * A claims sender (core/transports/btp/settle.ts) paying the peer behind `connection()` with
   * claims on the outbound channel `o.channel` (lane 0; each voucher committed before it leaves).
   * @param o.threshold - base units owed for fulfilled Prepares before `fulfilled()` sends a claim
   */
  sender(connection: () => BtpConnection, o: { channel: string; senderId: string; threshold: bigint }): ClaimSender
  /**
   * The claims receiver (core/transports/btp/receiver.ts): a BTP claim handler verifying and
   * committing claims through this wallet's payee, and its emitter of `CLAIM_RECEIVED`;
   * undefined when the settlement was asked for without a payee (`ilpSettlement(false)`).
   */
  receiver?: ReturnType<typeof claimReceiver>
}

/** The payment-channel manager API (seed: payment-channel-manager-api.md; Lotus `paychmgr`). */
export class PaymentChannelManager {
  private readonly config: Config
  private readonly store: Store
  private readonly network: NetworkConfig & { name: string }
  private schemePromise?: Promise<ChannelScheme>

  /** @throws {UsageError} the chain is not a valid network, or the store's directory cannot be made */
  constructor(private readonly options: ManagerOptions) {
    const { name = 'library', ...net } = options.chain
    const parsed = NetworkSchema.safeParse(net)
    if (!parsed.success) throw new UsageError(`Invalid chain for the manager: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}.`)
    this.network = { ...parsed.data, name }
    const path = resolvePath(options.store)
    mkdirSync(dirname(path), { recursive: true })
    this.config = new Config(dirname(path))
    this.store = new Store(openDatabase(path))
  }

  /** The wallet on the chain's family (loaded once; the family's chain library loads with it). */
  private scheme(): Promise<ChannelScheme> {
    this.schemePromise ??= families[this.network.kind].load({
      config: this.config, store: this.store, network: this.network, merchant: httpMerchant, wallet: this.options.wallet,
    })
    return this.schemePromise
  }

  /** This wallet's address on the chain. @throws {UsageError} an invalid wallet secret */
  async address(): Promise<string> {
    return (await this.scheme()).reader.address
  }

  /**
   * Seed `PaychCreate`: opens a channel from this wallet to `to` with `amt` deposited.
   * Waits for the open transaction (the channel id exists only once it is mined).
   * @param to - the payee's address
   * @param amt - the deposit, base units
   * @param opts.settleDelay - seconds between settle and collect (default config `buy.settleDelay`)
   * @param opts.asset - ERC-20 token address (default the native coin)
   * @returns the channel id and the open transaction's hash
   * @throws {InsufficientFundsError} the wallet holds less than `amt`
   * @throws {ContractMismatchError} the chain's contract is not the one this build ships
   */
  async create(to: string, amt: bigint, opts: { settleDelay?: number; asset?: string } = {}): Promise<{ channel: string; transaction: string }> {
    const r = await (await this.scheme()).open({ payee: to, deposit: amt, settleDelay: opts.settleDelay, asset: opts.asset })
    return { channel: r.channel.id, transaction: r.transaction }
  }

  /**
   * Seed `PaychAddFunds`: deposits `amt` more into an outbound channel (contract `deposit`).
   * @returns the deposit transaction's hash
   * @throws {ChannelStateError} not the payer, or the channel is not open
   */
  async addFunds(ch: string, amt: bigint): Promise<string> {
    const s = await this.scheme()
    if (!s.fund) throw new UsageError(s.unsupported('fund'))
    return (await s.fund(ch, amt)).transaction
  }

  /**
   * Seed `PaychReserveFunds` (Lotus FundManager `Reserve`): sets `amt` of the channel's funds
   * aside for a transaction in progress. When the available funds do not cover it, a top-up is
   * sent — or, while another deposit is pending, queued and merged into the next single deposit
   * — and this returns at once, never waiting for a block.
   * @returns the pending deposit's transaction hash, or null when the funds were already there
   * @throws {InsufficientFundsError} a family whose deposit is fixed (Bitcoin) lacks the funds
   */
  async reserveFunds(ch: string, amt: bigint): Promise<string | null> {
    const s = await this.scheme()
    if (!s.reserve) throw new UsageError(s.unsupported('funds'))
    const r = await s.reserve(ch, amt)
    // A top-up: the deposit this call sent, or the pending one it waits behind (queued, merged into the next).
    return r.topUp ? (r.sent ?? r.pendingTx ?? null) : null
  }

  /**
   * Seed `PaychReleaseFunds`: gives back `amt` of a reservation so another transaction can use it.
   * @throws {UsageError} `amt` exceeds what is reserved
   */
  async releaseFunds(ch: string, amt: bigint): Promise<void> {
    const s = await this.scheme()
    if (!s.release) throw new UsageError(s.unsupported('funds'))
    await s.release(ch, amt)
  }

  /**
   * Seed `PaychStatus`: everything known about a channel, from the store alone (no chain call;
   * `reserveFunds`, `addFunds` and the CLI's `sync` advance a pending deposit once it is mined).
   * `available = confirmed − spent − reserved`.
   * @throws {NotFoundError} no such channel
   */
  async status(ch: string): Promise<ManagerStatus> {
    const s = await this.scheme()
    const c = s.reader.channel(ch)
    const f = fullStatus(s.reader, c)
    return { ...f, channel: c.id, direction: c.direction, from: c.payer, to: c.payee, state: c.state, asset: c.asset }
  }

  /**
   * Seed `PaychLookup`: an open channel from this wallet to `to` with free funds (the most first).
   * @param minAvailable - base units the channel must still be able to pay (default 1)
   * @returns its id
   * @throws {NotFoundError} there is none
   */
  async lookup(to: string, minAvailable = 1n): Promise<string> {
    const s = await this.scheme()
    if (!s.lookup) throw new UsageError(s.unsupported('funds'))
    return (await s.lookup(to, minAvailable))[0].channelId
  }

  /** Seed `PaychList`: the ids of every channel this manager tracks on its chain, both directions. */
  async list(): Promise<string[]> {
    return (await this.scheme()).reader.list().map((s) => s.channel.id)
  }

  /**
   * Seed `PaychSettle`: starts the channel's settlement period (payer or payee).
   * @returns the settle transaction's hash
   * @throws {ChannelStateError} not open, or refused by the contract
   */
  async settle(ch: string): Promise<string> {
    const s = await this.scheme()
    if (!s.settle) throw new UsageError(s.unsupported('settle'))
    return (await s.settle(ch)).transaction
  }

  /**
   * Seed `PaychCollect`: after the settle delay, pays the payee what was redeemed and refunds the rest.
   * @returns the collect transaction's hash
   * @throws {ChannelStateError} before `settleAt` (saying when it will be possible)
   */
  async collect(ch: string): Promise<string> {
    return (await (await this.scheme()).collect(ch)).transaction
  }

  /**
   * Seed `PaychAllocateLane`: the next lane no voucher of this channel has used, recorded so
   * that no other caller (or process) is handed it again.
   * @throws {UsageError} a family with one lane (Bitcoin)
   */
  async allocateLane(ch: string): Promise<bigint> {
    const s = await this.scheme()
    if (!s.allocateLane) throw new UsageError(s.unsupported('lane'))
    return (await s.allocateLane(ch)).lane
  }

  /**
   * Seed `PaychVoucherCheckValid`: whether the voucher meets every requirement for submission
   * but the hash lock's secret (signature by the payer, channel on chain, time locks, lane
   * nonce, merges, deposit; on the payee's side newer than what is stored).
   * @throws {InvalidVoucherError} the reason it is not valid
   */
  async voucherCheckValid(ch: string, voucher: Voucher | string): Promise<void> {
    const r = await (await this.scheme()).check(ch, this.voucher(voucher))
    if (!r.valid) throw new InvalidVoucherError(`Invalid voucher: ${r.reason}.`, { data: { reason: r.reason } })
  }

  /**
   * Seed `PaychVoucherCheckSpendable`: valid, and with `secret` (the preimage of its hash lock,
   * hex) redeemable now. A hash-locked voucher without its secret is not spendable.
   * @param proof - unused, as in Lotus (kept for the seed's signature)
   * @returns whether it can be redeemed now; false (not an error) when invalid
   */
  async voucherCheckSpendable(ch: string, voucher: Voucher | string, secret?: string | Uint8Array, proof?: Uint8Array): Promise<boolean> {
    void proof
    const r = await (await this.scheme()).check(ch, this.voucher(voucher), hexOf(secret))
    return r.valid && r.spendable
  }

  /**
   * Seed `PaychVoucherCreate`: signs and stores a voucher whose lane total is exactly `amount`
   * (cumulative: what it adds is `amount` minus the lane's previous voucher). A reservation
   * made with {@link reserveFunds} is consumed by it.
   * @returns the voucher, or null and the shortfall when the channel's funds cannot cover it
   * @throws {ChannelStateError} not the payer, or the channel cannot pay
   */
  async voucherCreate(ch: string, amount: bigint, lane = 0n): Promise<VoucherCreateResult> {
    try {
      return { voucher: await (await this.scheme()).createVoucher(ch, amount, lane, { reserved: true }), shortfall: 0n }
    } catch (err) {
      if (err instanceof InsufficientFundsError) return { voucher: null, shortfall: err.shortfall }
      throw err
    }
  }

  /**
   * Seed `PaychVoucherAdd`: stores an inbound voucher (not on chain) if it adds at least `minDelta`.
   * @param proof - unused, as in Lotus
   * @returns what it adds to what the payee can redeem, base units
   * @throws {InvalidVoucherError} invalid, hash-locked, or adding less than `minDelta`
   */
  async voucherAdd(ch: string, voucher: Voucher | string, proof?: Uint8Array, minDelta = 0n): Promise<bigint> {
    void proof
    return (await (await this.scheme()).add(ch, this.voucher(voucher), minDelta)).delta
  }

  /** Seed `PaychVoucherList`: every voucher stored for the channel, by lane then nonce. */
  async voucherList(ch: string): Promise<VoucherRecord[]> {
    return (await this.scheme()).reader.vouchersOf(ch).vouchers
  }

  /**
   * Seed `PaychVoucherSubmit`: redeems the voucher on chain (with `secret` for a hash lock).
   * @param proof - unused, as in Lotus
   * @returns the transaction's hash, or, when it was redeemed already, the one that did it (if known)
   * @throws {InvalidVoucherError} invalid, or locked and the secret missing or wrong (nothing sent)
   */
  async voucherSubmit(ch: string, voucher: Voucher | string, secret?: string | Uint8Array, proof?: Uint8Array): Promise<string> {
    void proof
    const r = await (await this.scheme()).redeem(ch, this.voucher(voucher), hexOf(secret))
    const tx = r.transactions[0] ?? r.alreadyRedeemed[0]?.transaction
    if (!tx) throw new InvalidVoucherError('The voucher was redeemed already, by a transaction this store does not know.')
    return tx
  }

  /**
   * This wallet as the payer of x402 `channel` 402s (core/scheme/buyer.ts): what `channels buy`
   * pays with, and what the x402 client plugin (`channels/x402` `ChannelSchemeClient`) takes.
   * @param o.settleDelay - EVM: settle delay of a channel it opens, seconds (default config `buy.settleDelay`, 86400)
   * @param o.expirySeconds - Bitcoin: lifetime of a channel it opens, seconds (default config `buy.bitcoinExpiry`)
   */
  async x402Payer(o: Partial<BuyerOptions> = {}): Promise<X402Payer> {
    const policy = this.config.get('buy')
    return (await this.scheme()).buyer({ settleDelay: o.settleDelay ?? policy.settleDelay, expirySeconds: o.expirySeconds ?? policy.bitcoinExpiry })
  }

  /**
   * This wallet as the payee of x402 `channel` payments (core/scheme/seller.ts): what `channels serve`
   * accepts with, and what the x402 server plugin (`channels/x402` `ChannelFacilitator`) takes.
   * @param policy.minDeposit - smallest deposit of a new channel, base units (default 0)
   * @param policy.minSettleDelay - EVM: smallest settle delay of a new channel, seconds (default 3600, as `serve`)
   * @param policy.minExpirySeconds - Bitcoin: least time to a new channel's expiry, seconds (default 345600, as `serve`)
   * @param policy.closeMargin - Bitcoin: seconds before the expiry when payments stop (default 86400)
   * @param policy.minConf - Bitcoin: confirmations of a deposit (default 1)
   */
  async x402Payee(policy: Partial<SellerPolicy> = {}): Promise<X402Payee> {
    return (await this.scheme()).seller({
      minDeposit: 0n, minSettleDelay: 3600, minExpirySeconds: 345600, closeMargin: 86400, minConf: 1, ...policy,
    })
  }

  /**
   * This wallet as an Interledger peer's settlement (DESIGN §12): claims it sends on its
   * outbound channels and, unless `policy` is false, claims it takes on inbound ones (through
   * {@link x402Payee} with `policy`, so a claim is accepted exactly as a paywall payment is).
   * What the ILP plugin `channels/ilp` (`ChannelsIlpPlugin`) settles with.
   * @param policy - the payee's terms for claims (as {@link x402Payee}), or false: take none
   * @throws {UsageError} the chain's family has no claims (Bitcoin)
   * @example new ChannelsIlpPlugin({ server: 'btp+ws://me:s3cret@peer:7768', channel: '0x3f2a…', settlement: await pcm.ilpSettlement() })
   */
  async ilpSettlement(policy: Partial<SellerPolicy> | false = {}): Promise<IlpSettlement> {
    const s = await this.scheme()
    const proof = claimProof(s)
    const receiver = policy === false ? undefined : claimReceiver(await this.x402Payee(policy), proof)
    return { sender: (connection, o) => new ClaimSender(s, connection, o), receiver }
  }

  /** Closes the store (the manager cannot be used afterwards). */
  close(): void {
    this.store.close()
  }

  /** A voucher object, or one decoded from its encoded form for this chain's family. */
  private voucher(v: Voucher | string): Voucher {
    return typeof v === 'string' ? decodeVoucher(v, this.network.kind) : v
  }
}

/** A secret as the contract takes it: 0x-prefixed hex. */
function hexOf(secret: string | Uint8Array | undefined): string | undefined {
  if (secret === undefined) return undefined
  if (typeof secret !== 'string') return '0x' + Buffer.from(secret).toString('hex')
  return secret.startsWith('0x') ? secret.toLowerCase() : `0x${secret.toLowerCase()}`
}
