/**
 * Payments through a hub on EVM (issue 12, DESIGN §11; core/channel/lock.ts has the flow and
 * the wire forms): the payer's `pay --via`, the hub's acceptance and forwarding, the payee's
 * acceptance of a forwarded voucher and of a routed purchase, the simplification of both hops
 * and the expiry of locks that passed unfulfilled.
 *
 * Money rules: every voucher is committed before it leaves the process (payer, hub) or before
 * the secret is revealed (payee); a refused request writes nothing. The hub takes the payer's
 * voucher only when the payer's channel covers it beside every other in-flight lane (the
 * ordinary deposit rule over all held lanes) and forwards for at most the amount; its own lock
 * ends `margin` seconds before the payer's, so once the payee reveals the secret the hub has
 * that long to redeem the payer's voucher on chain. A conditional voucher is simplified only
 * after the secret is known, by an unconditional voucher for the same amount on the same lane
 * (departure from DESIGN §11, which merges it into the main lane: see the issue 12 note).
 */
import { computeAddress, getAddress, ZeroAddress } from 'ethers'
import type { z } from 'zod'
import type { ChannelManager } from './manager.js'
import type { MerchantLink } from '../../core/scheme/index.js'
import type { HubNode, HubPaymentView, HubPolicy, HubSummary, LockAnswer, PayViaOptions, RoutedPayment } from '../../core/scheme/hub.js'
import type { ChannelRecord, LockedPayment, VoucherRecord } from '../../core/store/index.js'
import {
  ForwardRequestWireSchema, LockRequestWireSchema, UnlockRequestWireSchema, defaultMaxFee, feeFor, lockRefusal, parseLockWire, readHubInfo,
  type HubInfo,
} from '../../core/channel/lock.js'
import { decryptSecret, drawSecret, encryptSecret, secretHashOf, secretProof } from '../../core/channel/secret.js'
import { voucherFromWire } from '../../core/channel/voucher-wire.js'
import { ZERO_HASH, sameVoucher, voucherOfFamily, voucherToWire, type EvmVoucher } from '../../core/channel/voucher.js'
import { allocateLane } from '../../core/channel/funds.js'
import { VoucherRefusedError, refundCharge } from '../../core/channel/accept.js'
import { groupCommit } from '../../core/store/group-commit.js'
import { short } from '../../core/channel/reader.js'
import { ChannelsError, InsufficientFundsError, InvalidVoucherError, NetworkError, NotFoundError, PaymentRefusedError, UsageError } from '../../core/errors.js'
import { acceptVoucher, type AcceptPolicy } from './inbound.js'
import { deliveryExtra, evmChannel } from './channel.js'
import { fullStatus } from '../../core/channel/status.js'

const refused = (status: number, reason: string, error: string): LockAnswer => ({ status, body: { error, reason } })

/**
 * A request body parsed by its strict schema, with its voucher decoded; or the 400 answer (`malformed`) when either
 * is not what it should be (voucherFromWire throws a UsageError for a lane or nonce out of range, a bad signature form).
 */
function parseRequest<S extends z.ZodTypeAny>(schema: S, input: unknown, what: string): { req: z.output<S>; v: EvmVoucher } | LockAnswer {
  try {
    const req = parseLockWire(schema, input, what)
    return { req, v: voucherFromWire(req.voucher) }
  } catch (err) {
    if (err instanceof UsageError) return refused(400, 'malformed', err.shortMessage) // InvalidVoucherError is one
    throw err
  }
}

/**
 * Fault injection for the crash tests (issue 12: `kill -9` of the hub or the payer at each step
 * of a payment): when the environment's `CHANNELS_CRASH_AT` names `step`, the process kills
 * itself with SIGKILL there, exactly as `kill -9` would. Steps: `payer:locked` (voucher committed,
 * not sent), `payer:fulfilled` (secret confirmed, the unlock voucher committed with the row fulfilled, not sent), `hub:accepted` (payer's
 * voucher committed, the hub's lane claimed), `hub:signed` (hub's voucher committed, not forwarded), `hub:revealed`
 * (payee answered, secret not stored), `hub:fulfilled` (secret and the unlock voucher to the payee committed, payer
 * not answered),
 * `hub:unlocking` (before the unlock voucher goes to the payee), `hub:delivered` (the payee took the
 * unlock voucher, the row does not say so yet), `hub:unlocked` (the payer's unlock voucher stored,
 * the row does not say so yet).
 */
function crashPoint(step: string): void {
  if (process.env.CHANNELS_CRASH_AT === step) process.kill(process.pid, 'SIGKILL')
}

/** The chain's time for lock checks, unix seconds: the later of the latest block's and the clock (read at most once a second). */
const clocks = new WeakMap<ChannelManager, { at: number; chain: number }>()
export async function lockNow(m: ChannelManager): Promise<number> {
  const wall = Math.floor(Date.now() / 1000)
  const c = clocks.get(m)
  if (c && Date.now() - c.at < 1000) return Math.max(wall, c.chain)
  const chain = await m.backend.now()
  clocks.set(m, { at: Date.now(), chain })
  return Math.max(wall, chain)
}

/** The conditional voucher a payment row names. */
function lockedVoucher(m: ChannelManager, channelId: string, lane: bigint, nonce: bigint): EvmVoucher | undefined {
  const v = m.store.vouchers.get(m.network.caip2, channelId, lane, nonce)
  return v && voucherOfFamily(v, 'evm')
}

/**
 * Claims a lane of `c` for one conditional payment, in one write transaction with `claim` (which
 * writes the payment's row naming the lane): the lowest lane this role used before whose held
 * voucher is unconditional (simplified or expired) and that no payment holds (`store.locks.holds`), else a new
 * lane (`allocateLane`). So a channel has as many lanes as payments in flight at once.
 * Runs in the caller's transaction when there is one (a savepoint), else in its own.
 */
function claimLane(m: ChannelManager, c: ChannelRecord, role: 'payer' | 'hub', claim: (lane: bigint) => void): bigint {
  const net = m.network.caip2
  return m.store.immediate(() => {
    for (const lane of m.store.locks.lanesOf(net, role, c.id)) {
      const last = m.store.vouchers.latest(net, c.id, lane)
      if (last && last.family === 'evm' && last.secretHash !== ZERO_HASH) continue
      if (m.store.locks.holds(net, role, c.id, lane)) continue
      claim(lane)
      return lane
    }
    const lane = allocateLane(m.store, c)
    claim(lane)
    return lane
  })
}

/**
 * The unconditional voucher replacing the conditional one on `lane` (same amount, next nonce):
 * the one already made if a crash interrupted its delivery, else a new one, committed with
 * `onCommit` (the payment's row: fulfilled) in one transaction.
 */
async function unlockVoucher(m: ChannelManager, c: ChannelRecord, lane: bigint, onCommit?: () => void): Promise<VoucherRecord<EvmVoucher>> {
  const last = m.store.vouchers.latest(c.network, c.id, lane)
  if (last && last.family === 'evm' && last.secretHash === ZERO_HASH) {
    if (onCommit) await groupCommit(m.store, onCommit)
    return last
  }
  return m.createVoucher(c, (previous) => previous, lane, { onCommit })
}

// ── Expiry ─────────────────────────────────────────────────────────────────────────

/**
 * Marks every held hash-locked voucher whose time lock is behind the chain's latest block and
 * that was not redeemed on chain as expired (it counts for nothing from then on: the payer's
 * funds are free again), and the payments they belong to as `expired` unless fulfilled.
 * Reads the latest block once and each candidate lane once.
 * @returns what it marked, per channel
 * @throws {NetworkError} the node is unreachable
 */
export async function expireLocks(m: ChannelManager): Promise<LockChange[]> {
  const net = m.network.caip2
  const chainNow = BigInt(await m.backend.now())
  const marked: LockChange[] = []
  // Strictly before the latest block: the next block's time is at least the latest's, so the contract's `>` holds for it.
  for (const v of m.store.vouchers.lockedBefore(net, chainNow)) {
    const head = m.store.vouchers.latest(net, v.channelId, v.lane)
    if (head?.nonce !== v.nonce) continue // superseded by a later voucher on its lane: nothing counts it
    const lane = await m.backend.getLane(v.channelId, v.lane)
    if (lane.nonce >= v.nonce) continue // redeemed on chain before it expired: `sync` records it
    m.store.immediate(() => {
      if (!m.store.vouchers.markExpired(net, v.channelId, v.lane, v.nonce)) return
      m.store.locks.expireVoucher(net, v.channelId, v.lane, v.nonce)
      marked.push({ channelId: v.channelId, change: `lane ${v.lane}: its hash lock ended at ${v.family === 'evm' ? v.timeLockMax : '?'} unredeemed; the lane is worth its previous voucher again` })
    })
  }
  return marked
}

// ── Payer ──────────────────────────────────────────────────────────────────────────

/** A hub's `GET /`, parsed. @throws {NetworkError} · {PaymentRefusedError} not a hub */
export async function hubInfo(link: MerchantLink, hubUrl: string): Promise<HubInfo> {
  return readHubInfo((url) => link.get(url), hubUrl).catch((err: unknown) => {
    throw err instanceof InvalidVoucherError ? new PaymentRefusedError(err.shortMessage) : err
  })
}

/**
 * Pays `amount` to `payee` through the hub at `hubUrl` (the seed's `lightning_spend`): a lane of
 * the payer's channel to the hub with no payment in flight gets a voucher adding amount + fee,
 * locked to the hash of a fresh secret, committed after the payment's row and before it is sent; the secret goes to the
 * payee encrypted to its key (checked to be the key of `payee`, so the hub cannot read it).
 * Once the hub answers the secret, the voucher is replaced by an unconditional one.
 * @throws {UsageError} bad amount or address, another network · {PaymentRefusedError} the hub refused, answered a wrong secret, or asks more than `maxFee`
 * @throws {NotFoundError} no open channel to the hub whose settle delay covers the lock (opening one is the user's call) · {InsufficientFundsError} the fullest such channel cannot cover amount + fee (the shortfall)
 * @throws {NetworkError} hub unreachable, or it could not reach the payee (HTTP 504; the payment stays pending, the lock stays until it expires or `sync` learns the outcome)
 */
export async function payThroughHub(m: ChannelManager, link: MerchantLink, hubUrl: string, payeeIn: string, amount: bigint, o: PayViaOptions = {}): Promise<RoutedPayment> {
  if (amount <= 0n) throw new UsageError('The amount must be above zero.')
  let payee: string
  try {
    payee = getAddress(payeeIn)
  } catch {
    throw new UsageError(`Invalid payee address "${payeeIn}".`)
  }
  const hub = hubUrl.replace(/\/$/, '')
  // The description the caller read already (buy's choice of a hub), else asked now.
  const info = o.info ?? (await hubInfo(link, hub))
  const net = m.network.caip2
  if (info.network !== net) throw new UsageError(`The hub at ${hub} routes on ${info.network}, not on ${net}; choose its network with --network.`)
  const fee = feeFor({ base: info.feeBase, ppm: info.feePpm }, amount)
  // A hub names its own fee: without a bound from the user, at most 5 % of the amount.
  const maxFee = o.maxFee ?? defaultMaxFee(amount)
  if (fee > maxFee) {
    throw new PaymentRefusedError(`The hub asks a fee of ${fee} for ${amount}, above ${o.maxFee === undefined ? 'the default bound (5 % of the amount)' : 'the bound'} of ${maxFee}.`, {
      metaMessages: ['Allow it with --max-fee <amount>, or use another hub.'],
    })
  }
  const pubkey = o.payeePubkey ?? (await payeeKeyFromHub(link, hub, payee))
  checkPayeeKey(pubkey, payee)
  const lockSeconds = o.lockSeconds ?? info.minLock + info.margin + 120
  // The hub takes a lock only on a channel that cannot close before it ends: settle delay ≥ the lock + its margin.
  const lasting = (c: ChannelRecord) => evmChannel(c).data.settleDelay >= lockSeconds + info.margin
  const found = m.payableChannels(info.address, amount + fee).map((x) => x.channel).find(lasting)
  const fullest = found ? undefined : m.payableChannels(info.address, 0n).find((x) => lasting(x.channel))
  if (fullest) {
    // A channel to the hub exists but cannot cover it (spent, or held by payments in flight): a shortfall, as `pay` says it.
    throw new InsufficientFundsError(`Channel ${short(fullest.channel.id)} to the hub has ${fullest.available} available; the payment needs ${amount + fee} (the amount plus the hub's fee ${fee}).`, amount + fee - fullest.available, {
      metaMessages: ['Top it up with `channels fund`; conditional amounts of payments that did not go through are free again once their locks end and `channels sync` runs.'],
    })
  }
  if (!found) {
    throw new NotFoundError(`No open channel to the hub ${info.address} with a settle delay of at least ${lockSeconds + info.margin} s (the lock plus the hub's margin); the payment needs ${amount + fee} (the amount plus the hub's fee ${fee}).`, {
      metaMessages: [`Open one: \`channels open ${info.address} <deposit> --settle-delay ${Math.max(3600, lockSeconds + info.margin)}\`.`],
    })
  }
  const { secret, secretHash: hash } = drawSecret()
  const timeLock = (await lockNow(m)) + lockSeconds
  // The row is written with the lane it claims, before the voucher is signed: a crash leaves a claim, never an untracked voucher.
  // Not synced on its own: the voucher's commit below syncs the WAL, this claim with it, before the voucher leaves.
  const lane = m.store.relaxed(() => claimLane(m, found, 'payer', (lane) =>
    m.store.locks.insert({ network: net, hash, role: 'payer', payee, amount, fee, outChannel: found.id, outLane: lane, outTimeLock: timeLock, secret, hub, state: 'pending' })))
  let v: EvmVoucher
  try {
    v = await m.createVoucher(found, (previous) => previous + amount + fee, lane, {
      lock: { secretHash: hash, timeLockMax: BigInt(timeLock) },
      onCommit: (v) => {
        m.store.locks.update(net, hash, 'payer', { outNonce: v.nonce })
        o.onCommit?.({ channelId: v.channelId, lane: v.lane, nonce: v.nonce, fee })
      },
    })
  } catch (err) {
    m.store.locks.update(net, hash, 'payer', { state: 'refused', error: String((err as Error).message).slice(0, 500) })
    throw err
  }
  const body = { network: net, payee, amount: amount.toString(), fee: fee.toString(), hash, encryptedSecret: encryptSecret(pubkey, secret, amount), voucher: voucherToWire(v) }
  crashPoint('payer:locked')
  const r = await link.post(`${hub}/lock`, {}, JSON.stringify(body), { noRetry: true }).catch((err: unknown) => {
    throw new NetworkError(`${(err as Error).message}. The payment may still go through: \`channels sync\` asks the hub; otherwise its lock ends at ${timeLock}.`, { cause: err })
  })
  const paid = { hash, secret, payee, amount, fee, channelId: found.id, lane, asset: found.asset, hub, timeLock, unlocked: false }
  if (r.status === 504) {
    // The hub holds the voucher and retries the payee until its own lock ends: not a refusal yet.
    throw new NetworkError(`The hub could not reach the payee: ${String(r.json.error ?? 'HTTP 504')}`, {
      metaMessages: [`The hub retries until its lock ends; \`channels sync\` learns the outcome. If the payee never answers, ${amount + fee} of channel ${short(found.id)} stays locked until ${new Date(timeLock * 1000).toISOString()}, then \`channels sync\` frees it.`],
    })
  }
  if (r.status !== 200) {
    m.store.locks.update(net, hash, 'payer', { state: 'refused', error: String(r.json.error ?? r.status).slice(0, 500) })
    throw new PaymentRefusedError(`The hub refused the payment: ${String(r.json.error ?? `HTTP ${r.status}`)}`, {
      metaMessages: [`Nothing was paid; ${amount + fee} of channel ${short(found.id)} stays locked until ${new Date(timeLock * 1000).toISOString()} (the hub cannot redeem it without the secret), then \`channels sync\` frees it.`],
      data: { reason: r.json.reason },
    })
  }
  if (r.json.secret !== secret) throw new PaymentRefusedError('The hub answered a secret that is not the one sent to the payee; the payment is not proven. Its lock ends unless the hub proves it.')
  const unlocking = unlockAtHub(m, link, m.store.locks.get(net, hash, 'payer')!, true).catch(async () => {
    // Paid, and proven by the secret; the unconditional voucher could not be made or recorded now: `sync` retries it.
    await groupCommit(m.store, () => m.store.locks.update(net, hash, 'payer', { state: 'fulfilled' })).catch(() => undefined)
    return false
  })
  if (o.unlockInBackground) return { ...paid, unlocking }
  paid.unlocked = await unlocking
  return paid
}

/** The payee's public key as the hub read it from the payee's endpoint. @throws {PaymentRefusedError} the hub does not know one */
async function payeeKeyFromHub(link: MerchantLink, hub: string, payee: string): Promise<string> {
  const r = await link.get(`${hub}/payees/${payee}`)
  if (r.status !== 200 || typeof r.json.pubkey !== 'string') {
    throw new PaymentRefusedError(`The hub has no channel to ${payee} (${String(r.json.error ?? `HTTP ${r.status}`)}).`, { metaMessages: ['Pay a payee the hub serves, or give its public key with --payee-pubkey.'] })
  }
  return r.json.pubkey
}

/** Addresses of the payee keys checked so far (public key as given → EIP-55 address). */
const keyAddresses = new Map<string, string>()

/** A public key handed in for `payee` must be its key: else the secret would be encrypted to someone else (the hub). @throws {PaymentRefusedError} */
export function checkPayeeKey(pubkey: string, payee: string): void {
  let address = keyAddresses.get(pubkey)
  if (address === undefined) {
    try {
      // ≈1 ms of pure-JS point decompression and keccak: once per key (a buyer pays the same merchants again and again).
      address = computeAddress(pubkey)
      if (keyAddresses.size >= 1024) keyAddresses.clear()
      keyAddresses.set(pubkey, address)
    } catch {
      /* below */
    }
  }
  if (address !== getAddress(payee)) throw new PaymentRefusedError(`The public key given for ${payee} is not its key; the secret would not be encrypted to the payee.`)
}

/**
 * Payer: sends the unconditional voucher replacing a fulfilled payment's conditional one to the hub.
 * @param fulfilled - the hub just answered the payment's secret: the row turns `fulfilled` in the
 *   unconditional voucher's transaction (else the row is fulfilled already)
 * @returns whether the hub took it (else `sync` retries)
 */
export async function unlockAtHub(m: ChannelManager, link: MerchantLink, p: LockedPayment, fulfilled = false): Promise<boolean> {
  const c = m.store.channels.get(p.network, p.outChannel!)
  if (!c || !p.hub || p.outUnlocked) return p.outUnlocked
  const v = await unlockVoucher(m, c, p.outLane!, fulfilled ? () => m.store.locks.update(p.network, p.hash, 'payer', { state: 'fulfilled' }) : undefined)
  if (fulfilled) crashPoint('payer:fulfilled')
  try {
    const r = await link.post(`${p.hub}/unlock`, {}, JSON.stringify({ network: p.network, hash: p.hash, voucher: voucherToWire(v) }))
    if (r.status !== 200) return false
  } catch {
    return false
  }
  // What the hub took and that the payment is simplified: bookkeeping (store.relaxed), the voucher is on disk already;
  // lost to a power cut, `sync` sends the unlock again and the hub answers it took it.
  m.store.relaxed(() => {
    m.acknowledge(c, v, c.charged)
    m.store.locks.update(p.network, p.hash, 'payer', { outUnlocked: true })
  })
  return true
}

/**
 * Payer, `channels sync`: for payments not settled, asks the hub (`GET <hub>/lock/<hash>` with a fresh
 * challenge) and simplifies those it proves fulfilled (its `proof` opens with the payer's secret); then expires locks that passed. @returns what changed, per channel
 */
export async function syncRoutedPayments(m: ChannelManager, link: MerchantLink): Promise<LockChange[]> {
  const net = m.network.caip2
  const changes: LockChange[] = []
  for (const p of m.store.locks.list(net, 'payer', ['pending', 'fulfilled'])) {
    if (p.outUnlocked || !p.hub) continue
    if (p.state === 'pending') {
      // The hub's word that the payee revealed the secret is not enough to sign an unconditional voucher: it must prove it knows the secret.
      const challenge = drawSecret().secret
      const r = await link.get(`${p.hub}/lock/${p.hash}?challenge=${challenge}`).catch(() => undefined)
      if (r?.status !== 200 || r.json.state !== 'fulfilled' || r.json.proof !== secretProof(p.secret!, challenge)) continue
      m.store.locks.update(net, p.hash, 'payer', { state: 'fulfilled' })
    }
    if (await unlockAtHub(m, link, { ...p, state: 'fulfilled' })) {
      changes.push({ channelId: p.outChannel!, change: `lane ${p.outLane}: payment ${p.hash.slice(0, 10)}… to ${p.payee} fulfilled; its voucher is now unconditional` })
    }
  }
  return [...changes, ...(await expireLocks(m))]
}

/** A change `sync` reports on a channel. */
export interface LockChange {
  channelId: string
  change: string
}

// ── Hub ────────────────────────────────────────────────────────────────────────────

/**
 * The hub of one wallet (`channels hub`): the service's logic behind its HTTP routes
 * (core/transports/hub). Every method answers; none throws for a refusal.
 */
export class EvmHub implements HubNode {
  private readonly accepting: AcceptPolicy
  /** In-flight forwards per hash (a retry after a crash and a request never run twice at once). */
  private readonly forwarding = new Map<string, Promise<LockAnswer>>()
  /** Payments a `lock` request of this process is handling: {@link recover} leaves them to it. */
  private readonly active = new Set<string>()

  constructor(
    private readonly m: ChannelManager,
    private readonly link: MerchantLink,
    readonly policy: HubPolicy,
  ) {
    this.accepting = { minSettleDelay: policy.minSettleDelay, asset: ZeroAddress }
  }

  /** `GET /`. */
  info(): HubInfo {
    const p = this.policy
    return { network: this.m.network.caip2, address: this.m.address, contract: this.m.backend.contract, feeBase: p.base, feePpm: p.ppm, minLock: p.minLock, margin: p.margin }
  }

  /** `GET /payees/<address>`: the payee's public key, as its endpoint gives it (the payer checks it against the address). */
  async payee(address: string): Promise<LockAnswer> {
    let payee: string
    try {
      payee = getAddress(address)
    } catch {
      return refused(400, 'bad_address', 'Not an address.')
    }
    const c = this.outboundTo(payee, 0n)
    if (!c?.endpoint) return refused(404, 'no_route', `This hub has no open channel with an endpoint to ${payee}.`)
    try {
      const r = await this.link.get(c.endpoint.replace(/\/$/, ''))
      if (r.status !== 200 || typeof r.json.pubkey !== 'string') return refused(502, 'payee_unknown', 'The payee\'s endpoint gives no public key.')
      return { status: 200, body: { payee, pubkey: r.json.pubkey, endpoint: c.endpoint } }
    } catch (err) {
      return refused(502, 'payee_unreachable', `The payee's endpoint is unreachable: ${(err as Error).message}`)
    }
  }

  /** The fullest open outbound channel to `payee` with an endpoint that covers `amount`. */
  private outboundTo(payee: string, amount: bigint): ChannelRecord | undefined {
    return this.m.payableChannels(payee, amount).find((x) => x.channel.endpoint)?.channel
  }

  /**
   * `POST /lock` (the seed's `lock_spend`): checks the request, commits the payer's voucher with
   * the payment's row, signs and commits the hub's own conditional voucher to the payee, forwards
   * it, and answers the secret the payee reveals.
   * Statuses: 200 `{hash, secret}`; 400 malformed; 409 refused (`reason`); 502/504 the payee refused or did not answer.
   */
  async lock(input: unknown): Promise<LockAnswer> {
    let hash: string | undefined
    try {
      return await this.lockOnce(input, (h) => this.active.add((hash = h)))
    } finally {
      if (hash) this.active.delete(hash)
    }
  }

  private async lockOnce(input: unknown, claim: (hash: string) => void): Promise<LockAnswer> {
    const m = this.m
    const net = m.network.caip2
    const parsed = parseRequest(LockRequestWireSchema, input, 'lock request')
    if ('status' in parsed) return parsed
    const { req, v } = parsed
    if (req.network !== net) return refused(409, 'wrong_network', `This hub routes on ${net}, not ${req.network}.`)
    const payee = getAddress(req.payee)
    if (payee === m.address) return refused(409, 'no_route', 'The payee is the hub itself; pay it on the channel directly.')
    const amount = BigInt(req.amount)
    const fee = BigInt(req.fee)
    if (this.active.has(req.hash) || m.store.locks.get(net, req.hash, 'hub')) return refused(409, 'replay', `A payment with hash ${req.hash} was taken already; a payment needs a fresh secret.`)
    claim(req.hash)
    const now = await lockNow(m)
    const terms = lockRefusal({ amount, fee, timeLock: v.timeLockMax, voucherHash: v.secretHash, hash: req.hash }, this.policy, now)
    if (terms) return refused(409, terms.reason, terms.message)
    if (v.timeLockMax - BigInt(this.policy.margin) <= BigInt(now)) return refused(409, 'lock_too_short', 'The lock leaves the hub no time to forward.')
    const out = this.outboundTo(payee, amount)
    if (!out) return refused(409, 'no_route', `This hub has no open channel to ${payee} with ${amount} available.`)
    const timeLock = Number(v.timeLockMax) - this.policy.margin
    let lane: bigint | undefined
    try {
      await acceptVoucher(m, v, 0n, this.accepting, undefined, {
        hash: req.hash, minTimeLock: BigInt(now + this.policy.minLock), value: amount + fee,
        // The payer may start settling now; the hub hears of it within a watch round (< margin) and must still redeem up to T1.
        maxTimeLock: (settleDelay) => BigInt(now + settleDelay - this.policy.margin),
        // The payment's row and the lane of the hub's own voucher, in the payer's voucher's commit.
        onCommit: () => {
          m.store.locks.insert({
            network: net, hash: req.hash, role: 'hub', payee, amount, fee, inChannel: v.channelId, inLane: v.lane, inNonce: v.nonce, inTimeLock: Number(v.timeLockMax),
            encryptedSecret: req.encryptedSecret, state: 'pending',
          })
          lane = claimLane(m, out, 'hub', (lane) => m.store.locks.update(net, req.hash, 'hub', { outChannel: out.id, outLane: lane, outTimeLock: timeLock }))
        },
      }, { durable: false }) // synced with the hub's own voucher's commit below, before that voucher leaves
    } catch (err) {
      if (err instanceof VoucherRefusedError) return refused(409, err.reason, err.message)
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return refused(409, 'replay', `A payment with hash ${req.hash} was taken already.`)
      if (err instanceof NetworkError) return refused(503, 'chain_unreachable', err.shortMessage)
      if (err instanceof ChannelsError) return refused(409, 'no_route', `The hub cannot pay ${payee} now: ${err.shortMessage}`)
      throw err
    }
    // A voucher held already is taken as held without a new row (acceptVoucher): not this payment's.
    if (lane === undefined) return refused(409, 'replay', `The voucher for ${req.hash} was taken already.`)
    // The payer's voucher is held (it counts for the payer until T1); now the hub's own.
    crashPoint('hub:accepted')
    try {
      await m.createVoucher(out, (previous) => previous + amount, lane, {
        lock: { secretHash: req.hash, timeLockMax: BigInt(timeLock) }, onCommit: (ov) => m.store.locks.update(net, req.hash, 'hub', { outNonce: ov.nonce }),
      })
    } catch (err) {
      if (!(err instanceof ChannelsError)) throw err
      m.store.locks.update(net, req.hash, 'hub', { state: 'refused', error: err.shortMessage })
      return refused(409, err instanceof InsufficientFundsError ? 'no_liquidity' : 'no_route', `The hub cannot pay ${payee} now: ${err.shortMessage}`)
    }
    crashPoint('hub:signed')
    return this.forward(req.hash)
  }

  /** Posts the hub's conditional voucher of payment `hash` to the payee (one at a time per hash; the payee's side is idempotent). */
  forward(hash: string): Promise<LockAnswer> {
    let p = this.forwarding.get(hash)
    if (!p) {
      p = this.forwardOnce(hash).finally(() => this.forwarding.delete(hash))
      this.forwarding.set(hash, p)
    }
    return p
  }

  private async forwardOnce(hash: string): Promise<LockAnswer> {
    const m = this.m
    const net = m.network.caip2
    const p = m.store.locks.get(net, hash, 'hub')!
    if (p.state === 'fulfilled') return { status: 200, body: { hash, secret: p.secret } }
    if (p.state !== 'pending' || !p.outChannel || p.outNonce === undefined) return refused(409, p.state, p.error ?? `The payment is ${p.state}.`)
    const out = m.store.channels.get(net, p.outChannel)!
    const v = lockedVoucher(m, out.id, p.outLane!, p.outNonce)!
    let r
    try {
      r = await this.link.post(`${out.endpoint!.replace(/\/$/, '')}/lock`, {}, JSON.stringify({ network: net, hash, encryptedSecret: p.encryptedSecret, voucher: voucherToWire(v) }), { noRetry: true })
    } catch (err) {
      return refused(504, 'payee_unreachable', `The payee did not answer (${(err as Error).message}); the hub retries until its lock ends. Ask GET /lock/${hash}.`)
    }
    const secret = r.json.secret
    if (r.status !== 200 || typeof secret !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(secret) || secretHashOf(secret) !== hash) {
      const why = r.status === 200 ? 'answered a secret that does not open the lock' : `refused: ${String(r.json.error ?? `HTTP ${r.status}`)}`
      // The hub's voucher counts against its channel until T2 (the payee cannot redeem it without the secret).
      m.store.locks.update(net, hash, 'hub', { state: 'refused', error: `The payee ${why}`.slice(0, 500) })
      return refused(502, 'payee_refused', `The payee ${why}.`)
    }
    crashPoint('hub:revealed')
    // The secret (it makes the payer's voucher redeemable), and the unconditional voucher to the payee that
    // replaces the hub's conditional one (the payee holds the secret already), in one commit.
    const fulfil = () => {
      m.store.vouchers.setSecret(net, p.inChannel!, p.inLane!, p.inNonce!, secret.toLowerCase())
      m.store.locks.update(net, hash, 'hub', { state: 'fulfilled', secret: secret.toLowerCase() })
    }
    const unlock = await unlockVoucher(m, out, p.outLane!, fulfil).catch(async () => {
      await groupCommit(m.store, fulfil) // the secret whatever happens (e.g. the channel to the payee closing); the unlock waits for recover()
      return undefined
    })
    crashPoint('hub:fulfilled')
    if (unlock) void this.deliverUnlock(hash, unlock).catch(() => undefined) // retried by recover()
    return { status: 200, body: { hash, secret: secret.toLowerCase() } }
  }

  /** Hub → payee: the unconditional voucher replacing the conditional one, delivered. @returns whether the payee took it */
  async unlockOut(hash: string): Promise<boolean> {
    const m = this.m
    const p = m.store.locks.get(m.network.caip2, hash, 'hub')
    if (!p || p.state !== 'fulfilled' || p.outUnlocked) return Boolean(p?.outUnlocked)
    return this.deliverUnlock(hash, await unlockVoucher(m, m.store.channels.get(p.network, p.outChannel!)!, p.outLane!))
  }

  private async deliverUnlock(hash: string, v: VoucherRecord<EvmVoucher>): Promise<true> {
    const m = this.m
    const out = m.store.channels.get(m.network.caip2, v.channelId)!
    crashPoint('hub:unlocking')
    await this.link.deliver(m, out, v, deliveryExtra(out))
    crashPoint('hub:delivered')
    // Bookkeeping (the voucher is on disk at both ends): lost to a power cut, recover() delivers it again and the payee takes it as held.
    m.store.relaxed(() => m.store.locks.update(m.network.caip2, hash, 'hub', { outUnlocked: true }))
    return true
  }

  /** `POST /unlock`: the payer's unconditional voucher replacing its conditional one. 200, 400, 404, 409. */
  async unlock(input: unknown): Promise<LockAnswer> {
    const m = this.m
    const net = m.network.caip2
    const parsed = parseRequest(UnlockRequestWireSchema, input, 'unlock request')
    if ('status' in parsed) return parsed
    const { req, v } = parsed
    const p = req.network === net ? m.store.locks.get(net, req.hash, 'hub') : undefined
    if (!p) return refused(404, 'unknown_payment', 'No payment with that hash.')
    if (v.channelId !== p.inChannel || v.lane !== p.inLane) return refused(409, 'wrong_lane', 'The voucher is not on the payment\'s lane.')
    if (v.secretHash !== ZERO_HASH || v.timeLockMax !== 0n) return refused(409, 'conditional', 'An unlock voucher has no hash lock or time lock.')
    if (p.inUnlocked) return { status: 200, body: { hash: p.hash, unlocked: true } }
    try {
      // Not synced on its own: a power cut that forgets it costs the hub nothing (it holds the conditional voucher and
      // the secret, and redeems that); the payer's next unlock is taken again.
      await acceptVoucher(m, v, 0n, this.accepting, undefined, undefined, { durable: false })
    } catch (err) {
      if (err instanceof VoucherRefusedError) return refused(409, err.reason, err.message)
      if (err instanceof NetworkError) return refused(503, 'chain_unreachable', err.shortMessage)
      throw err
    }
    crashPoint('hub:unlocked')
    // Bookkeeping (the payer's voucher was committed above): lost to a power cut, the payer's next unlock is taken as held.
    m.store.relaxed(() => m.store.locks.update(net, p.hash, 'hub', { inUnlocked: true }))
    return { status: 200, body: { hash: p.hash, unlocked: true } }
  }

  /**
   * `GET /lock/<hash>`: the state of a payment, never its secret (the payer drew it; a public secret
   * would let anyone spend the routed proof). With `challenge` (32 bytes of 0x hex), a fulfilled
   * payment also answers `proof` = sha256(secret ‖ challenge): the payer's evidence that the payee
   * revealed the secret, which a hub's word alone is not.
   */
  payment(hash: string, challenge?: string): LockAnswer {
    const p = /^0x[0-9a-fA-F]{64}$/.test(hash) ? this.m.store.locks.get(this.m.network.caip2, hash, 'hub') : undefined
    if (!p) return refused(404, 'unknown_payment', 'No payment with that hash.')
    const proof = p.state === 'fulfilled' && p.secret && challenge && /^0x[0-9a-fA-F]{64}$/.test(challenge) ? { proof: secretProof(p.secret, challenge) } : {}
    return { status: 200, body: { hash: p.hash, state: p.state, amount: p.amount.toString(), fee: p.fee.toString(), inUnlocked: p.inUnlocked, outUnlocked: p.outUnlocked, ...proof } }
  }

  /**
   * After a restart and periodically: forwards payments a crash left pending (the payee's side
   * is idempotent), delivers unlocks not yet delivered, refuses payments the crash stopped before
   * the hub's own voucher, and expires locks that passed.
   */
  async recover(): Promise<void> {
    const m = this.m
    const net = m.network.caip2
    const now = await lockNow(m)
    for (const p of m.store.locks.list(net, 'hub', ['pending', 'fulfilled'])) {
      if (this.active.has(p.hash)) continue // its request is still being answered
      if (p.state === 'pending' && p.outNonce === undefined) {
        m.store.locks.update(net, p.hash, 'hub', { state: 'refused', error: 'The hub stopped before forwarding.' })
      } else if (p.state === 'pending' && (p.outTimeLock ?? 0) > now) {
        await this.forward(p.hash)
      } else if (p.state === 'fulfilled' && !p.outUnlocked) {
        await this.unlockOut(p.hash).catch(() => false)
      }
    }
    await expireLocks(m)
  }

  /** `channels hub status`. */
  summary(recent = 20): HubSummary {
    const m = this.m
    const net = m.network.caip2
    const all = m.store.locks.list(net, 'hub')
    const count = { pending: 0, fulfilled: 0, refused: 0, expired: 0 }
    let feesEarned = 0n
    const inFlight = { inbound: 0n, outbound: 0n }
    for (const p of all) {
      count[p.state]++
      if (p.state === 'fulfilled') feesEarned += p.fee
      if (p.state === 'pending') {
        inFlight.inbound += p.amount + p.fee
        if (p.outChannel) inFlight.outbound += p.amount
      }
    }
    const channels = m.store.channels.list({ network: net }).filter((c) => c.state === 'open').map((c) => {
      const s = fullStatus(m, c)
      return {
        channelId: c.id, direction: c.direction, peer: c.direction === 'inbound' ? c.payer : c.payee, deposit: c.deposit, spent: s.spent,
        available: s.available, conditional: s.conditional, endpoint: c.endpoint,
      }
    })
    const view = (p: LockedPayment): HubPaymentView => ({
      hash: p.hash, state: p.state, payee: p.payee, amount: p.amount, fee: p.fee, inChannel: p.inChannel, outChannel: p.outChannel, inUnlocked: p.inUnlocked, outUnlocked: p.outUnlocked,
    })
    return { address: m.address, network: net, payments: count, feesEarned, inFlight, channels, recent: all.slice(0, recent).map(view) }
  }
}

// ── Payee ──────────────────────────────────────────────────────────────────────────

/**
 * `POST <endpoint>/lock` on the payee's paywall (the seed's `teach_secrets`): decrypts the secret
 * with this wallet's key, checks it opens the hash, and stores the hub's conditional voucher with
 * it (adding at least the amount the payer encrypted with the secret to a lane whose held voucher
 * is unconditional, locked at least `minLock` seconds ahead, within the channel's deposit beside
 * every held lane) before answering the secret. Idempotent for the same voucher (a hub retrying
 * after a crash); another voucher for a hash already held is refused.
 * Statuses: 200 `{hash, secret}`, 400 malformed, 409 refused, 503 chain unreachable.
 */
export async function acceptForward(m: ChannelManager, accepting: AcceptPolicy, input: unknown, minLock: number): Promise<LockAnswer> {
  const net = m.network.caip2
  const parsed = parseRequest(ForwardRequestWireSchema, input, 'forwarded payment')
  if ('status' in parsed) return parsed
  const { req, v } = parsed
  if (req.network !== net) return refused(409, 'wrong_network', `This payee is paid on ${net}, not ${req.network}.`)
  const held = m.store.locks.get(net, req.hash, 'payee')
  if (held) {
    // The hub retrying the very voucher it sent (after a crash); any other voucher, even on the same lane and nonce, was not taken.
    const same = held.inChannel === v.channelId && held.inLane === v.lane && held.inNonce === v.nonce ? lockedVoucher(m, v.channelId, v.lane, v.nonce) : undefined
    if (same && sameVoucher(same, v)) return { status: 200, body: { hash: held.hash, secret: held.secret } }
    return refused(409, 'replay', `A payment with hash ${req.hash} is held already.`)
  }
  let secret: string
  let sent: bigint
  try {
    const opened = decryptSecret((await m.signer()).privateKey, req.encryptedSecret, req.hash)
    // The payer's amount rides with the secret: a hub forwarding less never learns the secret.
    sent = opened.amount
    secret = opened.secret
  } catch (err) {
    if (err instanceof InvalidVoucherError) return refused(409, 'bad_secret', err.shortMessage)
    throw err
  }
  const now = await lockNow(m)
  try {
    // The payer's amount rides with the secret: the voucher must add at least that, or a hub forwarding less would learn the secret.
    await acceptVoucher(m, v, 0n, accepting, undefined, {
      hash: req.hash, secret, minTimeLock: BigInt(now + minLock), minValue: sent,
      onCommit: (_, value) => m.store.locks.insert({
        network: net, hash: req.hash, role: 'payee', payee: m.address, amount: value, fee: 0n, inChannel: v.channelId, inLane: v.lane, inNonce: v.nonce,
        inTimeLock: Number(v.timeLockMax), secret, state: 'fulfilled',
      }),
    })
  } catch (err) {
    if (err instanceof VoucherRefusedError) return refused(409, err.reason, err.message)
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return refused(409, 'replay', `A payment with hash ${req.hash} is held already.`)
    if (err instanceof NetworkError) return refused(503, 'chain_unreachable', err.shortMessage)
    throw err
  }
  return { status: 200, body: { hash: req.hash, secret } }
}

/**
 * A routed purchase (`payload.type: "routed"`, DESIGN §11): serves when this wallet holds a
 * conditional voucher for `hash` (received from a hub) worth at least `price`, not yet used for
 * a request, and `secret` opens the hash. Marks it used and charges the hub's channel, in one
 * write transaction, before the resource is produced.
 * @throws {VoucherRefusedError} `wrong_secret`, `unknown_payment`, `already_used`, `amount_too_low`
 */
export async function acceptRouted(m: ChannelManager, hash: string, secret: string, price: bigint): Promise<{ channel: ChannelRecord; charged: bigint }> {
  const net = m.network.caip2
  let opens = false
  try {
    opens = secretHashOf(secret) === hash.toLowerCase()
  } catch {
    /* below */
  }
  if (!opens) throw new VoucherRefusedError('The secret does not open the payment\'s hash.', 'wrong_secret')
  return groupCommit(m.store, () => {
    const p = m.store.locks.get(net, hash, 'payee')
    if (!p) throw new VoucherRefusedError('No payment through a hub with that hash reached this merchant (yet).', 'unknown_payment')
    if (p.spent) throw new VoucherRefusedError('That payment paid for a request already.', 'already_used')
    if (p.amount < price) throw new VoucherRefusedError(`The payment is worth ${p.amount}; the price is ${price}.`, 'amount_too_low')
    const ch = m.store.channels.get(net, p.inChannel!)!
    m.store.locks.update(net, p.hash, 'payee', { spent: true })
    const charged = ch.charged + price
    m.store.channels.update(net, ch.id, { charged })
    return { channel: { ...ch, charged }, charged }
  })
}

/** Gives a routed purchase back after the resource failed: the payment can pay for another request. */
export function refundRouted(m: ChannelManager, channel: ChannelRecord, hash: string, price: bigint): void {
  m.store.immediate(() => {
    refundCharge(m, channel, price)
    m.store.locks.update(m.network.caip2, hash, 'payee', { spent: false })
  })
}

/** The payee's key for `extra.payToPubkey` and its endpoint's `pubkey` (compressed, 0x hex). Unlocks the key. */
export async function payeePubkey(m: ChannelManager): Promise<string> {
  return (await m.signer()).signingKey.compressedPublicKey
}

