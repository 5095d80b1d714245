import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { channelArg } from '../../cli/voucher.js'
import { UsageError } from '../../core/errors.js'
import { reconcileRequestToWire } from '../../core/channel/reconcile.js'

export default class ReconcileRequest extends BaseCommand<typeof ReconcileRequest> {
  static override summary = 'Print a reconciliation request for a channel\'s lanes (payee side; Filecoin payment reconciliation).'
  static override description =
    'Asks the payer for ONE voucher worth --req-val that merges the lanes of the channel\'s unredeemed best vouchers (at least two). ' +
    'Default --req-val: their sum less the gas the merge saves over one updateMany (700 gas per extra lane at the node\'s fee; none on a token channel). Prints the request JSON ' +
    '(the same with or without --json); hand it to the payer\'s `channels reconcile answer`. Stores nothing.'
  static override examples = ['<%= config.bin %> reconcile request 0x3f2a > request.json', '<%= config.bin %> reconcile request 0x3f2a --req-val 0.001eth']
  static override args = { channel: channelArg }
  static override flags = { 'req-val': Flags.string({ summary: 'Value asked for the merged voucher (at most the lanes\' sum).' }) }

  async run() {
    const { args, flags } = await this.parse(ReconcileRequest)
    const reqVal = flags['req-val'] === undefined ? undefined : this.channelAmount(args.channel, flags['req-val'], '--req-val')
    const ops = (await this.scheme()).laneOps
    if (!ops) throw new UsageError(`Channels on network "${this.walletNetwork.name}" have one lane; there is nothing to reconcile.`)
    const r = await ops.reconcileRequest(args.channel, reqVal)
    const wire = reconcileRequestToWire(r)
    if (!this.jsonEnabled()) this.log(JSON.stringify(wire))
    return wire
  }
}
