import { Args, Flags } from '@oclif/core'
import { writeFileSync } from 'node:fs'
import { BaseCommand } from '../cli/base.js'
import { buy } from '../core/http402/client.js'
import { parseAmount } from '../core/units.js'
import { UsageError } from '../core/errors.js'
import { unlocksUnattended } from '../core/keys/wallet.js'

export default class Buy extends BaseCommand<typeof Buy> {
  static override summary = 'Fetch a URL, paying its HTTP 402 over a payment channel, and print the body.'
  static override description =
    'curl-like. On a 402 whose price is at most --max-price, pays with the next voucher on an open channel to the ' +
    'merchant, opening one (deposit --deposit) when none can pay and --yes (or config buy.autoOpen) allows it. ' +
    'The voucher is recorded before it is sent. Exit codes: 3 price above --max-price, 4 payment refused, ' +
    '5 no channel can pay / insufficient funds, 6 merchant or chain unreachable.\n\n' +
    'With a Bitcoin-family --network the merchant\'s bip122 entry is paid: a two1 CLTV channel is opened to its pubkey ' +
    '(waiting for the deposit to confirm) and each request carries a half-signed payment transaction.'
  static override examples = [
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --max-price 5000 --deposit 0.01eth --yes',
    '<%= config.bin %> buy http://127.0.0.1:4021/joke -o joke.txt --json',
    '<%= config.bin %> buy http://127.0.0.1:4021/weather --network regtest --max-price 2000sat --deposit 100000sat --yes',
    '<%= config.bin %> buy https://api.example/search -X POST -H "content-type: application/json" -d \'{"q":"x"}\'',
  ]
  static override args = { url: Args.string({ required: true, description: 'URL to fetch.' }) }
  static override flags = {
    request: Flags.string({ char: 'X', summary: 'HTTP method.', default: 'GET' }),
    header: Flags.string({ char: 'H', summary: 'Extra request header "Name: value" (repeatable).', multiple: true }),
    data: Flags.string({ char: 'd', summary: 'Request body.' }),
    output: Flags.string({ char: 'o', summary: 'Write the body to this file instead of stdout.' }),
    include: Flags.boolean({ char: 'i', summary: 'Print the response status and headers before the body.' }),
    'max-price': Flags.string({ summary: 'Highest price to pay for this request (default: config buy.maxPrice).' }),
    deposit: Flags.string({ summary: 'Deposit of a channel opened by this call (default: config buy.deposit).' }),
    'settle-delay': Flags.integer({ summary: 'Settle delay of a channel opened by this call, seconds.', min: 1 }),
    expiry: Flags.integer({ summary: 'Bitcoin: lifetime of a channel opened by this call, seconds (default: config buy.bitcoinExpiry).', min: 60 }),
    yes: Flags.boolean({ char: 'y', summary: 'Open a channel without asking when none can pay.' }),
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
    const bitcoin = this.isBitcoin
    const family = bitcoin ? 'bitcoin' : 'evm'
    const m = bitcoin ? await this.bitcoin() : await this.manager()
    // Paying needs the key: when no prompt is needed, its unlock (scrypt, off the event loop)
    // runs under the first request and the channel checks instead of after them.
    if (unlocksUnattended(this.walletConf, this.flags.key)) m.signer().catch(() => {})
    const r = await buy(m, args.url, {
      method: flags.request.toUpperCase(), headers, body: flags.data,
      maxPrice: flags['max-price'] !== undefined ? parseAmount(flags['max-price'], '--max-price', family) : BigInt(bitcoin ? policy.bitcoinMaxPrice : policy.maxPrice),
      deposit: flags.deposit !== undefined ? parseAmount(flags.deposit, '--deposit', family) : BigInt(bitcoin ? policy.bitcoinDeposit : policy.deposit),
      settleDelay: flags['settle-delay'] ?? policy.settleDelay,
      expirySeconds: flags.expiry ?? policy.bitcoinExpiry,
      autoOpen: flags.yes || policy.autoOpen,
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
      channelId: r.channelId ?? null,
      voucher: r.voucher ?? null,
      opened: r.opened ?? null,
    }
  }
}
