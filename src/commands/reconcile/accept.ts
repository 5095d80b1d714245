import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { readJsonFile } from '../../cli/lanes.js'
import { UsageError } from '../../core/errors.js'
import { reconcileRequestFromWire, reconcileResponseFromWire } from '../../core/channel/reconcile.js'

export default class ReconcileAccept extends BaseCommand<typeof ReconcileAccept> {
  static override summary = 'Store the merged voucher of a payer\'s reconciliation response (payee side).'
  static override description =
    'Checks the combined voucher like `voucher add` and that it answers --request (merges its lanes, worth at least its value); what the ' +
    'payee can redeem may fall by the discount asked for, no more. A Failure response, or a voucher that does not answer the request, exits 2.'
  static override examples = ['<%= config.bin %> reconcile accept response.json --request request.json']
  static override args = { response: Args.string({ required: true, description: 'File holding the response JSON, or - for stdin.' }) }
  static override flags = { request: Flags.string({ summary: 'File holding the request the response answers.', required: true }) }

  async run() {
    const { args, flags } = await this.parse(ReconcileAccept)
    const family = this.channelFamily.kind
    const request = reconcileRequestFromWire(family, readJsonFile(flags.request, 'request'))
    const response = reconcileResponseFromWire(family, readJsonFile(args.response, 'response'))
    const s = await this.scheme()
    if (!s.laneOps) throw new UsageError(`Channels on network "${this.walletNetwork.name}" have one lane; there is nothing to reconcile.`)
    const r = await s.laneOps.acceptReconcile(request, response)
    const v = r.voucher
    this.log(`Stored the merged ${s.voucherName} lane ${v.lane} nonce ${v.nonce}; it changes what you can redeem by ${this.amount(r.delta, r.asset)}.`)
    return { channelId: r.channelId, lane: v.lane.toString(), nonce: v.nonce.toString(), amount: v.amount.toString(), delta: r.delta.toString() }
  }
}
