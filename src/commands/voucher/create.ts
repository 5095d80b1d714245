import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherJson } from '../../cli/voucher.js'
import { parseAmount } from '../../core/units.js'

export default class VoucherCreate extends BaseCommand<typeof VoucherCreate> {
  static override summary = 'Sign a voucher for a lane\'s new cumulative amount and print it (Lotus paych voucher create).'
  static override description =
    '<amount> is the lane\'s new cumulative total (as in Lotus), not an increment — `channels pay` takes an increment. ' +
    'The voucher is committed before it is printed. When the channel cannot cover it, exits 5 and prints the shortfall. ' +
    'Funds set aside by `channels reserve` are not used unless --reserved is given; with it, what the voucher adds is ' +
    'taken out of the reservation.'
  static override examples = ['<%= config.bin %> voucher create 0x3f2a 5000', '<%= config.bin %> voucher create 0x3f2a 0.001eth --lane 1 --json', '<%= config.bin %> voucher create 0x3f2a 5000 --reserved']
  static override args = { channel: channelArg, amount: Args.string({ required: true, description: 'New cumulative amount of the lane.' }) }
  static override flags = {
    lane: Flags.integer({ summary: 'Lane.', default: 0, min: 0 }),
    reserved: Flags.boolean({ summary: 'Pay out of the funds `channels reserve` set aside (what the voucher adds leaves `reserved`).' }),
  }

  async run() {
    const { args, flags } = await this.parse(VoucherCreate)
    const amount = parseAmount(args.amount, 'amount', this.assetOf())
    const v = await (await this.scheme()).createVoucher(args.channel, amount, BigInt(flags.lane), { reserved: flags.reserved })
    const out = voucherJson(v)
    this.log(out.encoded)
    return out
  }
}
