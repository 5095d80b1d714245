import { Args, Flags } from '@oclif/core'
import { writeFileSync } from 'node:fs'
import { BaseCommand } from '../cli/base.js'
import { buy } from '../core/transports/http402/client.js'
import { UsageError } from '../core/errors.js'
import { unlocksUnattended } from '../core/keys/wallet.js'
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RESPONSE_TIMEOUT_MS } from '../core/transports/http402/exchange.js'

/** Seconds as curl takes them (`--max-time 2.5`): a positive decimal, returned in milliseconds. */
function seconds(value: string, flag: string): number {
  if (!/^(\d{1,7})(\.\d{1,3})?$/.test(value) || Number(value) <= 0) {
    throw new UsageError(`Invalid ${flag} "${value}": expected a number of seconds above 0 (decimals allowed, e.g. 2.5).`)
  }
  return Math.round(Number(value) * 1000)
}

/** `--asset` without `--max-price`: config's buy.maxPrice counts the native coin, so the limit must be given. */
function noMaxPrice(asset: string): never {
  throw new UsageError(`--asset ${asset} needs --max-price in that asset (config buy.maxPrice counts the native coin).`, {
    metaMessages: [`Add e.g. --max-price 0.01${/^0x/i.test(asset) ? '' : asset.toLowerCase()}.`],
  })
}

export default class Buy extends BaseCommand<typeof Buy> {
  static override summary = 'Fetch a URL, paying its HTTP 402 over a payment channel, and print the body.'
  static override description =
    'curl-like. On a 402 whose price is at most --max-price, pays with the next voucher on an open channel to the ' +
    'merchant, opening one (deposit --deposit) when none can pay and --yes (or config buy.autoOpen) allows it. ' +
    'The voucher is recorded before it is sent. A channel opened here gets --deposit, else config buy.deposit, else ' +
    'max(the merchant\'s minDeposit, buy.depositRequests (1000) × the price) (Bitcoin: plus the close fee). ' +
    `--max-time bounds the whole purchase, the paid retry and any channel opening included (default: no overall limit, but each answer must start within ${DEFAULT_RESPONSE_TIMEOUT_MS / 1000} s); ` +
    `--connect-timeout each connection (default ${DEFAULT_CONNECT_TIMEOUT_MS / 1000} s). Progress goes to stderr. ` +
    'Budgets (`channels budget set`): a purchase that would take the budget of the URL\'s origin or of * (every origin) above its ' +
    'limit is refused before anything is opened or paid, and again atomically when its voucher is committed (exit 3, code ' +
    'BUDGET_EXCEEDED, naming the limit, its period, what was spent in it and what remains); through a hub, price + fee counts. ' +
    'Prices in a token (issue 13 §1): --max-price 0.01usdc (a token the network\'s config names; or --asset <name|address>) pays ' +
    'only the 402\'s entries in that token, on a channel holding it (opened with an ERC-20 approve, then open); --deposit and ' +
    '--max-fee count the same token; a 402 in another asset than --max-price is refused (exit 3) naming its asset. ' +
    'Every paid request is recorded with the merchant\'s answer and receipt (`channels history`). ' +
    'Exit codes: 3 price above --max-price (or in another asset) or over a budget, 4 payment refused or a 402 of another protocol (L402, x402 v1, ' +
    'another x402 scheme: code UNSUPPORTED_PAYMENT_PROTOCOL), 5 no channel can pay / insufficient funds, 6 merchant or chain unreachable or a time limit hit ' +
    '(code TIMEOUT; a voucher already committed stays recorded).\n\n' +
    'With a Bitcoin-family --network the merchant\'s bip122 entry is paid: a two1 CLTV channel is opened to its pubkey ' +
    '(waiting for the deposit to confirm) and each request carries a half-signed payment transaction.\n\n' +
    'Through a hub (EVM, issue 12): when no channel to the merchant can pay and its 402 lists hubs (extra.hubs), the first listed hub ' +
    'this wallet has an open channel to that covers the price plus the hub\'s fee is paid the price for the merchant (a hash-locked ' +
    'voucher, as `channels pay --via`), and the request is retried with the payment\'s secret as proof; --via <hub url> names the hub ' +
    '(used even when a channel to the merchant could pay). The hub\'s fee is at most --max-fee (default 5 % of the price; above it: exit 3). ' +
    'With --json the output gains routed: {hub, hash, secret, fee} (null when paid directly).\n\n' +
    'x402 `exact` (EVM, issue 13 §2): a seller offering the x402 Foundation\'s one-off scheme in a token is paid with an EIP-3009 ' +
    'authorization signed by the wallet (the seller\'s facilitator submits it and pays its gas), when --max-price is in that token ' +
    '(e.g. 0.01usdc) and the price within it. The token is checked on chain first (its EIP-712 domain is the one the 402 names, the ' +
    'wallet holds the price); the purchase is checked against the budgets and recorded before the authorization is sent, and counts ' +
    'whatever the answer (the seller can redeem it until it expires, at most an hour). When a 402 offers both schemes, an open channel ' +
    'pays first, else `exact`; with --yes a channel is opened instead when --expect N (config buy.expect, default 1) exact payments ' +
    'would cost more gas than a channel\'s approve, open and close (≈ 235,000 gas against ≈ 69,000 per exact payment: from N = 4). ' +
    'With --json the output gains scheme (channel or exact) and, for exact, transaction (the receipt\'s) and authorization.'
  static override examples = [
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --max-price 5000 --deposit 0.01eth --yes',
    '<%= config.bin %> buy http://127.0.0.1:4021/joke -o joke.txt --json',
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --network regtest --max-price 2000sat --deposit 100000sat --yes',
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --max-time 20 --connect-timeout 3',
    '<%= config.bin %> buy http://127.0.0.1:4021/joke --via http://127.0.0.1:4030 --max-fee 50 --json',
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --max-price 0.01usdc --deposit 5usdc --yes',
    '<%= config.bin %> buy http://127.0.0.1:4402/weather --max-price 0.01usdc --json',
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --max-price 0.01usdc --deposit 5usdc --yes --expect 100',
    '<%= config.bin %> buy https://api.example/search -X POST -H "content-type: application/json" -d \'{"q":"x"}\'',
  ]
  static override args = { url: Args.string({ required: true, description: 'URL to fetch.' }) }
  static override flags = {
    request: Flags.string({ char: 'X', summary: 'HTTP method.', default: 'GET' }),
    header: Flags.string({ char: 'H', summary: 'Extra request header "Name: value" (repeatable).', multiple: true }),
    data: Flags.string({ char: 'd', summary: 'Request body.' }),
    output: Flags.string({ char: 'o', summary: 'Write the body to this file instead of stdout.' }),
    include: Flags.boolean({ char: 'i', summary: 'Print the response status and headers before the body.' }),
    'max-price': Flags.string({ summary: 'Highest price to pay for this request, in its asset (0.01usdc pays a USDC price; default: config buy.maxPrice, native coin).' }),
    asset: Flags.string({ summary: 'Pay in this ERC-20 token: a name from the network\'s config (usdc) or its address (EVM; default: the unit of --max-price, else the native coin).' }),
    deposit: Flags.string({ summary: 'Deposit of a channel opened by this call (default: config buy.deposit, else max(minDeposit, buy.depositRequests × price)).' }),
    'settle-delay': Flags.integer({ summary: 'Settle delay of a channel opened by this call, seconds.', min: 1 }),
    expiry: Flags.integer({ summary: 'Bitcoin: lifetime of a channel opened by this call, seconds (default: config buy.bitcoinExpiry).', min: 60 }),
    yes: Flags.boolean({ char: 'y', summary: 'Open a channel without asking when none can pay.' }),
    'max-time': Flags.string({ char: 'm', summary: 'Longest time for the whole purchase, seconds (decimals allowed; default: none).' }),
    'connect-timeout': Flags.string({ summary: `Longest wait for each connection to the merchant, seconds (decimals allowed; default ${DEFAULT_CONNECT_TIMEOUT_MS / 1000}).` }),
    via: Flags.string({ summary: 'Pay through the hub at this URL, over this wallet\'s channel to it (default: a hub the merchant lists, when no channel to it can pay).' }),
    'max-fee': Flags.string({ summary: 'Highest hub fee to pay for a purchase through a hub (default: config buy.maxFee, else 5 % of the price).' }),
    expect: Flags.integer({ summary: 'Requests expected at this merchant: with --yes, open a channel instead of paying x402 exact when that many exact payments cost more gas (default: config buy.expect, else 1).', min: 1 }),
  }

  async run() {
    const { args, flags } = await this.parse(Buy)
    const policy = this.walletConf.get('buy')
    const headers: Record<string, string> = {}
    for (const h of flags.header ?? []) {
      const i = h.indexOf(':')
      if (i < 1) throw new UsageError(`Invalid header "${h}"; expected "Name: value".`)
      headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim()
    }
    const maxTimeMs = flags['max-time'] !== undefined ? seconds(flags['max-time'], '--max-time') : undefined
    const connectTimeoutMs = flags['connect-timeout'] !== undefined ? seconds(flags['connect-timeout'], '--connect-timeout') : undefined
    // Prices, deposits and fees count one asset: --max-price's unit (0.01usdc: a token the network names), or --asset.
    const maxPrice = flags['max-price'] !== undefined ? this.parseAmountOn(flags['max-price'], '--max-price', flags.asset) : undefined
    const asset = maxPrice ? maxPrice.asset : flags.asset !== undefined ? this.assetFlag(flags.asset) : undefined
    const amountIn = (value: string, key: string) => {
      const r = this.parseAmountOn(value, key, asset)
      if (r.asset?.toLowerCase() !== asset?.toLowerCase()) throw new UsageError(`${key} ${value} counts another asset than --max-price; give both in one asset.`)
      return r.value
    }
    const s = await this.scheme()
    // Paying needs the key: when no prompt is needed, its unlock (scrypt, off the event loop)
    // runs under the first request and the channel checks instead of after them.
    if (unlocksUnattended(this.walletConf, this.flags.key)) s.signer().catch(() => {})
    const defaults = s.buyDefaults()
    // config buy.deposit counts the native coin: a token channel's default deposit is buy.depositRequests × the price.
    const deposit = flags.deposit !== undefined ? { value: flags.deposit, key: '--deposit' } : asset === undefined ? defaults.deposit : undefined
    const payer = await s.buyer({ settleDelay: flags['settle-delay'] ?? policy.settleDelay, expirySeconds: flags.expiry ?? policy.bitcoinExpiry })
    const r = await buy(payer, args.url, {
      method: flags.request.toUpperCase(), headers, body: flags.data,
      maxPrice: maxPrice?.value ?? (asset === undefined ? defaults.maxPrice : noMaxPrice(flags.asset!)),
      ...(asset ? { priceAsset: asset } : {}),
      deposit: deposit !== undefined ? amountIn(deposit.value, deposit.key) : undefined,
      depositRequests: BigInt(policy.depositRequests),
      autoOpen: flags.yes || policy.autoOpen,
      maxTimeMs, connectTimeoutMs,
      via: flags.via,
      expect: BigInt(flags.expect ?? policy.expect ?? 1),
      ...(flags['max-fee'] !== undefined ? { maxFee: amountIn(flags['max-fee'], '--max-fee') } : defaults.maxFee !== undefined && asset === undefined ? { maxFee: defaults.maxFee, maxFeeKey: 'buy.maxFee' } : {}),
      onProgress: (s) => this.progress(s),
    })
    if (flags.output) writeFileSync(flags.output, r.body)
    if (!this.jsonEnabled()) {
      if (flags.include) {
        process.stdout.write(`HTTP ${r.status}\n`)
        for (const [k, v] of Object.entries(r.headers)) process.stdout.write(`${k}: ${Array.isArray(v) ? v.join(', ') : v}\n`)
        process.stdout.write('\n')
      }
      if (!flags.output) process.stdout.write(r.body)
    }
    if (r.status >= 400) process.exitCode = 1
    return {
      status: r.status,
      ...(flags.output ? { file: flags.output } : { body: r.body.toString('utf8') }),
      paid: r.paid.toString(),
      scheme: r.scheme ?? null,
      transaction: r.transaction ?? null,
      authorization: r.authorization ?? null,
      channelId: r.channelId ?? null,
      voucher: r.voucher ?? null,
      opened: r.opened ?? null,
      routed: r.routed ? { ...r.routed, fee: r.routed.fee.toString() } : null,
    }
  }
}
