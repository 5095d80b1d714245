/**
 * The buyer (DESIGN §6): fetches a URL, answers a 402 by paying over a channel to
 * the merchant (opening one if the policy allows), and returns the resource.
 *
 * The voucher is committed to the database before it is sent. The next voucher's
 * cumulative amount is `max(previous amount, charged + price)`, where `charged` is what
 * the merchant last reported it charged: credit left by a request it did not charge
 * (its handler failed) pays for the next one.
 * A corrective 402 is trusted only for a voucher this wallet itself signed.
 * The whole purchase runs under curl's `--max-time` and `--connect-timeout` (see exchange.ts).
 * The chain family is reached only through its {@link X402Payer} (core/scheme/buyer.ts).
 *
 * Through a hub (issue 12, DESIGN §11): when no channel to the merchant can pay and the 402
 * lists a hub this wallet has a channel to (routed.ts chooses it; `--via` names one), the price
 * is paid to the merchant through the hub (the family's `locks.payVia`: a conditional voucher for
 * price + fee, committed before it leaves, answered with the secret) and the request is retried
 * once with the proof, `payload: {type: "routed", hash, secret}`.
 *
 * Budgets and the record of spending (issue 13 §3, core/spending): a purchase is checked against
 * the budgets of the URL's origin and `*` before a channel is opened or a hub paid, and again inside
 * the transaction that commits its voucher, where it is recorded (so concurrent buys cannot both
 * pass a limit); the merchant's answer (paid, not charged, refused) and its receipt are recorded after.
 *
 * x402 `exact` (issue 13 §2, exact.ts): a 402 offering `exact` in `--max-price`'s asset is paid with a one-off
 * authorization signed by the wallet when no open channel can pay, unless `--yes` and `--expect N` make a new
 * channel cheaper in gas than N exact payments (preference.ts).
 */
import type { VoucherRecord } from '../../store/index.js'
import type { ExactPayer, X402Payer } from '../../scheme/buyer.js'
import { ChannelsError, InsufficientFundsError, PaymentRefusedError, PriceTooHighError, UsageError } from '../../errors.js'
import { formatAmount, formatUnits, parseBaseUnits } from '../../units.js'
import { anyVoucherToWire } from '../../channel/voucher.js'
import type { BitcoinVoucherWire, VoucherWire } from '../../channel/voucher-wire.js'
import { HEADER, SCHEME, encodePaymentSignature, type ChannelRequirement, type PaymentRequired } from './protocol.js'
import { acceptEntry, applyReceipt, channelDeposit, channelPayload, endpointOf, nextAmount, resync } from './payment.js'
import { answered, readReceipt, refusalOf, result } from './answer.js'
import { payExact, pickExact, type ExactPaid } from './exact.js'
import { choosePayment, needsGas } from './preference.js'
import { readChallenge } from './challenge.js'
import { Exchange, type Outgoing } from './exchange.js'
import { chooseHub, type HubChoice } from './routed.js'
import { SpendingLedger } from '../../spending/history.js'

export { DEFAULT_DEPOSIT_REQUESTS } from './payment.js'

export interface BuyOptions {
  method?: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Highest price paid for this request, base units of `priceAsset`. */
  maxPrice: bigint
  /**
   * What `maxPrice`, `deposit` and `maxFee` count, as a 402 entry's `asset` names it (EVM: an ERC-20
   * token's address, issue 13 §1); undefined: the network's native coin. Only entries in it are paid
   * (an x402 `exact` entry, which charges a token, only with a token here).
   */
  priceAsset?: string
  /**
   * `--expect` (config `buy.expect`): requests expected at this merchant; with `autoOpen`, a channel is
   * opened in place of an `exact` payment when that many exact payments would cost more gas (default 1).
   */
  expect?: bigint
  /** Open a channel when none can pay. */
  autoOpen: boolean
  /**
   * Deposit of a channel opened here, base units (raised to the merchant's `minDeposit`).
   * Undefined: `max(minDeposit, depositRequests × price)`, on Bitcoin plus the close fee.
   */
  deposit?: bigint
  /** Requests a default deposit pays for (default {@link DEFAULT_DEPOSIT_REQUESTS}). */
  depositRequests?: bigint
  /** `--max-time`: the whole purchase, milliseconds (default: no overall limit). */
  maxTimeMs?: number
  /** `--connect-timeout`: each connection to the merchant, milliseconds (default 10 s). */
  connectTimeoutMs?: number
  /** Progress messages (waiting for the merchant, channel opening, confirmations). */
  onProgress?: (message: string) => void
  /** `--via`: pay through the hub at this URL (even with a channel to the merchant), over this wallet's channel to it. */
  via?: string
  /** `--max-fee`: highest hub fee for a purchase through a hub, base units (default 5 % of the price, `defaultMaxFee`). */
  maxFee?: bigint
  /** Where `maxFee` came from, for a refusal: `--max-fee` (default) or the config key `buy.maxFee`. */
  maxFeeKey?: string
}

export interface BuyResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** Price paid for this request, base units (0n when the resource was free). */
  paid: bigint
  /** The x402 scheme paid with: `channel` (a voucher) or `exact` (a one-off transfer); undefined when the resource was free. */
  scheme?: 'channel' | 'exact'
  /** Scheme `exact`: the transfer's transaction from the merchant's receipt (when it sent one). */
  transaction?: string
  /** Scheme `exact`: the EIP-3009 authorization signed. */
  authorization?: ExactPaid['authorization']
  channelId?: string
  voucher?: VoucherWire | BitcoinVoucherWire
  /** Set when this call opened a channel. */
  opened?: { channelId: string; tx?: string }
  /**
   * Set when the price was paid through a hub (then `channelId` is this wallet's channel to the
   * hub): its URL, the payment's hash and secret (the proof of payment), and the hub's fee in base units.
   */
  routed?: { hub: string; hash: string; secret: string; fee: bigint }
}

/**
 * Buys `url`: GET (or `method`) it, pay a 402 over a channel, return the response.
 * Nothing is opened or stored for a 402 this wallet cannot pay.
 * @param payer - the wallet paying, from its scheme's `buyer()` (which also holds the opening policy: settle delay, expiry)
 * @throws {PriceTooHighError} exit 3 · {BudgetExceededError} exit 3 (a budget of the origin or `*`; nothing stored) · {@link PaymentRefusedError} exit 4 (its subclass
 *   `UnsupportedPaymentProtocolError` for a 402 of another protocol) ·
 *   {@link InsufficientFundsError} exit 5 · {@link NetworkError} exit 6 (its subclass
 *   `BuyTimeoutError` when `--max-time`, `--connect-timeout` or the answer wait ran out)
 */
export async function buy(payer: X402Payer, url: string, o: BuyOptions): Promise<BuyResult> {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new UsageError(`Invalid URL "${url}".`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UsageError(`Unsupported URL scheme "${target.protocol}".`)
  const exchange = new Exchange({ maxTimeMs: o.maxTimeMs, connectTimeoutMs: o.connectTimeoutMs }, o.onProgress)
  try {
    return await purchase(payer, target, o, exchange)
  } finally {
    exchange.close()
  }
}

async function purchase(payer: X402Payer, target: URL, o: BuyOptions, ex: Exchange): Promise<BuyResult> {
  const say = (s: string) => o.onProgress?.(s)
  const outgoing = (signature?: string): Outgoing => ({
    method: o.method ?? 'GET', headers: { ...o.headers, ...(signature ? { [HEADER.signature]: signature } : {}) }, body: o.body,
  })

  const first = await ex.send(target, outgoing())
  if (first.statusCode !== 402) return { ...(await result(ex, first, target)), paid: 0n }
  const challenge = readChallenge(first.headers, await ex.text(first, target))
  // x402 `exact` in --max-price's asset, when the family pays it (not with --via, which asks for a hub).
  const exact = o.via === undefined ? pickExact(payer, challenge.accepts, o.maxPrice, o.priceAsset) : {}
  const oneOff = async (): Promise<BuyResult> => payExact(payer as X402Payer & { exact: ExactPayer }, exact.offer!, challenge, { target, ex, outgoing, say })
  let entry: ChannelRequirement
  let endpoint: string
  try {
    entry = pickEntry(payer, challenge, o.maxPrice, o.priceAsset, exact.refusal)
    endpoint = endpointOf(entry, target)
  } catch (err) {
    // No `channel` entry this wallet can pay (none, too dear, refused by the family): exact, if it can.
    if (exact.offer) return oneOff()
    throw err
  }
  const price = parseBaseUnits(entry.amount, 'price')
  const show = (x: bigint) => formatAmount(x, payer.asset(entry.asset))
  const ledger = new SpendingLedger(payer.store, { network: payer.network.caip2, asset: payer.asset(entry.asset), assetAddress: entry.asset, url: target, price })
  // Budgets: refused here before anything is opened or a hub asked (with an `exact` alternative, after the choice:
  // its price may be in another asset); checked again, atomically, with the voucher.
  if (!exact.offer) ledger.check()

  let opened: BuyResult['opened']
  const openChannel = async (why: string) => {
    const { deposit, basis: why2, requests } = await channelDeposit(payer, entry, price, o)
    const basis = why2 === 'given' ? '' : why2 === 'requests' ? ` (${requests} requests at ${show(price)})` : ' (the merchant\'s minimum)'
    say(`${why}; opening a channel to ${entry.payTo} with a deposit of ${show(deposit)}${basis}…`)
    let sent!: () => void
    const armed = new Promise<void>((ok) => (sent = ok))
    const c = await ex.within(payer.openWait, payer.open(entry, deposit, endpoint, (tx) => {
      ex.note = `The channel's open transaction ${tx} was sent: the channel stays recorded as opening, and \`channels sync\` marks it open once it is mined (the deposit is not lost).`
      say(`Open transaction ${tx} sent; ${payer.openWait}…`)
      sent()
    }, o.onProgress), armed)
    ex.note = `Channel ${c.id} is open (deposit ${show(c.deposit)}) and stays recorded; the next purchase uses it.`
    say(`Channel ${c.id} is open.`)
    opened = { channelId: c.id, tx: c.openTx }
    return c
  }
  let channel = o.via === undefined ? payer.payable(entry, price, endpoint) : undefined
  // No channel to the merchant can pay: through a hub it lists (or --via), when this wallet has a channel to one.
  const skipped: { endpoint: string; error: Error }[] = []
  if (o.via !== undefined && !payer.locks) throw new UsageError(`Channels on ${payer.network.caip2} cannot pay through a hub (no hash locks); pay the merchant directly.`)
  // Hubs route the native coin only (issue 12): a price in a token is paid on a channel in it.
  const routable = payer.asset(entry.asset).id === payer.asset().id
  if (o.via !== undefined && !routable) throw new UsageError(`The merchant charges in ${payer.asset(entry.asset).symbol ?? entry.asset}; a hub routes the native coin only. Pay it without --via.`)
  if (!channel && payer.locks && routable && (o.via !== undefined || entry.extra.hubs)) {
    const hub = await chooseHub(payer.locks, entry, {
      network: payer.network.caip2, price, via: o.via, maxFee: o.maxFee, maxFeeKey: o.maxFeeKey, show, within: (what, work) => ex.within(what, work),
    }, skipped)
    if (hub) return throughHub(payer.locks, hub)
  }
  // Which payment (preference.ts): an open channel, else exact for a one-off, else a new channel.
  const facts = { channelPayable: channel !== undefined, channelOffered: true, exactOffered: exact.offer !== undefined, autoOpen: o.autoOpen, expect: o.expect ?? 1n }
  const gas = needsGas(facts) ? await ex.within('estimating gas', (payer.exact as ExactPayer).gas(exact.offer!.entry.asset)) : undefined
  const choice = choosePayment({ ...facts, gas })
  if (choice === 'exact') return oneOff()
  if (exact.offer) ledger.check()
  if (channel) say(`402: ${show(price)} per request; paying on channel ${channel.id}.`)
  else {
    if (gas) {
      const eth = (g: bigint) => formatUnits(g * gas.feePerGas, 18, 'ETH')
      say(`A channel (≈ ${gas.channel.toLocaleString('en-US')} gas to open and close, ${eth(gas.channel)} at the node's fee now) costs less than ` +
        `${facts.expect} x402 \`exact\` payments (≈ ${gas.exact.toLocaleString('en-US')} gas each, ${eth(facts.expect * gas.exact)} in all; --expect ${facts.expect}).`)
    }
    if (choice === 'none') {
      // A hub that could pay but asks more than --max-fee: the price is the obstacle (exit 3), not the funds.
      const fee = skipped.find((s) => s.error instanceof PriceTooHighError)?.error
      if (fee) throw fee
      throw new InsufficientFundsError(`No open channel to ${entry.payTo} can pay ${show(price)}.`, price, {
        metaMessages: [
          'Rerun with --yes to open one (deposit: --deposit), or open it with `channels open`.',
          ...skipped.map((s) => `Not through the hub ${s.endpoint}: ${s.error instanceof ChannelsError ? s.error.shortMessage : s.error.message}`),
        ],
      })
    }
    channel = await openChannel(`402: ${show(price)} per request and no channel to ${entry.payTo} can pay it`)
  }

  /** Pays the price to the merchant through `hub`, then retries the request once with the proof. */
  async function throughHub(locks: NonNullable<X402Payer['locks']>, hub: HubChoice): Promise<BuyResult> {
    say(`402: ${show(price)} per request and no channel to ${entry.payTo} can pay it; paying through the hub ${hub.endpoint} (fee ${show(hub.fee)}) on channel ${hub.channel.id}…`)
    ex.note =
      `A conditional voucher for ${show(price + hub.fee)} on channel ${hub.channel.id} may be committed and sent to the hub: ` +
      'if the payment went through, `channels sync` learns it from the hub; if not, its lock ends and `channels sync` frees it.'
    const pubkey = typeof entry.extra.payToPubkey === 'string' ? entry.extra.payToPubkey : undefined
    ledger.check(hub.fee)
    let purchase: number | undefined
    const paid = await ex.within(`paying ${entry.payTo} through the hub ${hub.endpoint}`, locks.payVia(hub.endpoint, entry.payTo, price, {
      payeePubkey: pubkey, maxFee: hub.maxFee, info: hub.info, unlockInBackground: true,
      onCommit: (v) => void (purchase = ledger.record(v, { hub: hub.endpoint, fee: v.fee })),
    })).catch((err: unknown) => {
      // The hub refused (or answered no proof): nothing was paid, its lock ends. Unreachable or a timeout: it may have gone through, and counts.
      if (purchase !== undefined && err instanceof PaymentRefusedError) ledger.answer(purchase, { status: 'refused', error: err.shortMessage, unpaid: true })
      throw err
    })
    const routed = { hub: hub.endpoint, hash: paid.hash, secret: paid.secret, fee: paid.fee }
    ex.note = `The merchant was paid ${show(price)} through the hub (fee ${show(paid.fee)}); the secret ${paid.secret} proves it (payment ${paid.hash}).`
    say(`Paid ${show(price)} to ${entry.payTo} through the hub (payment ${paid.hash}); retrying with the proof.`)
    // The retry with the proof and the unlock at the hub (payer → hub) go at the same time; both end before buy does,
    // the unlock within --max-time as when it was part of the payment.
    const unlocking = paid.unlocking ? ex.within('handing the hub the unconditional voucher', paid.unlocking) : Promise.resolve(paid.unlocked)
    const [res, unlocked] = await Promise.all([
      ex.send(target, outgoing(encodePaymentSignature(entry, { type: 'routed', hash: paid.hash, secret: paid.secret }))).finally(() => unlocking.catch(() => undefined)),
      unlocking,
    ])
    if (!unlocked) say('The hub has not taken the unconditional voucher replacing the conditional one yet; `channels sync` retries.')
    if (res.statusCode === 402) {
      const refusal = refusalOf(res.headers)
      await ex.discard(res, target)
      if (purchase !== undefined) ledger.answer(purchase, { status: 'refused', error: refusal?.error ?? 'no reason given' })
      throw new PaymentRefusedError(`The merchant refused the payment through the hub: ${refusal?.error ?? 'no reason given'}`, {
        data: { hub: hub.endpoint, hash: paid.hash, secret: paid.secret, fee: paid.fee.toString(), channelId: paid.channelId },
        metaMessages: [`The merchant was paid ${show(price)} through the hub all the same: the secret ${paid.secret} proves it (payment ${paid.hash}).`],
      })
    }
    const receipt = readReceipt(res.headers[HEADER.response])
    if (purchase !== undefined) ledger.answer(purchase, { status: answered(receipt), receipt })
    return { ...(await result(ex, res, target)), paid: receipt?.success ? price : 0n, scheme: SCHEME, channelId: paid.channelId, routed }
  }

  for (let attempt = 0; ; attempt++) {
    // Reuse credit left by a request the merchant did not charge (its handler failed).
    const next = nextAmount(price)
    let voucher: VoucherRecord
    // The purchase is recorded in the voucher's transaction, once the budgets let it through (else nothing is stored).
    let purchase!: number
    const record = (v: VoucherRecord) => void (purchase = ledger.record(v))
    try {
      voucher = await payer.createVoucher(channel, next, record)
    } catch (err) {
      // The channel cannot cover one more request: open a fresh one if allowed.
      if (!(err instanceof InsufficientFundsError) || opened || !o.autoOpen) throw err
      channel = await openChannel(`Channel ${channel.id} cannot pay ${show(price)} more`)
      voucher = await payer.createVoucher(channel, next, record)
    }
    ex.note =
      `Voucher ${voucher.nonce} (${show(voucher.amount)} in all) on channel ${channel.id} was committed before the limit and stays recorded; ` +
      `the merchant may or may not have it: \`channels sync\` reconciles, and the next purchase re-spends what was not charged.`
    const res = await ex.send(target, outgoing(encodePaymentSignature(payer.accepted(entry, channel), channelPayload(payer, channel, voucher))))
    if (res.statusCode !== 402) {
      const receipt = readReceipt(res.headers[HEADER.response])
      ledger.answer(purchase, { status: answered(receipt), receipt })
      let paid = 0n
      if (receipt) {
        if (receipt.success) paid = price
        await applyReceipt(payer, channel, voucher, receipt, endpoint, say)
      }
      return { ...(await result(ex, res, target)), paid, scheme: SCHEME, channelId: channel.id, voucher: anyVoucherToWire(voucher), opened }
    }
    const refusal = refusalOf(res.headers)
    await ex.discard(res, target)
    // Refused (a corrective 402 too: the retry is a purchase of its own): this voucher's credit pays the next request.
    ledger.answer(purchase, { status: 'refused', error: refusal?.error ?? 'no reason given' })
    const state = refusal?.accepts.find((a) => a.scheme === SCHEME)?.extra?.channelState
    const notResynced = !state || state.channelId !== channel.id ? undefined : attempt > 0 ? 'it corrected this purchase once already' : resync(payer, channel, voucher, state)
    if (state && state.channelId === channel.id && notResynced === undefined) {
      say(`The merchant's records differ (it reports ${state.charged} charged); retrying from its last voucher, which this wallet signed.`)
      channel = payer.store.channels.get(channel.network, channel.id)!
      continue
    }
    // A merchant's redemption service closes channels it finds worth redeeming: pay on a new one.
    if (!opened && payer.stillOpen && !(await ex.within('checking the channel on chain', payer.stillOpen(channel)))) {
      if (!o.autoOpen) {
        throw new PaymentRefusedError(`Channel ${channel.id} was closed on chain (by the merchant); it is recorded as closed.`, {
          metaMessages: ['Rerun with --yes to open a new channel (deposit: --deposit), or open it with `channels open`.'],
        })
      }
      channel = await openChannel(`Channel ${channel.id} was closed on chain by the merchant`)
      continue
    }
    throw new PaymentRefusedError(`The merchant refused the payment: ${refusal?.error ?? 'no reason given'}`, {
      details: notResynced && `The merchant sent its view of the channel, which was not used: ${notResynced}.`,
      data: { channelId: channel.id, nonce: voucher.nonce.toString(), amount: voucher.amount.toString() },
      metaMessages: ['The voucher stays recorded locally; `channels status` shows the channel.'],
    })
  }
}

/**
 * The cheapest `channel` entry on the wallet's network in `priceAsset`, checked by the family.
 * @param exactRefusal - why no `exact` entry could be paid, thrown when there is no `channel` entry either (it says more)
 * @throws {PaymentRefusedError} none on this network, or the family refuses it · {PriceTooHighError} above `maxPrice`, or in another asset
 */
function pickEntry(payer: X402Payer, challenge: PaymentRequired, maxPrice: bigint, priceAsset?: string, exactRefusal?: Error): ChannelRequirement {
  const onNetwork = challenge.accepts.filter((a) => a.scheme === SCHEME && a.network === payer.network.caip2)
  if (onNetwork.length === 0) {
    if (exactRefusal) throw exactRefusal
    const offered = challenge.accepts.map((a) => `${a.scheme} on ${a.network}`).join(', ')
    throw new PaymentRefusedError(`The merchant takes no payment this wallet can make on ${payer.network.caip2}.`, {
      details: `Offered: ${offered}.`,
      metaMessages: ['Choose another network with --network.'],
    })
  }
  // Only entries in the asset --max-price counts (its id: the family maps the native coin's names to one).
  const counted = payer.asset(priceAsset)
  const ours = onNetwork.filter((a) => assetIdOf(payer, a.asset) === counted.id.toLowerCase())
  if (ours.length === 0) {
    const theirs = onNetwork.flatMap((a) => assetIdOf(payer, a.asset) ? [payer.asset(a.asset)] : [])
    if (theirs.length === 0) throw new PaymentRefusedError(`The merchant's 402 names no asset this wallet can read on ${payer.network.caip2}.`)
    const names = [...new Set(theirs.map((t) => t.symbol ?? t.id))].join(', ')
    const unit = theirs.find((t) => t.symbol)?.symbol?.toLowerCase()
    throw new PriceTooHighError(`The merchant charges in ${names}; --max-price counts ${counted.symbol ?? counted.id}.`, {
      data: { assets: theirs.map((t) => t.id), maxPriceAsset: counted.id },
      metaMessages: [unit ? `Give --max-price in it, e.g. --max-price 0.01${unit}.` : `Give --max-price with --asset <the token's address>.`],
    })
  }
  const priced = ours.map((a) => ({ a, price: parseBaseUnits(a.amount, 'price') })).sort((x, y) => (x.price < y.price ? -1 : 1))
  const entry = priced[0].a
  acceptEntry(payer, entry, maxPrice)
  return entry
}

/** The lower-case CAIP-19 id of an entry's `asset` (hostile: undefined when it names no asset). */
function assetIdOf(payer: X402Payer, asset: string): string | undefined {
  try {
    return payer.asset(asset).id.toLowerCase()
  } catch {
    return undefined
  }
}
