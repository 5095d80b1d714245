import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherArg, readVoucher, resolveChannel } from '../../cli/voucher.js'
import { addVoucher, InvalidVoucherError } from '../../core/channel/operations.js'
import { VoucherRefusedError } from '../../core/channel/inbound.js'
import { NotFoundError } from '../../core/errors.js'
import { parseAmount } from '../../core/units.js'

export default class VoucherAdd extends BaseCommand<typeof VoucherAdd> {
  static override summary = 'Store a voucher received from the payer (payee side) and print what it adds.'
  static override description = 'Checks it like `voucher check`; refuses (exit 2) an invalid voucher or one adding less than --min-delta.'
  static override examples = ['<%= config.bin %> voucher add 0x3f2a eyJj…', '<%= config.bin %> voucher add 0x3f2a eyJj… --min-delta 1000 --json']
  static override args = { channel: channelArg, voucher: voucherArg }
  static override flags = { 'min-delta': Flags.string({ summary: 'Smallest acceptable increase over the stored amount.', default: '0' }) }

  async run() {
    const { args, flags } = await this.parse(VoucherAdd)
    const minDelta = parseAmount(flags['min-delta'], '--min-delta')
    if (this.isBitcoin) {
      const b = await this.bitcoin()
      const v = readVoucher(args.voucher)
      const { checkBitcoinVoucher, learnBitcoinChannel, openFromPayment, storeLearned } = await import('../../core/channel/bitcoin-inbound.js')
      let c
      try {
        c = { ...b.channel(args.channel), stored: true }
      } catch (err) {
        // A payee that has not seen the channel learns it from the payment and the node (as `PaychVoucherAdd`).
        if (!(err instanceof NotFoundError) || !v.channelId.startsWith(args.channel.toLowerCase().replace(/^(0x)?/, '0x'))) throw err
        try {
          c = await learnBitcoinChannel(b, v.channelId, await openFromPayment(b, v), { minExpirySeconds: 0, closeMargin: 0, minDeposit: 0n, minConf: 1 })
        } catch (e) {
          if (e instanceof VoucherRefusedError) throw new InvalidVoucherError(`Payment refused: ${e.shortMessage}`)
          throw e
        }
      }
      if (c.direction !== 'inbound') throw new InvalidVoucherError('Payments are added on the payee\'s side; this wallet pays on that channel.')
      const check = await checkBitcoinVoucher(b, c, v)
      if (!check.valid) throw new InvalidVoucherError(`Payment refused: ${check.reason}.`)
      if (check.delta < minDelta) throw new InvalidVoucherError(`The payment adds ${check.delta}, less than --min-delta ${minDelta}.`)
      b.store.immediate(() => {
        storeLearned(b, c) // a channel learned from this payment is stored with it, or not at all
        const latest = b.store.vouchers.latest(c.network, c.id, 0n)
        if (latest && (v.nonce <= latest.nonce || v.amount <= latest.amount)) throw new InvalidVoucherError(`Payment refused: a payment with nonce ${latest.nonce} was stored meanwhile.`)
        b.store.vouchers.insert(c.network, v)
      })
      this.log(`Stored payment nonce ${v.nonce}; it adds ${check.delta} sat.`)
      return { channelId: v.channelId, lane: '0', nonce: v.nonce.toString(), amount: v.amount.toString(), delta: check.delta.toString() }
    }
    const m = await this.manager()
    const v = readVoucher(args.voucher)
    const delta = await addVoucher(m, await resolveChannel(m, args.channel, v), v, minDelta)
    this.log(`Stored voucher lane ${v.lane} nonce ${v.nonce}; it adds ${delta}.`)
    return { channelId: v.channelId, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString(), delta: delta.toString() }
  }
}
