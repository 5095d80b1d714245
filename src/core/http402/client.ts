/**
 * The buyer (DESIGN §6): fetches a URL, answers a 402 by paying over a channel to
 * the merchant (opening one if the policy allows), and returns the resource.
 *
 * The voucher is committed to the database before it is sent. The next voucher's
 * cumulative amount is `max(previous amount, charged + price)`, where `charged` is what
 * the merchant last reported it charged: credit left by a request it did not charge
 * (its handler failed) pays for the next one.
 * A corrective 402 is trusted only for a voucher this wallet itself signed.
 */
import { request, type Dispatcher } from 'undici'
import { getAddress } from 'ethers'
import type { ChannelManager } from '../channel/manager.js'
import type { BitcoinChannelManager } from '../channel/bitcoin.js'
import type { ChannelRecord, VoucherRecord } from '../store/index.js'
import { ChannelsError, InsufficientFundsError, NetworkError, PaymentRefusedError, PriceTooHighError, UsageError } from '../errors.js'
import { parseBaseUnits } from '../units.js'
import { anyVoucherToWire, type BitcoinVoucherWire, type Voucher, type VoucherWire } from '../channel/voucher.js'
import { bitcoinVoucherFromWire, voucherFromWire } from '../channel/voucher-wire.js'
import {
  DEFAULT_ENDPOINT_PATH, HEADER, SCHEME, decodePaymentRequired, decodePaymentResponse, encodePaymentSignature,
  type ChannelPayload, type ChannelRequirement, type PaymentRequired,
} from './protocol.js'

export interface BuyOptions {
  method?: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Highest price paid for this request, base units. */
  maxPrice: bigint
  /** Open a channel when none can pay. */
  autoOpen: boolean
  /** Deposit of a channel opened here, base units. */
  deposit: bigint
  /** Settle delay of a channel opened here, seconds. */
  settleDelay: number
  /** Bitcoin: lifetime of a channel opened here, seconds from now (raised to the merchant's minimum + margin). */
  expirySeconds?: number
  /** Progress messages (channel opening, waiting). */
  onProgress?: (message: string) => void
}

export interface BuyResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** Price paid for this request, base units (0n when the resource was free). */
  paid: bigint
  channelId?: string
  voucher?: VoucherWire | BitcoinVoucherWire
  /** Set when this call opened a channel. */
  opened?: { channelId: string; tx?: string }
}

/**
 * What the buyer needs from a payer, EVM or Bitcoin: the two managers share these
 * names; only opening and the entry checks differ.
 */
interface Payer {
  readonly m: ChannelManager | BitcoinChannelManager
  checkEntry(entry: ChannelRequirement): void
  /** An open channel to the entry's payee, or (Bitcoin: a fresh payee key per channel) bound to its `endpoint`, that can pay `price`. */
  payable(entry: ChannelRequirement, price: bigint, endpoint: string): ChannelRecord | undefined
  open(entry: ChannelRequirement, deposit: bigint, endpoint: string, onProgress?: (s: string) => void): Promise<ChannelRecord>
  /** Extra payload fields announcing a channel the merchant may not know (Bitcoin: deposit and script). */
  announce(c: ChannelRecord, v: VoucherRecord): Partial<ChannelPayload>
  fromWire(w: unknown): Voucher
  /** The `accepted` entry to send with a payment on `c` (Bitcoin: the channel's own payTo and payee index). */
  accepted(entry: ChannelRequirement, c: ChannelRecord): ChannelRequirement
}

function evmPayer(m: ChannelManager, o: BuyOptions): Payer {
  return {
    m,
    checkEntry(entry) {
      try {
        entry.payTo = getAddress(entry.payTo)
      } catch {
        throw new PaymentRefusedError(`The merchant's payTo "${entry.payTo}" is not an address.`)
      }
      if (entry.extra?.contract && getAddress(entry.extra.contract) !== m.backend.contract) {
        throw new PaymentRefusedError(`The merchant uses channel contract ${entry.extra.contract}; this wallet trusts only ${m.backend.contract}.`)
      }
    },
    payable: (entry, price) => m.payableChannels(entry.payTo, price)[0]?.channel,
    open: (entry, deposit, endpoint, onProgress) =>
      m.open({
        payee: entry.payTo, deposit, settleDelay: Math.max(o.settleDelay, entry.extra.minSettleDelay ?? 0), endpoint,
        onSent: (hash) => onProgress?.(`Open transaction ${hash} sent; waiting for it to be mined…`),
      }),
    announce: () => ({}),
    fromWire: voucherFromWire,
    accepted: (entry) => entry,
  }
}

async function bitcoinPayer(m: BitcoinChannelManager, o: BuyOptions): Promise<Payer> {
  const { checkedPubkey, checkedPayeeIndex } = await import('../channel/bitcoin.js')
  const margin = (entry: ChannelRequirement) => (entry.extra.closeMargin ?? 0) + 60
  return {
    m,
    checkEntry(entry) {
      try {
        entry.payTo = checkedPubkey(entry.payTo, 'payTo')
      } catch {
        throw new PaymentRefusedError(`The merchant's payTo "${entry.payTo}" is not a channel pubkey.`)
      }
      if (entry.asset !== 'sat') throw new PaymentRefusedError(`The merchant asks for asset "${entry.asset}" on a Bitcoin-family network; only "sat" is paid.`)
      if (entry.extra.payeeIndex !== undefined) {
        try {
          checkedPayeeIndex(entry.extra.payeeIndex, 'payeeIndex')
        } catch (err) {
          throw new PaymentRefusedError(`The merchant's ${(err as Error).message}`)
        }
      }
    },
    payable: (entry, price, endpoint) => m.payableChannels(entry.payTo, price, margin(entry), endpoint)[0]?.channel,
    open: (entry, deposit, endpoint, onProgress) => {
      const lifetime = Math.max(o.expirySeconds ?? 0, (entry.extra.minExpirySeconds ?? 0) + margin(entry) + 3600)
      return m.open({
        payee: entry.payTo, deposit, expiry: Math.floor(Date.now() / 1000) + lifetime, p2sh: entry.extra.p2sh === true, endpoint, payeeIndex: entry.extra.payeeIndex,
        onSent: (txid) => onProgress?.(`Deposit ${txid} broadcast; waiting for a confirmation…`), onProgress,
      })
    },
    announce: (c) => {
      // Until the merchant has acknowledged a payment, every payment carries the deposit and script.
      if (c.charged > 0n) return {}
      const b = c.bitcoin!
      return { type: 'open', open: { depositTx: b.depositTx, vout: b.depositVout, redeemScript: b.redeemScript } }
    },
    fromWire: bitcoinVoucherFromWire,
    // The merchant's payee key differs per channel: name the one this channel pays.
    accepted: (entry, c) => ({ ...entry, payTo: c.payee, extra: { ...entry.extra, payeeIndex: c.bitcoin?.payeeIndex ?? 0 } }),
  }
}

/**
 * Buys `url`: GET (or `method`) it, pay a 402 over a channel, return the response.
 * @throws {PriceTooHighError} exit 3 · {@link PaymentRefusedError} exit 4 ·
 *   {@link InsufficientFundsError} exit 5 · {@link NetworkError} exit 6
 */
export async function buy(manager: ChannelManager | BitcoinChannelManager, url: string, o: BuyOptions): Promise<BuyResult> {
  const payer = manager.network.kind === 'bitcoin' ? await bitcoinPayer(manager as BitcoinChannelManager, o) : evmPayer(manager as ChannelManager, o)
  const m = payer.m
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new UsageError(`Invalid URL "${url}".`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UsageError(`Unsupported URL scheme "${target.protocol}".`)

  const first = await send(target, o)
  if (first.statusCode !== 402) return { ...(await result(first)), paid: 0n }
  const challenge = readChallenge(first)
  await first.body.dump()
  const entry = pickEntry(payer, challenge, o.maxPrice)
  const price = parseBaseUnits(entry.amount, 'price')

  let endpoint: string
  try {
    endpoint = new URL(entry.extra.endpoint || DEFAULT_ENDPOINT_PATH, target).href
  } catch {
    throw new PaymentRefusedError(`The merchant's channel endpoint "${entry.extra.endpoint}" is not a URL.`)
  }
  let opened: BuyResult['opened']
  const openChannel = async () => {
    const minDeposit = parseBaseUnits(entry.extra.minDeposit ?? '0', 'minDeposit')
    const deposit = o.deposit > minDeposit ? o.deposit : minDeposit
    o.onProgress?.(`Opening a channel to ${entry.payTo} with a deposit of ${deposit} base units…`)
    const c = await payer.open(entry, deposit, endpoint, o.onProgress)
    opened = { channelId: c.id, tx: c.openTx }
    return c
  }
  let channel = payer.payable(entry, price, endpoint)
  if (!channel) {
    if (!o.autoOpen) {
      throw new InsufficientFundsError(`No open channel to ${entry.payTo} can pay ${price}.`, price, {
        metaMessages: ['Rerun with --yes to open one (deposit: --deposit), or open it with `channels open`.'],
      })
    }
    channel = await openChannel()
  }

  for (let attempt = 0; ; attempt++) {
    // Reuse credit left by a request the merchant did not charge (its handler failed).
    const next = (prev: bigint, charged: bigint) => (prev > charged + price ? prev : charged + price)
    let voucher: VoucherRecord
    try {
      voucher = await m.createVoucher(channel, next)
    } catch (err) {
      // The channel cannot cover one more request: open a fresh one if allowed.
      if (!(err instanceof InsufficientFundsError) || opened || !o.autoOpen) throw err
      channel = await openChannel()
      voucher = await m.createVoucher(channel, next)
    }
    // The first voucher of a channel announces it ("open"); the paywall treats both alike.
    const type = voucher.lane === 0n && voucher.nonce === 1n ? 'open' : 'voucher'
    const res = await send(target, o, encodePaymentSignature(payer.accepted(entry, channel), { type, channelId: channel.id, voucher, ...payer.announce(channel, voucher) }))
    if (res.statusCode !== 402) {
      const receiptHeader = res.headers[HEADER.response]
      let paid = 0n
      if (typeof receiptHeader === 'string') {
        const receipt = decodePaymentResponse(receiptHeader)
        m.acknowledge(channel, voucher, parseBaseUnits(receipt.extra?.charged ?? '0', 'charged'))
        if (receipt.success) paid = price
      }
      return { ...(await result(res)), paid, channelId: channel.id, voucher: anyVoucherToWire(voucher), opened }
    }
    const refusal = readChallenge(res)
    await res.body.dump()
    const state = refusal.accepts.find((a) => a.scheme === SCHEME)?.extra?.channelState
    if (attempt === 0 && state && state.channelId === channel.id && resync(payer, channel, voucher, state)) {
      channel = m.store.channels.get(channel.network, channel.id)!
      continue
    }
    throw new PaymentRefusedError(`The merchant refused the payment: ${refusal.error ?? 'no reason given'}`, {
      data: { channelId: channel.id, nonce: voucher.nonce.toString(), amount: voucher.amount.toString() },
      metaMessages: ['The voucher stays recorded locally; `channels status` shows the channel.'],
    })
  }
}

/**
 * Applies a corrective 402: accepts the merchant's `charged` and last voucher only if
 * that voucher is one this wallet signed and is ahead of what the database knows.
 * @returns whether anything changed (so a retry can succeed)
 */
function resync(payer: Payer, c: ChannelRecord, mine: VoucherRecord, state: NonNullable<ChannelRequirement['extra']['channelState']>): boolean {
  const m = payer.m
  let charged: bigint
  try {
    charged = parseBaseUnits(state.charged, 'charged')
  } catch {
    return false
  }
  if (!state.voucher) return false
  let theirs
  try {
    theirs = payer.fromWire(state.voucher)
  } catch {
    return false
  }
  if (!m.signedByPayer(c, theirs) || theirs.lane !== mine.lane) return false
  // The merchant's `charged` is believed only as far as a voucher this wallet signed
  // authorizes it; its nonce may be below ours (we crashed after it was served, before
  // the receipt) or above (our database was restored from an older copy).
  if (charged > theirs.amount) return false
  return m.acknowledge(c, theirs, charged)
}

function pickEntry(payer: Payer, challenge: PaymentRequired, maxPrice: bigint): ChannelRequirement {
  const m = payer.m
  const ours = challenge.accepts.filter((a) => a.scheme === SCHEME && a.network === m.network.caip2)
  if (ours.length === 0) {
    const offered = challenge.accepts.map((a) => `${a.scheme} on ${a.network}`).join(', ')
    throw new PaymentRefusedError(`The merchant takes no payment this wallet can make on ${m.network.caip2}.`, {
      details: `Offered: ${offered}.`,
      metaMessages: ['Choose another network with --network.'],
    })
  }
  const priced = ours.map((a) => ({ a, price: parseBaseUnits(a.amount, 'price') })).sort((x, y) => (x.price < y.price ? -1 : 1))
  const cheapest = priced[0]
  if (cheapest.price > maxPrice) {
    throw new PriceTooHighError(`The price ${cheapest.price} is above --max-price ${maxPrice}.`, {
      data: { price: cheapest.price.toString(), maxPrice: maxPrice.toString() },
      metaMessages: ['Raise --max-price to pay it.'],
    })
  }
  const entry = cheapest.a
  payer.checkEntry(entry)
  return entry
}

function readChallenge(res: Dispatcher.ResponseData): PaymentRequired {
  const h = res.headers[HEADER.required]
  if (typeof h !== 'string') throw new PaymentRefusedError('The merchant answered 402 without a PAYMENT-REQUIRED header.')
  return decodePaymentRequired(h)
}

async function send(url: URL, o: BuyOptions, signature?: string): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = { ...o.headers }
  if (signature) headers[HEADER.signature] = signature
  try {
    return await request(url, { method: (o.method ?? 'GET') as 'GET', headers, body: o.body, headersTimeout: 60_000, bodyTimeout: 60_000 })
  } catch (err) {
    throw new NetworkError(`Cannot reach ${url.origin}: ${(err as Error).message}`, { cause: err })
  }
}

async function result(res: Dispatcher.ResponseData): Promise<Omit<BuyResult, 'paid'>> {
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}

