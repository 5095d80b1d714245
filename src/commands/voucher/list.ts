import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherJson } from '../../cli/voucher.js'
import { table } from '../../cli/render.js'

export default class VoucherList extends BaseCommand<typeof VoucherList> {
  static override summary = 'List the vouchers stored for a channel.'
  static override examples = ['<%= config.bin %> voucher list 0x3f2a', '<%= config.bin %> voucher list 0x3f2a --json']
  static override args = { channel: channelArg }

  async run() {
    const { args } = await this.parse(VoucherList)
    const m = this.reader
    const c = m.channel(args.channel)
    const all = m.store.vouchers.list(c.network, c.id)
    this.log(all.length ? table(['lane', 'nonce', 'amount', 'delivered', 'submitted'], all.map((v) => [String(v.lane), String(v.nonce), String(v.amount), v.delivered ? 'yes' : 'no', v.submittedTx ?? '-'])) : 'No vouchers.')
    return { channelId: c.id, vouchers: all.map(voucherJson) }
  }
}
