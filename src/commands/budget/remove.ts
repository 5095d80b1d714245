import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { BUDGET_PERIODS, removeBudget, type BudgetPeriod } from '../../core/spending/budget.js'

export default class BudgetRemove extends BaseCommand<typeof BudgetRemove> {
  static override summary = 'Remove the budgets of an origin, or the global one (*).'
  static override description = 'Removes every budget of the origin in the network\'s native coin (or in --asset), or only the one of --per. An origin without one exits 2.'
  static override examples = [
    '<%= config.bin %> budget remove https://api.example.com',
    '<%= config.bin %> budget remove \'*\' --per week --json',
  ]
  static override args = {
    origin: Args.string({ required: true, description: 'A URL origin (https://api.example.com), or * for the global budget.' }),
  }
  static override flags = {
    per: Flags.string({ summary: 'Remove only the budget of this window.', options: [...BUDGET_PERIODS] }),
    asset: Flags.string({ summary: 'The budgets in this token: a name from the network\'s config (usdc) or its address (default: the native coin).' }),
  }

  async run() {
    const { args, flags } = await this.parse(BudgetRemove)
    const r = removeBudget(this.store, { asset: this.assetOf(flags.asset === undefined ? undefined : this.assetFlag(flags.asset)), origin: args.origin, period: flags.per as BudgetPeriod | undefined })
    this.log(`Removed ${r.removed} budget${r.removed === 1 ? '' : 's'} of ${r.origin === '*' ? 'every origin (*)' : r.origin}.`)
    return r
  }
}
