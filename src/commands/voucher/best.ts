import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherJson } from '../../cli/voucher.js'
import { bestVouchers } from '../../core/channel/status.js'

export default class VoucherBest extends BaseCommand<typeof VoucherBest> {
  static override summary = 'Print the best spendable voucher of each lane (highest nonce).'
  static override examples = ['<%= config.bin %> voucher best 0x3f2a', '<%= config.bin %> voucher best 0x3f2a --json']
  static override args = { channel: channelArg }

  async run() {
    const { args } = await this.parse(VoucherBest)
    const m = this.reader
    const c = m.channel(args.channel)
    const best = bestVouchers(m, c).map(voucherJson)
    for (const v of best) this.log(`lane ${v.lane} nonce ${v.nonce} total ${this.amount(BigInt(v.amount), c.asset)}\n${v.encoded}`)
    if (!best.length) this.log('No vouchers.')
    return { channelId: c.id, vouchers: best }
  }
}
