import { BaseCommand } from '../../cli/base.js'
import { listBudgets } from '../../core/spending/budget.js'
import { table } from '../../cli/render.js'
import { budgetJson, tokenOf } from '../../cli/spending.js'

export default class BudgetList extends BaseCommand<typeof BudgetList> {
  static override summary = 'List the budgets of the network, with what each spent in its window and what remains.'
  static override description = 'day and week are rolling windows: the last 24 hours and the last 7 days, at the time of the listing.'
  static override examples = ['<%= config.bin %> budget list', '<%= config.bin %> budget list --json']

  async run() {
    await this.parse(BudgetList)
    const budgets = listBudgets(this.store, this.walletNetwork.caip2)
    if (budgets.length === 0) this.log('No budgets. Set one with `channels budget set <origin|*> <amount> [--per day|week|total]`.')
    else {
      this.log(table(['origin', 'per', 'limit', 'spent', 'remaining'], budgets.map((b) => [
        b.origin, b.period, ...[b.amount, b.spent, b.remaining].map((v) => this.amount(v, tokenOf(b.assetId))),
      ])))
    }
    return { budgets: budgets.map(budgetJson) }
  }
}
