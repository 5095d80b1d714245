import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { BUDGET_PERIODS, periodText, setBudget, type BudgetPeriod } from '../../core/spending/budget.js'
import { budgetJson } from '../../cli/spending.js'

export default class BudgetSet extends BaseCommand<typeof BudgetSet> {
  static override summary = 'Limit what `buy` spends on an origin, or on every origin (*).'
  static override description =
    'A budget counts, in the network\'s asset, what `buy` paid to one URL origin (scheme://host[:port], normalized: ' +
    'https://API.example.com:443 is https://api.example.com) or, with *, to every origin together: each paid request\'s price, ' +
    'plus the hub\'s fee when paid through a hub. --per day counts the last 24 hours and --per week the last 7 days (rolling ' +
    'windows, not calendar days); --per total (the default) counts everything. A purchase that would take the origin\'s budget or ' +
    '*\'s above its limit is refused with exit 3, naming the limit, what was spent in its window and what remains, and nothing ' +
    'is paid or recorded; the check is made with the voucher\'s nonce allocation, so concurrent buys cannot both pass it. ' +
    'A request the merchant\'s receipt says it did not charge (or that it refused) does not count. Setting a budget for an origin ' +
    'and period again replaces it. A budget is per network and asset: one in ETH says nothing of a token.'
  static override examples = [
    '<%= config.bin %> budget set https://api.example.com 0.01eth --per day',
    '<%= config.bin %> budget set \'*\' 0.1eth --per week',
    '<%= config.bin %> budget set http://127.0.0.1:4021 5000 --json',
  ]
  static override args = {
    origin: Args.string({ required: true, description: 'A URL origin (https://api.example.com), or * for every origin together.' }),
    amount: Args.string({ required: true, description: 'The limit, in the network\'s asset: base units (5000) or with a unit (0.01eth, 1000sat).' }),
  }
  static override flags = {
    per: Flags.string({ summary: 'The window counted: day (last 24 h), week (last 7 days) or total.', options: [...BUDGET_PERIODS], default: 'total' }),
  }

  async run() {
    const { args, flags } = await this.parse(BudgetSet)
    // In the network's native coin, or the token the amount's unit names (5usdc: a budget in USDC).
    const amount = this.parseAmountOn(args.amount, 'amount')
    const asset = this.assetOf(amount.asset)
    const period = flags.per as BudgetPeriod
    const b = setBudget(this.store, { network: this.walletNetwork.caip2, asset, origin: args.origin, period, amount: amount.value })
    const show = (v: bigint) => this.amount(v, amount.asset)
    this.log(`Budget of ${b.origin === '*' ? 'every origin (*)' : b.origin}: ${show(b.amount)} ${periodText(period)}; ${show(b.spent)} spent, ${show(b.remaining)} remains.`)
    return budgetJson(b)
  }
}
