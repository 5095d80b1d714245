import { BaseCommand } from '../cli/base.js'
import type { DeployResult } from '../core/scheme/index.js'
import { UsageError } from '../core/errors.js'

export default class Deploy extends BaseCommand<typeof Deploy> {
  static override summary = 'Deploy the PaymentChannels contract on a network and record its address.'
  static override description =
    'Deploys through the CREATE2 deployment proxy (0x4e59b448…956C), so the contract lands at the same address on every ' +
    'chain; does nothing but record the address when the code is already there. Paid by --key.'
  static override examples = ['<%= config.bin %> deploy --network sepolia', '<%= config.bin %> deploy --network devnet --rpc-url http://127.0.0.1:8545 --json']

  async run(): Promise<DeployResult> {
    await this.parse(Deploy)
    const s = await this.scheme()
    if (!s.deploy) throw new UsageError(s.unsupported('deploy'))
    const r = await s.deploy((line) => this.progress(line))
    this.log(r.transaction ? `Deployed PaymentChannels at ${r.contract} (tx ${r.transaction}).` : `PaymentChannels is already at ${r.contract}; recorded it.`)
    return r
  }
}
