import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherArg, readVoucher, secretFlag } from '../../cli/voucher.js'
import { parseAmount } from '../../core/units.js'

export default class VoucherAdd extends BaseCommand<typeof VoucherAdd> {
  static override summary = 'Store a voucher received from the payer (payee side) and print what it adds.'
  static override description = 'Checks it like `voucher check`; refuses (exit 2) an invalid voucher or one adding less than --min-delta. ' +
    'A hash-locked voucher is stored only with --secret <hex> (its preimage, checked); submit, close and serve\'s redemption service then redeem it with the secret.'
  static override examples = ['<%= config.bin %> voucher add 0x3f2a eyJj…', '<%= config.bin %> voucher add 0x3f2a eyJj… --min-delta 1000 --json', '<%= config.bin %> voucher add 0x3f2a eyJj… --secret 0x6869']
  static override args = { channel: channelArg, voucher: voucherArg }
  static override flags = { 'min-delta': Flags.string({ summary: 'Smallest acceptable increase over the stored amount (e.g. 1000 or 1gwei).', default: '0' }), secret: secretFlag }

  async run() {
    const { args, flags } = await this.parse(VoucherAdd)
    const minDelta = parseAmount(flags['min-delta'], '--min-delta', this.assetOf())
    const v = readVoucher(args.voucher, this.channelFamily.kind)
    const s = await this.scheme()
    const r = await s.add(args.channel, v, minDelta, flags.secret)
    this.log(`Stored ${s.voucherName}${s.lanes ? ` lane ${v.lane}` : ''} nonce ${v.nonce}; it adds ${this.amount(r.delta, r.asset)}.`)
    return { channelId: r.channelId, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString(), delta: r.delta.toString() }
  }
}
