import { availableParallelism } from 'node:os'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { startPaywall } from '../core/transports/http402/server.js'
import { describeHubs } from '../core/transports/http402/merchant.js'
import { UsageError } from '../core/errors.js'
import { unlocksUnattended } from '../core/keys/wallet.js'
import type { SettlerEvent } from '../core/channel/settler.js'
import { redeemPolicy } from '../core/config-fields.js'

export default class Serve extends BaseCommand<typeof Serve> {
  static override summary = 'Run a paywall: answer HTTP 402, take vouchers, serve demo resources or proxy an upstream.'
  static override description =
    'Payments go to the key --key (default key). Every voucher is verified and committed before the resource is served; ' +
    'a request whose handler fails is not charged. Without --upstream it serves GET /weather and GET /joke. ' +
    'POST /.well-known/channels/close lets a payer ask for a cooperative close. On an EVM network a redemption service ' +
    'runs every --watch-interval seconds (default: config redeem.interval, 30): it redeems every channel whose unredeemed ' +
    'value minus the estimated gas is at least redeem.minProfit, or whose settleAt or voucher time lock is within redeem.margin ' +
    'seconds, up to redeem.batchSize channels per transaction: open channels redeemed and collected in one closeMany, settling ' +
    'ones (their payers collect) in one updateMany; the others are deferred. With --json it prints one line ' +
    '{"url","payTo","network","price","contract"} (and "hubs" with --hub) when ready. Runs until interrupted.\n\n' +
    'On a Bitcoin-family network the 402 offers a bip122 entry (price in satoshis) whose payTo is a fresh key per channel: ' +
    'child i of this key\'s BIP84 chain m/84\'/<coin>\'/0\'/0, with extra.payeeIndex i (the ready line\'s payTo is the base key, i = 0); ' +
    'payments are half-signed transactions checked against every payee rule (signature, script, outpoint, amount, ' +
    'dust, fee floor and cap, finality) before serving, and the watcher countersigns and broadcasts the best payment ' +
    'of a channel once its expiry is within --close-margin, or at once when its payer asks (POST …/close).\n\n' +
    'With --hub <url> (repeatable; EVM) the 402 lists that hub (issue 12) with this key\'s public key: a buyer without a channel ' +
    'here but with one to the hub pays through it and proves it with the payment\'s secret. The hub\'s operator opens a channel to ' +
    'this address bound to this paywall\'s endpoint; its conditional vouchers must lock at least --min-lock seconds ahead. ' +
    'A hub on another network or contract is a usage error (exit 2); an unreachable one, exit 6.'
  static override examples = [
    '<%= config.bin %> serve --network devnet --port 4021 --price 1000',
    '<%= config.bin %> serve --upstream http://127.0.0.1:8080 --price 0.0001eth --route /api',
    '<%= config.bin %> serve --network regtest --price 1000sat --min-expiry 86400 --close-margin 3600',
    '<%= config.bin %> serve --price 1000 --hub http://127.0.0.1:4030',
    '<%= config.bin %> serve --network devnet --price 0.001usdc --min-deposit 1usdc',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'Port to listen on.', default: 4021, min: 0, max: 65535 }),
    host: Flags.string({ summary: 'Address to listen on.', default: '127.0.0.1' }),
    price: Flags.string({ summary: 'Price of one request (e.g. 1000, 0.000001eth, or 0.001usdc: a token the network names).', required: true }),
    asset: Flags.string({ summary: 'Charge in this ERC-20 token: a name from the network\'s config (usdc) or its address (EVM; default: the unit of --price, else the native coin).' }),
    route: Flags.string({ summary: 'Path prefix that costs --price (repeatable; default: every path).', multiple: true }),
    upstream: Flags.string({ summary: 'Reverse-proxy paid requests to this base URL.' }),
    'min-deposit': Flags.string({ summary: 'Smallest deposit accepted on a new channel (default 100 × price).' }),
    'min-settle-delay': Flags.integer({ summary: 'Smallest settle delay accepted on a new channel, seconds.', default: 3600, min: 1 }),
    'min-expiry': Flags.integer({ summary: 'Bitcoin: least time from now to a new channel\'s expiry, seconds.', default: 345600, min: 0 }),
    'close-margin': Flags.integer({ summary: 'Bitcoin: close (and refuse payments) this long before a channel\'s expiry, seconds.', default: 86400, min: 0 }),
    'min-conf': Flags.integer({ summary: 'Bitcoin: confirmations a deposit needs before its channel is accepted.', default: 1, min: 0 }),
    'verify-threads': Flags.integer({
      summary: 'Worker threads that decode and verify vouchers beside the event loop (EVM); 0 verifies on the event loop.',
      description: 'Default: one fewer than the available CPUs, at most 4 (0 on a single CPU).',
      min: 0, max: 64,
    }),
    hub: Flags.string({ summary: 'URL of a hub that pays this payee, listed in the 402 for buyers without a channel here (repeatable; EVM).', multiple: true }),
    'min-lock': Flags.integer({ summary: 'Least seconds from now to the time lock of a hub\'s conditional voucher.', default: 120, min: 1 }),
    'watch-interval': Flags.integer({ summary: 'Seconds between rounds of the watcher (EVM: the redemption service); default config redeem.interval (30).', min: 1 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve)
    // Flags first: a bad value is a usage error before any node or key is touched.
    const { value: price, asset } = this.parseAmountOn(flags.price, '--price', flags.asset)
    const minDeposit = flags['min-deposit'] ? this.parseAmountOn(flags['min-deposit'], '--min-deposit', asset ?? flags.asset).value : undefined
    if (asset && flags.hub?.length) throw new UsageError('A hub routes the native coin only; charge in it (--price without a token) to list hubs.')
    const s = await this.scheme()
    // Closing needs the key, so a locked key fails at start (before the ready line), not mid-close.
    // When no prompt is needed, its unlock (scrypt, off the event loop) runs under the node checks and
    // the paywall's start (its verify threads load meanwhile); a prompt comes before anything listens.
    const unattended = unlocksUnattended(this.walletConf, this.flags.key)
    if (unattended) s.signer().catch(() => {})
    await s.checkChain()
    if (flags.hub?.length && !s.locks) throw new UsageError(s.unsupported('hub'))
    const hubs = flags.hub?.length ? await describeHubs(flags.hub, this.walletNetwork.caip2, (await s.serveInfo()).contract) : undefined
    if (!unattended) await s.signer()
    // Before the ready line, so that whoever waits for it has the warnings too.
    for (const w of await s.serveWarnings()) {
      process.stderr.write(this.jsonEnabled() ? JSON.stringify({ warning: { kind: w.kind, ...w.data, message: w.message, fix: w.fix } }) + '\n' : `warning: ${w.message}\n  Fund it: ${w.fix}\n`)
    }
    const paywall = await startPaywall({
      scheme: s, price, asset, routes: flags.route, upstream: flags.upstream, host: flags.host, port: flags.port,
      minDeposit,
      minSettleDelay: flags['min-settle-delay'],
      minExpirySeconds: flags['min-expiry'], closeMargin: flags['close-margin'], minConf: flags['min-conf'],
      hubs, minLock: flags['min-lock'],
      verifyThreads: flags['verify-threads'] ?? Math.min(4, availableParallelism() - 1),
      // ../verify-worker.js from commands/serve.js, in the tsc build and in the bundle alike
      verifyWorker: new URL('../verify-worker.js', import.meta.url),
    })
    await s.signer().catch(async (err: unknown) => {
      await paywall.close()
      throw err
    })
    const report = (e: SettlerEvent) => {
      // stderr in both modes: --json keeps stdout for the one ready line.
      process.stderr.write(this.jsonEnabled() ? JSON.stringify({ watcher: e }) + '\n' : `watcher: ${e.kind} ${e.channelId.slice(0, 18)}: ${e.detail}\n`)
    }
    // Signal handlers before the ready line: whoever waits for it may stop us at once.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    const settler = s.watch({ intervalSeconds: flags['watch-interval'] ?? redeemPolicy(this.walletConf.get('redeem')).interval, closeMargin: flags['close-margin'] }, report)
    const { payTo, ...where } = await s.serveInfo()
    const info = { url: paywall.url, payTo, network: this.walletNetwork.caip2, price: price.toString(), ...(asset ? { asset } : {}), ...where, ...(hubs ? { hubs } : {}) }
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify(info) + '\n')
    else this.log(`Paywall on ${paywall.url} (${info.network}), ${this.amount(price, asset)} per request, paid to ${info.payTo}. Ctrl-C stops it.`)
    await stopped
    settler.stop()
    await paywall.close()
  }
}
