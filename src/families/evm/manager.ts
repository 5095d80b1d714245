/**
 * The channel manager: the public API of the wallet (after Lotus paychmgr and the
 * payment-channel manager API seed). It owns the rules; the store only persists and
 * the backend only talks to the chain.
 *
 * Money rules (DESIGN §7): a payer's voucher is committed (nonce allocated, row
 * written) in one `BEGIN IMMEDIATE` transaction before it leaves the process; a
 * payee's voucher is committed, with the price charged, before content is served.
 */
import { hexlify, randomBytes, getAddress, ZeroAddress, type BaseWallet } from 'ethers'
import type { ChannelFields, ChannelRecord, Store, VoucherRecord } from '../../core/store/index.js'
import type { Config, NetworkConfig } from '../../core/config.js'
import type { HashTimeLock } from '../../core/scheme/index.js'
import { evmChannel, type EvmChannelData } from './channel.js'
import type { ChainBackend, TxResult } from './chain.js'
import { EvmBackend } from './backend.js'
import { loadEvmSigner } from '../../core/keys/wallet.js'
import { payableChannels } from '../../core/channel/funds.js'
import { ChannelStateError, InsufficientFundsError, UsageError } from '../../core/errors.js'
import { transition, canPay, type ChannelEvent, type ChannelState } from '../../core/channel/state.js'
import { ChannelReader, short, type ChannelStatus } from '../../core/channel/reader.js'
import { acknowledgeVoucher } from '../../core/channel/acknowledge.js'
import { ZERO_HASH, effectiveLanes, mergerOf, spentAcrossLanes, voucherOfFamily, type EvmVoucher, type Voucher } from '../../core/channel/voucher.js'
import { carriedMerges, chainMergedLanes, redeemOrder } from './merges.js'
import { recoverVoucherSigner, signVoucher } from './voucher.js'
import { voucherFunds } from '../../core/channel/funds.js'
import { groupCommit } from '../../core/store/group-commit.js'

export { ChannelReader, short, type ChannelStatus }

export interface OpenRequest {
  payee: string
  /** Base units. */
  deposit: bigint
  /** Token address; default the native currency. */
  asset?: string
  /** Seconds. */
  settleDelay: number
  /** Merchant endpoint to bind. */
  endpoint?: string
  /** Called with the transaction hash as soon as it is broadcast. */
  onSent?: (hash: string) => void
}

export class ChannelManager extends ChannelReader {
  private signerPromise?: Promise<BaseWallet>
  /**
   * Inbound channels this process is closing on chain (payee's close, the redemption service's
   * closeMany): the paywall refuses vouchers on them, since a voucher accepted after the closing
   * vouchers were chosen could never be redeemed once the close is mined.
   */
  readonly closing = new Set<string>()
  /** A signer handed in by a library user (see {@link ChannelManager.withSigner}); else the key of config.json signs. */
  private injected?: BaseWallet

  /**
   * A manager whose wallet is `signer` rather than a key of config.json (the library's
   * `PaymentChannelManager`, constructed from a chain and a wallet as the manager-API seed says).
   * @param name - recorded as the channels' key name
   */
  static withSigner(config: Config, store: Store, network: NetworkConfig & { name: string }, signer: BaseWallet, name: string): ChannelManager {
    const m = new ChannelManager(config, store, network, undefined, undefined, { name, address: signer.address })
    m.injected = signer
    return m
  }
  private backendInstance?: ChainBackend

  /** The chain backend of this manager's network (created lazily; no I/O). */
  get backend(): ChainBackend {
    this.backendInstance ??= new EvmBackend(this.network.caip2, this.network.rpcUrl, this.network.kind === 'evm' ? this.network.contract : undefined)
    return this.backendInstance
  }

  /** The unlocked signer (prompts or reads the passphrase once). @throws {KeystoreError} */
  signer(): Promise<BaseWallet> {
    this.signerPromise ??= this.injected ? Promise.resolve(this.injected) : loadEvmSigner(this.config, this.keyName)
    return this.signerPromise
  }

  /**
   * Applies a state-machine event (DESIGN §3) to the channel as `c` was read, with `fields`,
   * in one transaction (the repository's `transition`).
   * @throws {IllegalTransitionError} @throws {StaleChannelStateError} the row moved elsewhere since `c` was read
   */
  private move(c: ChannelRecord, event: ChannelEvent, fields: ChannelFields = {}): ChannelState {
    return this.store.channels.transition(c.network, c.id, event, fields, c.state).state
  }

  // ── payer ────────────────────────────────────────────────────────────────

  /**
   * Refuses, before any transaction, an amount the key does not hold in `asset` (wei, or base units of the
   * ERC-20 token): a token deposit or top-up it lacks would cost the approve's gas and then revert.
   * @param what - the amount as the message names it (e.g. `the deposit of 5000`)
   * @param fix - what to do, for the message
   * @throws {InsufficientFundsError} exit 5, with the shortfall · {NetworkError} the node is unreachable
   */
  async requireHeld(asset: string, amount: bigint, what: string, fix: string): Promise<void> {
    const held = await this.backend.balance(this.address, asset)
    if (held >= amount) return
    const units = asset === ZeroAddress ? 'wei' : `base units of the token ${asset}`
    throw new InsufficientFundsError(`${this.address} holds ${held} ${units}, less than ${what}.`, amount - held, { metaMessages: [fix] })
  }

  /**
   * Opens an outbound channel: checks the contract's code, records the channel as
   * `opening` before broadcasting, then `open` once mined (`failed` if it reverts).
   * @returns the channel as stored after confirmation
   * @throws {ContractMismatchError} @throws {NetworkError} @throws {ChannelStateError}
   */
  async open(req: OpenRequest): Promise<ChannelRecord> {
    const payee = checkedAddress(req.payee, 'payee')
    if (req.deposit <= 0n) throw new UsageError('The deposit must be above zero.')
    if (payee === this.address) throw new UsageError('The payee is this wallet\'s own key.')
    await this.backend.verifyContract()
    const signer = await this.signer()
    const params = { payee, asset: req.asset ?? ZeroAddress, amount: req.deposit, settleDelay: req.settleDelay, salt: hexlify(randomBytes(32)) }
    const id = this.backend.channelIdOf(this.address, params)
    await this.requireHeld(params.asset, req.deposit, `the deposit of ${req.deposit}`, 'Fund the key (`channels keys show` prints its address) or choose a smaller --deposit.')
    const record = this.store.channels.insert<EvmChannelData>({
      network: this.network.caip2, id, family: 'evm', direction: 'outbound', payer: this.address, payee, asset: params.asset,
      deposit: req.deposit, redeemed: 0n, charged: 0n, state: 'opening', endpoint: req.endpoint, keyName: this.keyLabel,
      data: { contract: this.backend.contract, settleDelay: req.settleDelay, salt: params.salt },
    })
    let tx: TxResult
    try {
      tx = await this.backend.open(signer, params, (hash) => {
        this.store.channels.update(record.network, id, { openTx: hash })
        req.onSent?.(hash)
      })
    } catch (err) {
      // Only a refusal by the chain is final; a network error leaves `opening` for `sync`.
      if (err instanceof ChannelStateError) this.move(record, 'fail')
      throw err
    }
    this.move(record, 'confirm', { openTx: tx.hash })
    return this.store.channels.get(record.network, id)!
  }

  /** Outbound open channels to `payee` that can still pay `minAvailable`, fullest first. */
  payableChannels(payee: string, minAvailable: bigint, asset = ZeroAddress): { channel: ChannelRecord; available: bigint }[] {
    // On the pay path: only the latest voucher per lane is read, never every voucher; reservations are not for payments made without them.
    return payableChannels(this.store, this.network.caip2, getAddress(payee), minAvailable, () => 0n,
      (c) => c.asset === asset && evmChannel(c).data.contract === this.backend.contract)
  }

  /**
   * Creates, signs and commits the next voucher on a lane (Lotus `PaychVoucherCreate`).
   * The new cumulative amount is `target(previous amount on the lane, charged)`, at
   * least the previous one; the
   * nonce is the lane's last + 1. All of it happens under the database write lock,
   * so concurrent processes never reuse a nonce or exceed the deposit.
   *
   * Lanes and merges (issue 11 §3): a lane merged into another by a stored merge voucher
   * takes no new voucher (its nonce on chain is raised by the merge). A voucher on a lane
   * whose latest voucher merges other lanes carries those merges forward (same nonces),
   * so that redeeming it alone still closes them — else the payee could redeem a merged
   * lane's old voucher and then this one, whose amount already counts that lane; merges
   * the chain already applied (the merge voucher was redeemed) are dropped.
   * @param target - computes the new cumulative lane amount from the lane's previous one
   * @param o.reserved - pay with funds set aside by `reserve` (core/channel/funds.ts): in the same
   *   transaction that allocates the nonce, what the voucher adds is taken from `reserved` (at most
   *   what is reserved). Without it the voucher must fit `available = confirmed − spent − reserved`,
   *   so it cannot eat another caller's reservation.
   * @param o.lock - a hash lock and time lock (issue 12): the lane's held voucher must be unconditional
   * @param o.onCommit - runs in the voucher's write transaction after its insert (a payment's row naming it); a throw refuses the voucher
   * @throws {InsufficientFundsError} with the shortfall when the deposit (less the reservations it may not use) cannot cover it
   * @throws {ChannelStateError} when the channel is not open
   */
  async createVoucher(
    c: ChannelRecord, target: (previous: bigint, charged: bigint) => bigint, lane = 0n,
    o: { reserved?: boolean; lock?: HashTimeLock; onCommit?: (v: VoucherRecord<EvmVoucher>) => void } = {},
  ): Promise<VoucherRecord<EvmVoucher>> {
    if (c.direction !== 'outbound') throw new ChannelStateError('Only the payer of a channel can create vouchers on it.')
    if (o.lock && (!/^0x[0-9a-fA-F]{64}$/.test(o.lock.secretHash) || BigInt(o.lock.secretHash) === 0n)) throw new UsageError('A hash lock is 32 bytes of 0x hex (sha256 of the secret), not zero.')
    if (o.lock && o.lock.timeLockMax <= 0n) throw new UsageError('A hash-locked voucher needs a time lock (timeLockMax, unix seconds).')
    const signer = await this.signer()
    const chainId = this.backend.chainId
    const applied = await chainMergedLanes(this, c, lane)
    // A group commit: the fsync is off the event loop and shared with the other writes of this turn (a hub or a
    // busy payer signs many vouchers at once); the voucher is on disk before this resolves, as before.
    return groupCommit(this.store, () => {
      const ch = this.store.channels.get(c.network, c.id)!
      if (!canPay(ch.state)) throw new ChannelStateError(`Channel ${short(ch.id)} is ${ch.state}; it cannot pay.`)
      const mergers = this.store.vouchers.mergers(ch.network, ch.id)
      const merger = mergerOf(lane, mergers)
      if (merger) throw new UsageError(`Lane ${lane} of channel ${short(ch.id)} is merged into lane ${merger.lane}; pay on lane ${merger.lane} or on a new lane.`)
      const last = this.store.vouchers.latest(ch.network, ch.id, lane)
      // A lane carries one conditional voucher at a time, on top of its unconditional total (issue 12).
      if (o.lock && last && last.family === 'evm' && last.secretHash !== ZERO_HASH) {
        throw new UsageError(`Lane ${lane} of channel ${short(ch.id)} holds a hash-locked voucher not yet replaced or expired; lock on another lane (\`channels lane new\`).`)
      }
      const previous = last?.amount ?? 0n
      const amount = target(previous, ch.charged)
      // Equal is allowed: a new nonce re-spends credit the payee did not charge.
      if (amount < previous) throw new UsageError(`The new amount ${amount} is below the lane's previous ${previous}.`)
      const others = spentAcrossLanes(effectiveLanes(this.store.vouchers.latestPerLane(ch.network, ch.id), mergers), lane)
      const total = others + amount
      const funds = voucherFunds({ deposit: ch.deposit, reserved: ch.reserved, closeReserve: 0n }, others + previous, total, o.reserved === true)
      if (funds.shortfall > 0n) {
        const aside = funds.reservedAfter > 0n ? `, of which ${funds.reservedAfter} is reserved` : ''
        throw new InsufficientFundsError(`Channel ${short(ch.id)} cannot cover ${total} (deposit ${ch.deposit}${aside}); shortfall ${funds.shortfall}.`, funds.shortfall, {
          metaMessages: funds.reservedAfter > 0n
            ? ['Funds set aside by `channels reserve` are paid only by vouchers made with the reservation (`voucher create --reserved`); `channels release` gives them back.']
            : ['Open a channel with a larger deposit (`channels open`, or `channels buy --deposit`), or top it up (`channels reserve`, `channels fund`).'],
        })
      }
      if (funds.reservedAfter !== ch.reserved) this.store.channels.update(ch.network, ch.id, { reserved: funds.reservedAfter })
      const unsigned = {
        // Above every stored nonce of the lane, an expired voucher's too (its row keeps that nonce).
        channelId: ch.id, lane, nonce: this.store.vouchers.maxNonce(ch.network, ch.id, lane) + 1n, amount, secretHash: o.lock?.secretHash.toLowerCase() ?? ZERO_HASH,
        timeLockMin: 0n, timeLockMax: o.lock?.timeLockMax ?? 0n, minSettleAt: 0n, merges: last ? carriedMerges(voucherOfFamily(last, 'evm'), applied) : [],
      }
      const voucher = signVoucher(unsigned, signer, chainId, evmChannel(ch).data.contract)
      this.store.vouchers.insert(ch.network, voucher)
      const record = { ...voucher, network: ch.network, delivered: false, createdAt: Math.floor(Date.now() / 1000) }
      o.onCommit?.(record)
      return record
    })
  }

  /** Whether `v` is a voucher of channel `c` signed by its payer (this wallet, on the payer's side). */
  signedByPayer(c: ChannelRecord, v: Voucher): boolean {
    try {
      return v.family === 'evm' && v.channelId === c.id && recoverVoucherSigner(v, this.backend.chainId, evmChannel(c).data.contract) === c.payer
    } catch {
      return false
    }
  }

  /** Records the merchant's view of a voucher this wallet signed (see {@link acknowledgeVoucher}). */
  acknowledge(c: ChannelRecord, v: Voucher, charged: bigint): boolean {
    return acknowledgeVoucher(this.store, c, v, charged)
  }

  /**
   * Starts the settlement period of a channel (payer or payee).
   * @throws {ChannelStateError} not open, or refused by the contract
   */
  async settle(c: ChannelRecord): Promise<{ tx: TxResult; settleAt: number }> {
    transition(c.state, 'settle')
    const tx = await this.backend.settle(await this.signer(), c.id)
    const on = await this.backend.getChannel(c.id)
    const settleAt = on?.settleAt ?? 0
    this.move(c, 'settle', { settleAt })
    return { tx, settleAt }
  }

  /**
   * Collects a settled channel: the payee gets what was redeemed, the payer the rest.
   * @throws {ChannelStateError} before `settleAt` (says when it will be possible)
   */
  async collect(c: ChannelRecord): Promise<{ tx: TxResult }> {
    transition(c.state, 'collect')
    const on = await this.backend.getChannel(c.id)
    if (!on) throw new ChannelStateError(`Channel ${short(c.id)} is not on chain any more; run \`channels sync\`.`)
    const now = await this.backend.now()
    if (on.settleAt === 0 || now < on.settleAt) {
      const when = on.settleAt === 0 ? 'after `channels settle` and its delay' : `at ${new Date(on.settleAt * 1000).toISOString()} (in ${on.settleAt - now} s)`
      throw new ChannelStateError(`Channel ${short(c.id)} cannot be collected yet; possible ${when}.`, { data: { settleAt: on.settleAt, now } })
    }
    const tx = await this.backend.collect(await this.signer(), c.id)
    this.move(c, 'collect', { redeemed: on.redeemed, closeTx: tx.hash })
    return { tx }
  }

  /**
   * Payee: redeems the best voucher of every lane and collects at once. Lanes a merge
   * voucher superseded are left out (`effectivePerLane`: their vouchers would revert, or
   * make the merge unredeemable). The contract's `close` takes one voucher, so with one
   * unredeemed lane this is ONE transaction (`close`); with several it is TWO: `updateMany`
   * with all but the last (marked submitted when it lands, so a retry skips them), then
   * `close` with the last. Merge vouchers go last, after the plain ones, so a merged lane
   * is never sent after its merger.
   * @returns the close transaction and the channel's redeemed total, base units
   * @throws {ChannelStateError} no voucher to redeem, every voucher already redeemed (settle and collect instead), or the channel is not open/settling
   * @throws {InsufficientFundsError} this key cannot pay the gas
   */
  async closeAsPayee(c: ChannelRecord): Promise<{ tx: TxResult; redeemed: bigint }> {
    if (c.direction !== 'inbound') throw new ChannelStateError('Only the payee can close a channel with a voucher.')
    transition(c.state, 'close')
    // Marked before the vouchers are read: from here the paywall takes no voucher on it.
    const marked = !this.closing.has(c.id)
    this.closing.add(c.id)
    try {
      return await this.closeWithBest(c)
    } finally {
      if (marked) this.closing.delete(c.id)
    }
  }

  /** {@link closeAsPayee} once the channel is marked closing. */
  private async closeWithBest(c: ChannelRecord): Promise<{ tx: TxResult; redeemed: bigint }> {
    const best = this.store.vouchers.effectivePerLane(c.network, c.id).map((v) => voucherOfFamily(v, 'evm'))
    if (best.length === 0) throw new ChannelStateError(`No voucher to redeem on channel ${short(c.id)}.`)
    const unredeemed: VoucherRecord<EvmVoucher>[] = []
    for (const v of best) if (v.nonce > (await this.backend.getLane(c.id, v.lane)).nonce) unredeemed.push(v)
    const open = redeemOrder(unredeemed)
    const last = open.pop()
    if (!last) {
      throw new ChannelStateError(`Every voucher of channel ${short(c.id)} is redeemed already; nothing is left to close with.`, {
        metaMessages: [`Run \`channels settle ${short(c.id)}\`, then \`channels collect\` after the settle delay.`],
      })
    }
    const signer = await this.signer()
    if (open.length) {
      const tx = open.length === 1 ? await this.backend.update(signer, open[0], open[0].secret) : await this.backend.updateMany(signer, open, open.map((v) => v.secret))
      this.store.immediate(() => {
        for (const v of open) this.store.vouchers.markSubmitted(c.network, c.id, v.lane, v.nonce, tx.hash)
      })
    }
    const tx = await this.backend.close(signer, last, last.secret)
    // What the contract paid (its ChannelCollected event), not what we expect it to have paid.
    const redeemed = (await this.backend.collectedBy(tx.hash, c.id))?.paidToPayee ?? spentAcrossLanes(best)
    this.store.immediate(() => {
      this.store.vouchers.markSubmitted(c.network, c.id, last.lane, last.nonce, tx.hash)
      this.move(c, 'close', { redeemed, closeTx: tx.hash })
    })
    return { tx, redeemed }
  }

  /** Marks an outbound channel closed after the payee closed it on chain. */
  markClosed(c: ChannelRecord, redeemed: bigint, txHash: string): void {
    this.move(c, 'close', { redeemed, closeTx: txHash })
  }
}

function checkedAddress(a: string, what: string): string {
  try {
    return getAddress(a)
  } catch {
    throw new UsageError(`Invalid ${what} address "${a}".`)
  }
}
