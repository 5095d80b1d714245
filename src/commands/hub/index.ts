import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { parseAmount } from '../../core/units.js'
import { UsageError } from '../../core/errors.js'
import { startHubServer } from '../../core/transports/hub/server.js'
import { hubInfoToWire } from '../../core/channel/lock.js'
import { redeemPolicy } from '../../core/config-fields.js'
import { schedule, type SettlerEvent } from '../../core/channel/settler.js'

export default class Hub extends BaseCommand<typeof Hub> {
  static override summary = 'Run a hub: forward hash-time-locked payments from payers\' channels to payees\' channels, for a fee.'
  static override description =
    'The mediator of DESIGN §11 (the mediator seed\'s lock_spend), with this home\'s wallet and database. Payers open a channel to the ' +
    'hub\'s address and pay anyone the hub has an open channel to (`channels open <payee> <deposit> --url <payee endpoint>` in the hub\'s home ' +
    'provides the liquidity) with `channels pay --via <hub url>`, or `channels buy` when a merchant lists the hub. ' +
    'POST /lock takes a conditional voucher for amount + fee (fee ≥ --fee-base + --fee-ppm parts per million of the amount, rounded up; ' +
    'time lock at least --min-lock seconds ahead; the payer\'s channel open on chain and covering it beside every other in-flight lane), ' +
    'forwards the hub\'s own voucher for the amount locked to the same hash until --margin seconds before the payer\'s lock, and answers ' +
    'the secret once the payee reveals it. Then both conditional vouchers are replaced by unconditional ones. The redemption service ' +
    'redeems on chain any conditional voucher whose payer disappeared, with its secret, before its lock ends; every --watch-interval ' +
    'seconds payments a crash interrupted are finished or released and passed locks expire. ' +
    'With --json it prints one line {"endpoint","address","network",…} when ready. Runs until interrupted. EVM networks only.'
  static override examples = [
    '<%= config.bin %> hub --port 4030 --fee-base 10 --fee-ppm 1000',
    '<%= config.bin %> hub --network devnet --port 4030 --fee-base 0.00001eth --min-lock 900 --json',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'Port to listen on.', default: 4030, min: 0, max: 65535 }),
    host: Flags.string({ summary: 'Address to listen on.', default: '127.0.0.1' }),
    'fee-base': Flags.string({ summary: 'Fee per payment (e.g. 10 or 0.00001eth).', default: '0' }),
    'fee-ppm': Flags.integer({ summary: 'Fee in parts per million of the amount, on top of --fee-base.', default: 1000, min: 0, max: 1_000_000 }),
    'min-lock': Flags.integer({ summary: 'Least seconds from now to a payer\'s voucher\'s time lock.', default: 600, min: 1 }),
    margin: Flags.integer({ summary: 'Seconds between the payer\'s lock and the hub\'s: the hub\'s time to redeem after the payee reveals the secret.', default: 300, min: 1 }),
    'min-settle-delay': Flags.integer({ summary: 'Smallest settle delay of a payer\'s channel, seconds.', default: 3600, min: 1 }),
    'watch-interval': Flags.integer({ summary: 'Seconds between recovery and redemption rounds; default config redeem.interval (30).', min: 1 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Hub)
    const base = parseAmount(flags['fee-base'], '--fee-base', this.assetOf())
    if (flags.margin >= flags['min-lock']) throw new UsageError('--margin must be below --min-lock: the hub\'s own lock ends --margin seconds before the payer\'s.')
    const s = await this.scheme()
    if (!s.locks) throw new UsageError(s.unsupported('hub'))
    await s.checkChain()
    await s.signer()
    const node = s.locks.hub({ base, ppm: BigInt(flags['fee-ppm']), minLock: flags['min-lock'], margin: flags.margin, minSettleDelay: flags['min-settle-delay'] })
    const server = await startHubServer(node, { host: flags.host, port: flags.port })
    const report = (e: SettlerEvent) => process.stderr.write(this.jsonEnabled() ? JSON.stringify({ watcher: e }) + '\n' : `watcher: ${e.kind} ${e.channelId.slice(0, 18)}: ${e.detail}\n`)
    const interval = flags['watch-interval'] ?? redeemPolicy(this.walletConf.get('redeem')).interval
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    const redeemer = s.watch({ intervalSeconds: interval, closeMargin: 0 }, report)
    // Finish or release what a crash interrupted, and expire passed locks: now and every round (never two at once).
    const recovery = schedule(async () => {
      await node.recover().catch((err: unknown) => process.stderr.write(`hub: recovery round failed: ${(err as Error).message.split('\n')[0]}\n`))
      return []
    }, interval, report)
    const info = { endpoint: server.url, ...hubInfoToWire(node.info()) }
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify(info) + '\n')
    else this.log(`Hub on ${server.url} (${info.network}), address ${info.address}, fee ${this.amount(base)} + ${flags['fee-ppm']} ppm. Ctrl-C stops it.`)
    await stopped
    recovery.stop()
    redeemer.stop()
    await server.close()
  }
}
