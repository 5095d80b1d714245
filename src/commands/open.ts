import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { statusJson } from '../cli/render.js'
import { UsageError } from '../core/errors.js'

export default class Open extends BaseCommand<typeof Open> {
  static override summary = 'Open an outbound payment channel on chain.'
  static override description =
    'Deposits <amount> into a new channel to <payee>. Checks that the contract at the network\'s address is the ' +
    'PaymentChannels build this channels ships before depositing. Amounts take units: 0.1eth, 2gwei, or base units.\n\n' +
    'On a Bitcoin-family network (kind bitcoin), <payee> is the payee\'s channel pubkey (hex) and <amount> is in sat/btc/ltc: ' +
    'the deposit is paid from the key\'s P2WPKH coins to a two1 CLTV channel script (P2WSH, or P2SH with --p2sh); the signed ' +
    'refund is stored before the deposit is broadcast, and the payer can take it with `channels collect` after --expiry.'
  static override examples = [
    '<%= config.bin %> open 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0.1eth',
    '<%= config.bin %> open 0x7099…79C8 0.5eth --settle-delay 3600 --url http://127.0.0.1:4021/.well-known/channels --json',
    '<%= config.bin %> open 02c0ffee…(66 hex) 100000sat --network regtest --expiry 345600',
  ]
  static override args = {
    payee: Args.string({ required: true, description: 'Payee address.' }),
    amount: Args.string({ required: true, description: 'Deposit (e.g. 0.1eth).' }),
  }
  static override flags = {
    asset: Flags.string({ summary: 'ERC-20 token: a name from the network\'s config (usdc) or its address (default: the unit of the amount, else the native currency).' }),
    'settle-delay': Flags.integer({ summary: 'Seconds between settle and collect (default: config buy.settleDelay).', min: 1 }),
    url: Flags.string({ summary: 'Merchant channel endpoint to bind (for pay and close).' }),
    expiry: Flags.integer({ summary: 'Bitcoin: seconds from now until the payer may take the refund (default: config buy.bitcoinExpiry, 7 days; a paywall asks for at least 4 days by default).', min: 60 }),
    p2sh: Flags.boolean({ summary: 'Bitcoin: deposit to P2SH (two1-compatible) instead of P2WSH.' }),
    wait: Flags.boolean({ summary: 'Bitcoin: wait for the deposit to confirm.', default: true, allowNo: true }),
  }

  async run() {
    const { args, flags } = await this.parse(Open)
    // In --asset, or the token its unit names (5usdc), else the native coin.
    const { value: deposit, asset } = this.parseAmountOn(args.amount, 'deposit', flags.asset)
    if (flags.url) {
      let u: URL | undefined
      try {
        u = new URL(flags.url)
      } catch {
        /* reported below */
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new UsageError(`Invalid --url "${flags.url}": expected an http(s) URL.`)
    }
    const s = await this.scheme()
    const r = await s.open({
      payee: args.payee, deposit, endpoint: flags.url, asset, settleDelay: flags['settle-delay'],
      expirySeconds: flags.expiry, p2sh: flags.p2sh || undefined, wait: flags.wait, onProgress: (line) => this.progress(line),
    })
    const c = r.channel
    this.log(`${c.state === 'open' ? 'Opened' : 'Opening'} channel ${c.id}`)
    this.log(`  to ${c.payee} with ${this.amount(c.deposit, c.asset)} (${r.refundAfter === undefined ? `tx ${r.transaction}` : `deposit ${r.transaction}, refund after ${new Date(r.refundAfter * 1000).toISOString()}`})`)
    return statusJson(r.status, this.assetOf(r.status.channel.asset).id)
  }
}
