import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { readJsonFile } from '../../cli/lanes.js'
import { ExitCode, UsageError } from '../../core/errors.js'
import { reconcileRequestFromWire, reconcileResponseToWire } from '../../core/channel/reconcile.js'

export default class ReconcileAnswer extends BaseCommand<typeof ReconcileAnswer> {
  static override summary = 'Answer a payee\'s reconciliation request (payer side): print the response JSON.'
  static override description =
    'Grants the request when every voucher in it is one this wallet signed and holds (the latest of its lane), the value asked is at most ' +
    'their sum, and the discount (sum − value) is at least config reconcile.minDiscount: then ONE merge voucher worth the value is signed, ' +
    'committed and printed in {"combined", "status": "Success", "message"}. Otherwise prints {"status": "Failure", "message"} and exits 4; ' +
    'nothing is stored. The response JSON is printed the same with or without --json; the payee stores it with `channels reconcile accept`.'
  static override examples = ['<%= config.bin %> reconcile answer request.json > response.json', 'cat request.json | <%= config.bin %> reconcile answer -']
  static override args = { request: Args.string({ required: true, description: 'File holding the request JSON, or - for stdin.' }) }

  async run() {
    const { args } = await this.parse(ReconcileAnswer)
    const request = reconcileRequestFromWire(this.channelFamily.kind, readJsonFile(args.request, 'request'))
    const ops = (await this.scheme()).laneOps
    if (!ops) throw new UsageError(`Channels on network "${this.walletNetwork.name}" have one lane; there is nothing to reconcile.`)
    const r = await ops.answerReconcile(request)
    const wire = reconcileResponseToWire(r)
    if (!this.jsonEnabled()) this.log(JSON.stringify(wire))
    if (r.status === 'Failure') {
      process.stderr.write(`Reconciliation refused: ${r.message}.\n`)
      process.exitCode = ExitCode.paymentRefused
    }
    return wire
  }
}
