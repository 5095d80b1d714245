import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherJson } from '../../cli/voucher.js'
import { UsageError } from '../../core/errors.js'

export default class VoucherCreate extends BaseCommand<typeof VoucherCreate> {
  static override summary = 'Sign a voucher for a lane\'s new cumulative amount and print it (Lotus paych voucher create).'
  static override description =
    '<amount> is the lane\'s new cumulative total (as in Lotus), not an increment — `channels pay` takes an increment. ' +
    'The voucher is committed before it is printed. When the channel cannot cover it, exits 5 and prints the shortfall. ' +
    'Funds set aside by `channels reserve` are not used unless --reserved is given; with it, what the voucher adds is ' +
    'taken out of the reservation.\n\n' +
    'With --hash-lock <sha256 of a secret> the voucher is conditional (DESIGN §11): redeemable only with the secret ' +
    '(`voucher submit --secret`, or `voucher add --secret` on the payee\'s side) and only for --lock-for seconds ' +
    '(default 3600, from this machine\'s clock; the voucher\'s timeLockMax). It goes on a fresh lane: a new one is ' +
    'allocated (`lane new`) unless --lane names one whose latest voucher has no hash lock (a lane carries one conditional voucher at a time, on top of its total). `status` shows it as conditional until it is redeemed, replaced by a later voucher, or expired (`sync` after its lock passes).'
  static override examples = ['<%= config.bin %> voucher create 0x3f2a 5000', '<%= config.bin %> voucher create 0x3f2a 0.001eth --lane 1 --json', '<%= config.bin %> voucher create 0x3f2a 5000 --reserved', '<%= config.bin %> voucher create 0x3f2a 5000 --hash-lock 0x9f86d0…0a08 --lock-for 600 --json']
  static override args = { channel: channelArg, amount: Args.string({ required: true, description: 'New cumulative amount of the lane.' }) }
  static override flags = {
    lane: Flags.integer({ summary: 'Lane (default 0; with --hash-lock a new lane).', min: 0 }),
    'hash-lock': Flags.string({ summary: 'Make the voucher conditional on the preimage of this sha256 (0x + 64 hex).' }),
    'lock-for': Flags.integer({ summary: 'Seconds the conditional voucher stays redeemable (its timeLockMax is now + this; default 3600).', min: 1, dependsOn: ['hash-lock'] }),
    reserved: Flags.boolean({ summary: 'Pay out of the funds `channels reserve` set aside (what the voucher adds leaves `reserved`).' }),
  }

  async run() {
    const { args, flags } = await this.parse(VoucherCreate)
    const amount = this.channelAmount(args.channel, args.amount, 'amount')
    const s = await this.scheme()
    const lock = flags['hash-lock'] === undefined ? undefined : { secretHash: flags['hash-lock'], timeLockMax: BigInt(Math.floor(Date.now() / 1000) + (flags['lock-for'] ?? 3600)) }
    let lane = BigInt(flags.lane ?? 0)
    if (lock && flags.lane === undefined) {
      if (!s.allocateLane) throw new UsageError(s.unsupported('lane'))
      lane = (await s.allocateLane(args.channel)).lane
    }
    const v = await s.createVoucher(args.channel, amount, lane, { reserved: flags.reserved, lock })
    const out = voucherJson(v)
    this.log(out.encoded)
    return out
  }
}
