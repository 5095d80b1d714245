import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg, voucherJson } from '../../cli/voucher.js'
import { UsageError } from '../../core/errors.js'
import { parseLanes } from '../../cli/lanes.js'

export default class VoucherMerge extends BaseCommand<typeof VoucherMerge> {
  static override summary = 'Sign ONE voucher that merges other lanes into a lane and print it (Filecoin paych merges).'
  static override description =
    'Payer side. The voucher is on lane --into (nonce: its last + 1) and merges each lane of --lanes at that lane\'s last nonce + 1; ' +
    'its amount is --into\'s value plus the merged lanes\' latest amounts, so redeeming it alone pays what those vouchers together pay ' +
    '(or --amount, at most that sum). Merged lanes take no new vouchers afterwards. The voucher is committed before it is printed; ' +
    'hand it to the payee like `voucher create`\'s.'
  static override examples = ['<%= config.bin %> voucher merge 0x3f2a --lanes 1,2,3', '<%= config.bin %> voucher merge 0x3f2a --lanes 2 --into 1 --amount 9000 --json']
  static override args = { channel: channelArg }
  static override flags = {
    lanes: Flags.string({ summary: 'Lanes to merge, comma-separated (e.g. 1,2,3).', required: true }),
    into: Flags.integer({ summary: 'Lane the merge voucher is on.', default: 0, min: 0 }),
    amount: Flags.string({ summary: 'Amount of the merge voucher (default: the lanes\' sum; at most that).' }),
  }

  async run() {
    const { args, flags } = await this.parse(VoucherMerge)
    const lanes = parseLanes(flags.lanes)
    const amount = flags.amount === undefined ? undefined : this.channelAmount(args.channel, flags.amount, '--amount')
    const ops = (await this.scheme()).laneOps
    if (!ops) throw new UsageError(`Channels on network "${this.walletNetwork.name}" have one lane; there is nothing to merge.`)
    const { voucher, sum } = await ops.mergeVoucher(args.channel, { into: BigInt(flags.into), lanes, amount })
    const out = voucherJson(voucher)
    this.log(out.encoded)
    return { ...out, sum: sum.toString() }
  }
}
