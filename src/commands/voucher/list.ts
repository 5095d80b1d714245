import { BaseCommand, wideFlag } from '../../cli/base.js'
import { channelArg, voucherJson } from '../../cli/voucher.js'
import { amount, shortHex, table } from '../../cli/render.js'

export default class VoucherList extends BaseCommand<typeof VoucherList> {
  static override summary = 'List the vouchers stored for a channel.'
  static override examples = ['<%= config.bin %> voucher list 0x3f2a', '<%= config.bin %> voucher list 0x3f2a --json']
  static override args = { channel: channelArg }
  static override flags = { wide: wideFlag }

  async run() {
    const { args, flags } = await this.parse(VoucherList)
    const { channel: c, vouchers: all } = this.reader.vouchersOf(args.channel)
    const asset = this.assetOf(c.asset)
    const rows = all.map((v) => [
      String(v.lane), String(v.nonce), amount(v.amount, asset, flags.wide ? undefined : 6), v.delivered ? 'yes' : 'no',
      v.submittedTx ? (flags.wide ? v.submittedTx : shortHex(v.submittedTx)) : '-',
    ])
    this.log(all.length ? table(['lane', 'nonce', 'total', 'delivered', 'submitted'], rows) : 'No vouchers.')
    return { channelId: c.id, vouchers: all.map(voucherJson) }
  }
}
