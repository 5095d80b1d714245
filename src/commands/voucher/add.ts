import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherArg, readVoucher, resolveChannel } from '../../cli/voucher.js'
import { addVoucher } from '../../families/evm/operations.js'
import { parseAmount } from '../../core/units.js'

export default class VoucherAdd extends BaseCommand<typeof VoucherAdd> {
  static override summary = 'Store a voucher received from the payer (payee side) and print what it adds.'
  static override description = 'Checks it like `voucher check`; refuses (exit 2) an invalid voucher or one adding less than --min-delta.'
  static override examples = ['<%= config.bin %> voucher add 0x3f2a eyJj…', '<%= config.bin %> voucher add 0x3f2a eyJj… --min-delta 1000 --json']
  static override args = { channel: channelArg, voucher: voucherArg }
  static override flags = { 'min-delta': Flags.string({ summary: 'Smallest acceptable increase over the stored amount (e.g. 1000 or 1gwei).', default: '0' }) }

  async run() {
    const { args, flags } = await this.parse(VoucherAdd)
    const minDelta = parseAmount(flags['min-delta'], '--min-delta', this.family)
    if (this.isBitcoin) {
      const v = readVoucher(args.voucher)
      const { addBitcoinVoucher } = await import('../../families/bitcoin/inbound.js')
      const delta = await addBitcoinVoucher(await this.bitcoin(), args.channel, v, minDelta)
      this.log(`Stored payment nonce ${v.nonce}; it adds ${this.amount(delta, 'sat')}.`)
      return { channelId: v.channelId, lane: '0', nonce: v.nonce.toString(), amount: v.amount.toString(), delta: delta.toString() }
    }
    const m = await this.manager()
    const v = readVoucher(args.voucher)
    const c = await resolveChannel(m, args.channel, v)
    const delta = await addVoucher(m, c, v, minDelta)
    this.log(`Stored voucher lane ${v.lane} nonce ${v.nonce}; it adds ${this.amount(delta, c.asset)}.`)
    return { channelId: v.channelId, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString(), delta: delta.toString() }
  }
}
