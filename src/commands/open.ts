import { Args, Flags } from '@oclif/core'
import { ZeroAddress } from 'ethers'
import { BaseCommand } from '../cli/base.js'
import { parseAmount } from '../core/units.js'
import { statusJson, amount } from '../cli/render.js'
import { UsageError } from '../core/errors.js'

export default class Open extends BaseCommand<typeof Open> {
  static override summary = 'Open an outbound payment channel on chain.'
  static override description =
    'Deposits <amount> into a new channel to <payee>. Checks that the contract at the network\'s address is the ' +
    'PaymentChannels build this channels ships before depositing. Amounts take units: 0.1eth, 2gwei, or base units.'
  static override examples = [
    '<%= config.bin %> open 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0.1eth',
    '<%= config.bin %> open 0x7099…79C8 0.5eth --settle-delay 3600 --url http://127.0.0.1:4021/.well-known/channels --json',
  ]
  static override args = {
    payee: Args.string({ required: true, description: 'Payee address.' }),
    amount: Args.string({ required: true, description: 'Deposit (e.g. 0.1eth).' }),
  }
  static override flags = {
    asset: Flags.string({ summary: 'ERC-20 token address (default: the native currency).' }),
    'settle-delay': Flags.integer({ summary: 'Seconds between settle and collect (default: config buy.settleDelay).', min: 1 }),
    url: Flags.string({ summary: 'Merchant channel endpoint to bind (for pay and close).' }),
  }

  async run() {
    const { args, flags } = await this.parse(Open)
    const deposit = parseAmount(args.amount, 'deposit')
    if (flags.url) {
      let u: URL | undefined
      try {
        u = new URL(flags.url)
      } catch {
        /* reported below */
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new UsageError(`Invalid --url "${flags.url}": expected an http(s) URL.`)
    }
    const m = await this.manager()
    const c = await m.open({
      payee: args.payee, deposit, asset: flags.asset ?? ZeroAddress,
      settleDelay: flags['settle-delay'] ?? this.walletConf.get('buy').settleDelay, endpoint: flags.url,
      onSent: (hash) => this.progress(`Sent ${hash}; waiting for it to be mined…`),
    })
    this.log(`Opened channel ${c.id}`)
    this.log(`  to ${c.payee} with ${amount(c.deposit, c.asset)} (tx ${c.openTx})`)
    return statusJson(m.statusOf(c))
  }
}
