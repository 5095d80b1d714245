import { InvalidVoucherError } from '../../core/errors.js'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherArg, readVoucher, secretFlag } from '../../cli/voucher.js'

export default class VoucherCheck extends BaseCommand<typeof VoucherCheck> {
  static override summary = 'Check whether a voucher is valid for submission (either side of the channel).'
  static override description =
    'Checks the payer\'s signature, the channel on chain, time locks, the lane nonce on chain, merges and the deposit. ' +
    'On the payee\'s side the voucher must also be newer than the stored ones; on the payer\'s side it reports that the ' +
    'voucher is the wallet\'s own. Exits 0 when valid, 2 with the reason when not (as `lotus paych voucher check`). ' +
    'A hash-locked voucher is valid but "spendable only with the secret" (exit 0, `spendable: false`); with --secret <hex> ' +
    'the secret is checked too (Lotus paych voucher check + CheckSpendable) and a wrong one exits 2. ' +
    'On a Bitcoin channel the voucher is a half-signed payment: every payee rule is checked, plus the deposit unspent and the expiry not reached.'
  static override examples = ['<%= config.bin %> voucher check 0x3f2a eyJjaGFubmVsSWQiOi…', '<%= config.bin %> voucher check 0x3f2a eyJj… --json', '<%= config.bin %> voucher check 0x3f2a eyJj… --secret 0x6869']
  static override args = { channel: channelArg, voucher: voucherArg }
  static override flags = { secret: secretFlag }

  async run() {
    const { args, flags } = await this.parse(VoucherCheck)
    const v = readVoucher(args.voucher, this.channelFamily.kind)
    const r = await (await this.scheme()).check(args.channel, v, flags.secret)
    const who = r.own ? 'your own voucher (you are the payer)' : 'a voucher from the payer'
    if (!r.valid) {
      throw new InvalidVoucherError(`Invalid voucher (${who}): ${r.reason}.`, {
        data: { valid: false, reason: r.reason, own: r.own, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString() },
      })
    }
    if (r.spendable) this.log(`Valid: ${who}; redeeming it adds ${this.amount(r.redeemable, r.asset)} on chain.`)
    else this.log(`Valid, but ${r.reason}: ${who}; with its secret (\`--secret <hex>\`) redeeming it adds ${this.amount(r.redeemable, r.asset)} on chain.`)
    return { valid: r.valid, spendable: r.spendable, reason: r.reason ?? null, own: r.own, redeemable: r.redeemable.toString(), delta: r.delta.toString(), lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString() }
  }
}
