/**
 * The Bitcoin family's {@link ChannelScheme} (DESIGN §2): two1 CLTV channels on a
 * Bitcoin Core node, over {@link BitcoinChannelManager}. What each command did in its
 * `if (this.isBitcoin)` branch, with the same errors and messages; the commands render.
 *
 * Bitcoin channels have one lane (0), no settlement period (`settle` is absent: the
 * payee closes before the expiry, the payer takes the refund after it) and a deposit
 * fixed at open (`fund` is absent). Amounts are satoshis.
 */
import type {
  AddResult, ChannelScheme, CloseResult, CollectResult, OpenOptions, OpenResult, PayOptions, PayResult, Progress,
  RedeemResult, ServeWarning, VoucherCheckResult, WalletContext, FundsResult, LookupResult,
} from '../../core/scheme/index.js'
import type { ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import { availableFunds, fundsOf, lookupChannel, releaseFunds, reserveFunds } from '../../core/channel/funds.js'
import { voucherOfFamily, type Voucher } from '../../core/channel/voucher.js'
import type { Settler, SettlerEvent } from '../../core/channel/settler.js'
import { refreshAll, syncAll, type RefreshResult, type SyncReport } from '../../core/channel/sync.js'
import { UsageError } from '../../core/errors.js'
import { BitcoinChannelManager, SAT } from './manager.js'
import { deliveryExtra } from './channel.js'
import { fundingAddressOf } from './script.js'
import { startBitcoinWatcher } from './watcher.js'
import type { BuyerOptions, X402Payer } from '../../core/scheme/buyer.js'
import { bitcoinBuyer } from './buyer.js'
import type { SellerPolicy, X402Payee } from '../../core/scheme/seller.js'
import { bitcoinChannel } from './channel.js'

/** The UsageError of `--secret` on a Bitcoin channel. */
const NO_HASH_LOCK = 'Bitcoin payments (two1) have no hash lock: --secret applies to EVM vouchers only.'

/** The UsageError of a lane other than 0 (`pay --lane`, `voucher create --lane`). */
const ONE_LANE = 'Bitcoin channels have one lane (0).'

/** One wallet on one Bitcoin-family network. */
export class BitcoinScheme implements ChannelScheme {
  readonly kind = 'bitcoin' as const
  readonly voucherName = 'payment'
  readonly lanes = false

  constructor(
    private readonly ctx: WalletContext,
    readonly reader: BitcoinChannelManager,
  ) {}

  private get b(): BitcoinChannelManager {
    return this.reader
  }

  unsupported(capability: 'settle' | 'fund' | 'deploy' | 'funds' | 'lane' | 'hub'): string {
    const name = this.ctx.network.name
    switch (capability) {
      case 'hub':
        return `Payments through a hub need hash-locked vouchers, which two1's Bitcoin channels do not have; "${name}" is a Bitcoin-family network. Use an EVM network (--network).`
      case 'funds':
        return 'Bitcoin channels support reserving funds within their fixed deposit: `channels reserve <channel> <amount>`.'
      case 'lane':
        return `Bitcoin channels have one lane (0): there is no lane to allocate on "${name}". Open another channel to pay in parallel.`
      case 'settle':
        return 'Bitcoin channels have no settlement period: the payee closes with `channels close` before the expiry; the payer takes the refund with `channels collect` after it.'
      case 'fund':
        return `\`channels fund\` works on EVM networks only; "${name}" is a Bitcoin-family network. A Bitcoin channel's deposit is fixed at open (open another channel to pay more).`
      case 'deploy':
        return `\`channels deploy\` works on EVM networks only; "${name}" is a Bitcoin-family network. A Bitcoin channel is a script on chain: there is no contract to deploy.`
    }
  }

  // ── Payer ──────────────────────────────────────────────────────────────────────

  async open(o: OpenOptions): Promise<OpenResult> {
    if (o.asset || o.settleDelay) throw new UsageError('--asset and --settle-delay are EVM options; Bitcoin channels take --expiry and --p2sh.')
    const b = this.b
    const c = await b.open({
      payee: o.payee, deposit: o.deposit,
      expiry: Math.floor(Date.now() / 1000) + (o.expirySeconds ?? this.ctx.config.get('buy').bitcoinExpiry), p2sh: o.p2sh,
      endpoint: o.endpoint, wait: o.wait,
      onSent: (txid) => o.onProgress?.(`Deposit ${txid} broadcast; waiting for a confirmation…`),
      onProgress: (msg) => o.onProgress?.(msg),
    })
    return { channel: c, status: b.statusOf(c), transaction: c.openTx ?? '', refundAfter: bitcoinChannel(c).data.expiry }
  }

  async pay(target: string, delta: bigint, o: PayOptions): Promise<PayResult> {
    if (o.lane !== 0n) throw new UsageError(ONE_LANE)
    const b = this.b
    const c = b.resolve(target)
    let previous = 0n
    const v = await b.createVoucher(c, (prev) => (previous = prev) + delta)
    // The payment may pay more than asked (the payee output's dust threshold).
    const paid = v.amount - previous
    const delivered = Boolean(o.deliver && c.endpoint)
    const charged = delivered ? await this.ctx.merchant.deliver(b, c, v, deliveryExtra(c)) : undefined
    return { channel: c, voucher: v, paid, delivered, charged }
  }

  async createVoucher(prefix: string, amount: bigint, lane: bigint, o: { reserved?: boolean; lock?: unknown } = {}): Promise<VoucherRecord> {
    if (o.lock) throw new UsageError(NO_HASH_LOCK)
    if (lane !== 0n) throw new UsageError(ONE_LANE)
    const b = this.b
    return b.createVoucher(b.channel(prefix), () => amount, o)
  }

  /** Reserves within the fixed deposit: a Bitcoin channel cannot be topped up (no queue, no deposit transaction). */
  async reserve(prefix: string, amount: bigint): Promise<FundsResult> {
    const b = this.b
    const c = b.channel(prefix)
    const r = reserveFunds(b.store, c, amount, {
      topUp: false, closeReserve: b.closeReserve(c),
      noTopUp: 'Bitcoin deposits are fixed at open: a Bitcoin channel cannot be topped up.',
    })
    return this.fundsResult(r.channel)
  }

  async release(prefix: string, amount: bigint): Promise<FundsResult> {
    const b = this.b
    return this.fundsResult(releaseFunds(b.store, b.channel(prefix), amount))
  }

  async lookup(payee: string, minAvailable = 1n): Promise<LookupResult[]> {
    const b = this.b
    if (!/^(02|03)[0-9a-fA-F]{64}$/.test(payee)) throw new UsageError(`Invalid payee "${payee}": a Bitcoin payee is a compressed public key (66 hex digits).`)
    return lookupChannel(b.store, b.network.caip2, payee.toLowerCase(), minAvailable, (c) => b.closeReserve(c))
      .map((p) => ({ channelId: p.channel.id, asset: p.channel.asset, available: p.available }))
  }

  private fundsResult(ch: ChannelRecord): FundsResult {
    const f = fundsOf(this.b.store, ch, this.b.closeReserve(ch))
    return { channelId: ch.id, asset: ch.asset, reserved: ch.reserved, available: availableFunds(f), pending: ch.pendingDeposit, queued: ch.queued, topUp: 0n }
  }

  async collect(prefix: string): Promise<CollectResult> {
    const b = this.b
    const c = b.channel(prefix)
    const r = await b.collect(c)
    return { channelId: c.id, asset: c.asset, transaction: r.tx.hash, paidToPayee: 0n, refundedToPayer: r.refunded, fee: r.tx.fee }
  }

  // ── Payee ──────────────────────────────────────────────────────────────────────

  async check(prefix: string, v: Voucher, secret?: string): Promise<VoucherCheckResult> {
    if (secret !== undefined) throw new UsageError(NO_HASH_LOCK)
    const b = this.b
    const { checkBitcoinVoucher } = await import('./inbound.js')
    const c = b.channel(prefix)
    const r = await checkBitcoinVoucher(b, c, voucherOfFamily(v, 'bitcoin'))
    return { ...r, spendable: r.valid, asset: c.asset }
  }

  async add(prefix: string, v: Voucher, minDelta: bigint, secret?: string): Promise<AddResult> {
    if (secret !== undefined) throw new UsageError(NO_HASH_LOCK)
    const { addBitcoinVoucher } = await import('./inbound.js')
    const delta = await addBitcoinVoucher(this.b, prefix, voucherOfFamily(v, 'bitcoin'), minDelta)
    return { channelId: v.channelId, voucher: v, delta, asset: SAT }
  }

  /**
   * The payee's close with its best stored payment (a Bitcoin channel has nothing to
   * redeem short of closing). A channel closed already gives its close transaction in
   * `alreadyRedeemed` (lane 0, no nonce).
   * @throws {UsageError} a voucher given: the payee broadcasts its best stored payment
   */
  async redeem(prefix: string, v?: Voucher, secret?: string): Promise<RedeemResult> {
    if (secret !== undefined) throw new UsageError(NO_HASH_LOCK)
    if (v) throw new UsageError('On a Bitcoin channel the payee broadcasts its best stored payment: run `channels voucher submit <channel>` without a voucher (or `channels close`).')
    const b = this.b
    const c = b.channel(prefix)
    if (c.state === 'closed' && c.closeTx && c.direction === 'inbound') {
      return { channelId: c.id, transactions: [], redeemed: c.redeemed, alreadyRedeemed: [{ lane: 0n, transaction: c.closeTx }], asset: SAT }
    }
    const r = await b.closeAsPayee(c)
    return { channelId: c.id, transactions: [r.tx.hash], redeemed: r.redeemed, alreadyRedeemed: [], asset: SAT }
  }

  // ── Both ───────────────────────────────────────────────────────────────────────

  async close(target: string, onProgress?: Progress): Promise<CloseResult> {
    const b = this.b
    const c = b.resolve(target)
    if (c.direction === 'outbound') {
      const { requestBitcoinClose } = await import('./cooperative.js')
      const r = await requestBitcoinClose(b, c, (url, headers, body) => this.ctx.merchant.post(url, headers, body), onProgress)
      return {
        channelId: c.id, asset: c.asset, result: r.result, transaction: r.transaction,
        paidToPayee: r.paidToPayee, refundedToPayer: r.refundedToPayer, fee: r.fee, by: 'requested',
      }
    }
    const r = await b.closeAsPayee(c)
    return {
      channelId: c.id, asset: c.asset, result: 'closed', transaction: r.tx.hash,
      paidToPayee: r.redeemed, refundedToPayer: c.deposit - r.redeemed - r.tx.fee, fee: r.tx.fee, by: 'payee',
    }
  }

  async sync(target?: string): Promise<SyncReport[]> {
    const b = this.b
    const { syncBitcoinChannel } = await import('./inbound.js')
    return target ? [await syncBitcoinChannel(b, b.resolve(target))] : syncAll(b, syncBitcoinChannel)
  }

  async refresh(o: { timeoutMs: number; direction?: 'outbound' | 'inbound' }): Promise<RefreshResult> {
    const { syncBitcoinChannel } = await import('./inbound.js')
    return refreshAll(this.b, syncBitcoinChannel, { timeoutMs: o.timeoutMs, direction: o.direction })
  }

  async keyDetails(pubkeys: Record<string, string> | undefined): Promise<{ fundingAddress?: string }> {
    const net = this.ctx.network
    const params = net.kind === 'bitcoin' ? net.bitcoin : undefined
    const pub = params ? pubkeys?.[String(params.coinType)] : undefined
    return params && pub ? { fundingAddress: fundingAddressOf(pub, params) } : {}
  }

  buyDefaults(): { maxPrice: bigint; deposit?: { value: string; key: string } } {
    const policy = this.ctx.config.get('buy')
    return {
      maxPrice: BigInt(policy.bitcoinMaxPrice),
      deposit: policy.bitcoinDeposit !== undefined ? { value: policy.bitcoinDeposit, key: 'buy.bitcoinDeposit' } : undefined,
    }
  }

  async buyer(o: BuyerOptions): Promise<X402Payer> {
    return bitcoinBuyer(this.b, o)
  }

  signer(): Promise<unknown> {
    return this.b.signer()
  }

  checkChain(): Promise<void> {
    return this.b.backend.checkNetwork()
  }

  async serveWarnings(): Promise<ServeWarning[]> {
    return []
  }

  watch(o: { intervalSeconds: number; closeMargin: number }, onEvent: (e: SettlerEvent) => void): Settler {
    return startBitcoinWatcher(this.b, o.intervalSeconds, o.closeMargin, onEvent)
  }

  async serveInfo(): Promise<{ payTo: string; asset?: string; contract?: string }> {
    return { payTo: await this.b.pubkey(), asset: SAT }
  }

  async seller(policy: SellerPolicy): Promise<X402Payee> {
    return (await import('./seller.js')).bitcoinSeller(this.b, policy)
  }
}

/** The Bitcoin scheme of `ctx`'s wallet on `ctx.network` (no node contacted, no key unlocked). */
export async function load(ctx: WalletContext): Promise<ChannelScheme> {
  if (ctx.wallet) {
    throw new UsageError(`A wallet handed in by a library program works on EVM networks only; "${ctx.network.name}" is a Bitcoin-family network, whose keys live in the wallet home (\`channels keys new\`).`)
  }
  return new BitcoinScheme(ctx, new BitcoinChannelManager(ctx.config, ctx.store, ctx.network, ctx.key))
}
