/**
 * The EVM family's {@link ChannelScheme} (core/scheme): what the commands did on an EVM
 * network, one method per command, over the {@link ChannelManager} of one wallet on one
 * network. Messages and errors are the commands' own; the commands keep parsing,
 * printing and the checks that do not depend on the family.
 */
import { HDNodeWallet, Wallet, ZeroAddress, getAddress, type BaseWallet } from 'ethers'
import { voucherProof } from './voucher.js'
import type {
  AddResult, ChannelScheme, CloseResult, CollectResult, FundResult, OpenOptions, OpenResult, PayOptions, PayResult,
  DeployResult, HashTimeLock, InjectedWallet, Progress, RedeemResult, ServeWarning, SettleResult, VoucherCheckResult, WalletContext,
  FundsResult, LaneResult, LookupResult,
} from '../../core/scheme/index.js'
import type { ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import { voucherOfFamily, type Voucher } from '../../core/channel/voucher.js'
import type { Settler, SettlerEvent } from '../../core/channel/settler.js'
import { idMatchesPrefix } from '../../core/channel/reader.js'
import { refreshAll, syncAll, type RefreshResult, type SyncReport } from '../../core/channel/sync.js'
import { NotFoundError, UsageError } from '../../core/errors.js'
import { ChannelManager } from './manager.js'
import { closeChannel } from './cooperative.js'
import { addVoucher, checkVoucher, fundChannel, submitVouchers } from './operations.js'
import { refreshChannel, syncChannel } from './sync.js'
import { learnChannel } from './inbound.js'
import { deliveryExtra } from './channel.js'
import { startRedeemer } from './redeemer.js'
import { payeeGasWarning } from './gas.js'
import { EVM_PATH } from '../../core/keys/wallet.js'
import type { EvmBackend } from './backend.js'
import type { BuyerOptions, X402Payer } from '../../core/scheme/buyer.js'
import { evmBuyer } from './buyer.js'
import type { SellerPolicy, X402Payee } from '../../core/scheme/seller.js'
import type { LaneScheme } from '../../core/scheme/index.js'
import type { LockScheme } from '../../core/scheme/hub.js'
import { EvmHub, expireLocks, payThroughHub, syncRoutedPayments } from './locks.js'
import { evmLaneOps } from './lane-scheme.js'
import { advanceDeposit, releaseReserved, reserveWithTopUp, type ReserveReport } from './deposits.js'
import { allocateLane, lookupChannel } from '../../core/channel/funds.js'
import { evmChannel } from './channel.js'

/** The EVM wallet of `ctx` (ethers is loaded with this module). */
export async function load(ctx: WalletContext): Promise<ChannelScheme> {
  return new EvmScheme(ctx)
}

/** The ethers wallet of an injected secret (a mnemonic at the wallet's path m/44'/60'/0'/0/0). @throws {UsageError} not a key */
function injectedSigner(w: InjectedWallet): BaseWallet {
  try {
    return w.privateKey !== undefined ? new Wallet(w.privateKey) : HDNodeWallet.fromPhrase(w.mnemonic!, undefined, EVM_PATH)
  } catch (err) {
    throw new UsageError(`The wallet handed to the manager is not a valid ${w.privateKey !== undefined ? 'private key' : 'mnemonic'}: ${(err as Error).message.split(' (')[0]}.`)
  }
}

export class EvmScheme implements ChannelScheme {
  readonly kind = 'evm' as const
  readonly voucherName = 'voucher'
  readonly lanes = true
  readonly reader: ChannelManager
  readonly laneOps: LaneScheme
  readonly locks: LockScheme

  constructor(private readonly ctx: WalletContext) {
    this.reader = ctx.wallet
      ? ChannelManager.withSigner(ctx.config, ctx.store, ctx.network, injectedSigner(ctx.wallet), ctx.wallet.name)
      : new ChannelManager(ctx.config, ctx.store, ctx.network, ctx.key)
    this.laneOps = evmLaneOps(this.reader, ctx, (prefix, v) => this.resolveChannel(prefix, v))
    const m = this.reader
    this.locks = {
      payVia: (hubUrl, payee, amount, o) => payThroughHub(m, ctx.merchant, hubUrl, payee, amount, o),
      hub: (policy) => new EvmHub(m, ctx.merchant, policy),
      syncRouted: () => syncRoutedPayments(m, ctx.merchant),
      expire: () => expireLocks(m),
    }
  }

  private get m(): ChannelManager {
    return this.reader
  }

  // ── Payer ──────────────────────────────────────────────────────────────────────

  async open(o: OpenOptions): Promise<OpenResult> {
    if (o.expirySeconds || o.p2sh) throw new UsageError('--expiry and --p2sh are Bitcoin options; EVM channels take --settle-delay.')
    const m = this.m
    const c = await m.open({
      payee: o.payee, deposit: o.deposit, asset: o.asset ?? ZeroAddress,
      settleDelay: o.settleDelay ?? this.ctx.config.get('buy').settleDelay, endpoint: o.endpoint,
      onSent: (hash) => o.onProgress?.(`Sent ${hash}; waiting for it to be mined…`),
    })
    return { channel: c, status: m.statusOf(c), transaction: c.openTx! }
  }

  async pay(target: string, delta: bigint, o: PayOptions): Promise<PayResult> {
    const m = this.m
    const c = m.resolve(target)
    let previous = 0n
    const v = await m.createVoucher(c, (prev) => (previous = prev) + delta, o.lane)
    const paid = v.amount - previous
    const deliver = Boolean(o.deliver && c.endpoint)
    const charged = deliver ? await this.ctx.merchant.deliver(m, c, v, deliveryExtra(c)) : undefined
    return { channel: c, voucher: v, paid, delivered: deliver, charged }
  }

  async createVoucher(prefix: string, amount: bigint, lane: bigint, o: { reserved?: boolean; lock?: HashTimeLock } = {}): Promise<VoucherRecord> {
    const m = this.m
    return m.createVoucher(m.channel(prefix), () => amount, lane, o)
  }

  async collect(prefix: string): Promise<CollectResult> {
    const m = this.m
    const c = m.channel(prefix)
    const r = await m.collect(c)
    const after = m.channel(c.id)
    return { channelId: c.id, asset: c.asset, transaction: r.tx.hash, paidToPayee: after.redeemed, refundedToPayer: after.deposit - after.redeemed }
  }

  async settle(prefix: string): Promise<SettleResult> {
    const m = this.m
    const c = m.channel(prefix)
    const r = await m.settle(c)
    return { channelId: c.id, transaction: r.tx.hash, settleAt: r.settleAt }
  }

  async fund(prefix: string, amount: bigint, onProgress?: Progress): Promise<FundResult> {
    const m = this.m
    await advanceDeposit(m, m.channel(prefix)) // a top-up that landed meanwhile is recorded before this deposit counts on it
    const c = m.channel(prefix)
    const r = await fundChannel(m, c, amount, (h) => onProgress?.(`Sent ${h}; waiting for it to be mined…`))
    await advanceDeposit(m, c) // a top-up queued behind this deposit goes now
    return { channelId: c.id, asset: c.asset, added: amount, deposit: r.deposit, transaction: r.tx.hash }
  }

  async reserve(prefix: string, amount: bigint): Promise<FundsResult> {
    const m = this.m
    return fundsResult(await reserveWithTopUp(m, m.channel(prefix), amount))
  }

  async release(prefix: string, amount: bigint): Promise<FundsResult> {
    const m = this.m
    return fundsResult(releaseReserved(m, m.channel(prefix), amount))
  }

  async lookup(payee: string, minAvailable = 1n): Promise<LookupResult[]> {
    const m = this.m
    let address: string
    try {
      address = getAddress(payee)
    } catch {
      throw new UsageError(`Invalid payee address "${payee}".`)
    }
    return lookupChannel(m.store, m.network.caip2, address, minAvailable, () => 0n, (c) => evmChannel(c).data.contract === m.backend.contract)
      .map((p) => ({ channelId: p.channel.id, asset: p.channel.asset, available: p.available }))
  }

  async allocateLane(prefix: string): Promise<LaneResult> {
    const m = this.m
    const c = m.channel(prefix)
    return { channelId: c.id, lane: allocateLane(m.store, c) }
  }

  // ── Payee ──────────────────────────────────────────────────────────────────────

  async check(prefix: string, voucher: Voucher, secret?: string): Promise<VoucherCheckResult> {
    const m = this.m
    const v = voucherOfFamily(voucher, 'evm')
    const c = await this.resolveChannel(prefix, v)
    const r = await checkVoucher(m, c, v, secret)
    return { valid: r.valid, reason: r.reason, own: r.own, redeemable: r.redeemable, delta: r.delta, spendable: r.valid && r.spendable !== false, asset: c.asset }
  }

  async add(prefix: string, voucher: Voucher, minDelta: bigint, secret?: string): Promise<AddResult> {
    const m = this.m
    const v = voucherOfFamily(voucher, 'evm')
    const c = await this.resolveChannel(prefix, v)
    const delta = await addVoucher(m, c, v, minDelta, secret)
    return { channelId: v.channelId, voucher: v, delta, asset: c.asset }
  }

  async redeem(prefix: string, voucher?: Voucher, secret?: string): Promise<RedeemResult> {
    const m = this.m
    const v = voucher && voucherOfFamily(voucher, 'evm')
    const c = v ? await this.resolveChannel(prefix, v) : m.channel(prefix)
    const r = await submitVouchers(m, c, v, secret)
    return {
      channelId: c.id, transactions: r.txs, redeemed: r.redeemed,
      alreadyRedeemed: r.alreadyRedeemed.map((a) => ({ lane: a.lane, nonce: a.nonce, transaction: a.tx })),
      asset: c.asset,
    }
  }

  /**
   * The channel a voucher command names. A payee may name a channel it has not seen yet:
   * when the voucher's channel id starts with the prefix, the channel is learned from
   * the chain (it must pay this wallet's key), as Lotus `PaychVoucherAdd` does.
   */
  async resolveChannel(prefix: string, v: Voucher): Promise<ChannelRecord> {
    const m = this.m
    try {
      return m.channel(prefix)
    } catch (err) {
      if (!(err instanceof NotFoundError) || !idMatchesPrefix(prefix, v.channelId)) throw err
      return learnChannel(m, v.channelId, { minSettleDelay: 1 })
    }
  }

  // ── Both ───────────────────────────────────────────────────────────────────────

  async deploy(onProgress?: Progress): Promise<DeployResult> {
    const { deployContract } = await import('./deployment.js')
    return deployContract(this.m, onProgress)
  }

  unsupported(capability: 'settle' | 'fund' | 'deploy' | 'funds' | 'lane' | 'hub'): string {
    switch (capability) {
      case 'hub':
        return 'EVM channels support payments through a hub: `channels hub`, `channels pay --via`.'
      case 'funds':
        return 'EVM channels support reserving funds: `channels reserve <channel> <amount>`.'
      case 'lane':
        return 'EVM channels have lanes: `channels lane new <channel>`.'
      case 'settle':
        return 'EVM channels support settling: `channels settle <channel>` starts the settlement period.'
      case 'fund':
        return 'EVM channels support adding funds: `channels fund <channel> <amount>`.'
      case 'deploy':
        return 'EVM networks support deploying the PaymentChannels contract: `channels deploy`.'
    }
  }

  async close(target: string, onProgress?: Progress): Promise<CloseResult> {
    const m = this.m
    const c = m.resolve(target)
    const r = await closeChannel(m, c, this.ctx.merchant.post, onProgress)
    return {
      channelId: r.channelId, asset: c.asset, result: r.result, transaction: r.transaction,
      // closeChannel: inbound → the payee closes itself; outbound → asks the merchant (or falls back to a settle).
      by: c.direction === 'outbound' ? 'requested' : 'payee',
      paidToPayee: r.paidToPayee, refundedToPayer: r.refundedToPayer, settleAt: r.settleAt, fallbackReason: r.fallbackReason,
    }
  }

  async sync(target?: string): Promise<SyncReport[]> {
    const m = this.m
    const deliver = this.ctx.merchant.deliver
    // A pending top-up is moved on first, so the deposit the chain shows is not counted as pending as well.
    const advanced = async (c: ChannelRecord) => {
      if (c.direction === 'outbound' && (c.pendingTx || c.queued > 0n)) await advanceDeposit(m, c)
      return syncChannel(m, m.store.channels.get(c.network, c.id) ?? c, deliver)
    }
    // Payments through a hub first (issue 12): fulfilled ones simplified, passed locks expired, so the channels' reports count them.
    const routed = await this.locks.syncRouted()
    const reports = target ? [await advanced(m.resolve(target))] : await syncAll(m, (_, c) => advanced(c))
    for (const r of routed) reports.find((x) => x.channelId === r.channelId)?.changes.push(r.change)
    return reports
  }

  refresh(o: { timeoutMs: number; direction?: 'outbound' | 'inbound' }): Promise<RefreshResult> {
    return refreshAll(this.m, refreshChannel, { timeoutMs: o.timeoutMs, direction: o.direction })
  }

  async keyDetails(): Promise<{ fundingAddress?: string }> {
    return {}
  }

  buyDefaults(): { maxPrice: bigint; deposit?: { value: string; key: string }; maxFee?: bigint } {
    const policy = this.ctx.config.get('buy')
    return {
      maxPrice: BigInt(policy.maxPrice), deposit: policy.deposit !== undefined ? { value: policy.deposit, key: 'buy.deposit' } : undefined,
      maxFee: policy.maxFee !== undefined ? BigInt(policy.maxFee) : undefined,
    }
  }

  async buyer(o: BuyerOptions): Promise<X402Payer> {
    return evmBuyer(this.m, o, this.locks)
  }

  signer(): Promise<unknown> {
    return this.m.signer()
  }

  checkChain(): Promise<void> {
    return this.m.backend.verifyContract()
  }

  async serveWarnings(): Promise<ServeWarning[]> {
    const m = this.m
    // The EVM manager's backend is always an EvmBackend (ChannelManager.backend).
    const w = await payeeGasWarning(m.backend as EvmBackend, m.address, m.network.caip2, this.ctx.config.home)
    if (!w) return []
    return [{
      kind: 'payee_gas', message: w.message, fix: w.fix,
      data: { address: w.address, network: w.network, balance: w.balance.toString(), needed: w.needed.toString(), feePerGas: w.feePerGas.toString() },
    }]
  }

  watch(o: { intervalSeconds: number; closeMargin: number }, onEvent: (e: SettlerEvent) => void): Settler {
    return startRedeemer(this.m, { intervalSeconds: o.intervalSeconds }, onEvent)
  }

  async serveInfo(): Promise<{ payTo: string; asset?: string; contract?: string }> {
    return { payTo: this.m.address, contract: this.m.backend.contract }
  }

  async seller(policy: SellerPolicy): Promise<X402Payee> {
    return (await import('./seller.js')).evmSeller(this.m, policy)
  }

  voucherProof(v: Voucher): { digest: string; publicKey: string; signer: string } {
    return voucherProof(voucherOfFamily(v, 'evm'), this.m.backend.chainId, this.m.backend.contract)
  }
}

/** The scheme's shape of a reserve or release report. */
function fundsResult(r: Omit<ReserveReport, 'sent' | 'topUp'> & { topUp?: bigint; sent?: string }): FundsResult {
  return {
    channelId: r.channel.id, asset: r.channel.asset, reserved: r.reserved, available: r.available, pending: r.pending,
    pendingTx: r.pendingTx, queued: r.queued, topUp: r.topUp, sent: r.sent,
  }
}
