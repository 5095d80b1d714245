import { Flags } from '@oclif/core'
import { purchaseHistory } from '../core/spending/history.js'
import { table } from '../cli/render.js'
import { BaseCommand, wideFlag } from '../cli/base.js'
import { purchaseJson, totalJson } from '../cli/spending.js'

export default class History extends BaseCommand<typeof History> {
  static override summary = 'List the requests `buy` paid for, newest first, with totals per origin.'
  static override description =
    'Every paid request of `buy` on the network: when, the URL, how (a channel, through a hub: its fee, or x402 `exact`: a ' +
    'one-off EIP-3009 authorization, which counts whatever the answer), the price, the channel and voucher (lane/nonce) paid with, and the merchant\'s answer: paid, not_charged (its receipt says the resource ' +
    'failed), refused (a 402), or pending (no answer came). `spent` is what counts against budgets: price + fee, 0 for a direct ' +
    'purchase not charged or refused (its voucher\'s credit pays the next request). --json adds each PAYMENT-RESPONSE receipt, ' +
    'decoded; --wide adds what each counts, the hub, the channel and the voucher. --since takes a duration back from now (30m, 24h, 7d, 2w) or an ISO date (2026-11-30, 2026-11-30T12:00:00Z).'
  static override examples = [
    '<%= config.bin %> history',
    '<%= config.bin %> history --origin https://api.example.com --since 24h',
    '<%= config.bin %> history --since 2026-11-01 --json',
  ]
  static override flags = {
    origin: Flags.string({ summary: 'Only purchases from this URL origin (https://api.example.com).' }),
    since: Flags.string({ summary: 'Only purchases since this time: a duration (24h, 7d) or an ISO date.' }),
    wide: wideFlag,
  }

  async run() {
    const { flags } = await this.parse(History)
    const h = purchaseHistory(this.store, { network: this.walletNetwork.caip2, origin: flags.origin, since: flags.since })
    if (h.purchases.length === 0) this.log('No purchases.')
    else {
      const time = (t: number) => new Date(t * 1000).toISOString().replace(/:\d\d\.000Z$/, 'Z').replace('T', ' ')
      const price = (p: (typeof h.purchases)[number]) => this.amount(p.price, p.asset) + (p.hub === undefined ? '' : ` + ${this.amount(p.fee, p.asset)} fee`)
      this.log(flags.wide
        ? table(['time', 'url', 'price', 'status', 'counts', 'via', 'channel', 'lane/nonce'], h.purchases.map((p) => [
          time(p.createdAt), p.url, price(p), p.status, this.amount(p.spent, p.asset), p.scheme === 'exact' ? 'exact' : p.hub ?? 'direct',
          p.channelId ?? '-', p.channelId === undefined ? '-' : `${p.lane}/${p.nonce}`,
        ]))
        : table(['time (UTC)', 'url', 'price', 'status'], h.purchases.map((p) => [time(p.createdAt), p.url, price(p), p.status])))
      this.log('')
      this.log(table(['origin', 'spent', 'purchases'], h.totals.map((t) => [t.origin, this.amount(t.spent, t.asset), String(t.count)])))
    }
    return { purchases: h.purchases.map(purchaseJson), totals: h.totals.map(totalJson) }
  }
}
