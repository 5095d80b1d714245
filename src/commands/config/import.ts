import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { importNetworks } from '../../core/network-import.js'
import { readInput } from '../../cli/input.js'

export default class ConfigImport extends BaseCommand<typeof ConfigImport> {
  static override summary = 'Add the networks of a file, e.g. a running devnet\'s devnet.json (validated; all or nothing).'
  static override description =
    'Reads a JSON object with a "networks" object: the file `channels devnet` writes in its CHANNELS_HOME (devnet.json), ' +
    'its --json ready line, or {"networks": {"<name>": {"caip2", "rpcUrl", "contract"?, "bitcoin"?}}}; "-" reads stdin. ' +
    'Each network is checked as `config set networks.<name> <rpcUrl> <caip2>` checks it and replaces a network of the same name; ' +
    'on any error nothing is written (exit 2).'
  static override examples = [
    'CHANNELS_HOME=~/shop <%= config.bin %> config import ~/alice/devnet.json',
    '<%= config.bin %> config import - < devnet.json',
    '<%= config.bin %> config import networks.json --json',
  ]
  static override args = {
    file: Args.string({ required: true, description: 'File to read, or - for stdin.' }),
  }

  async run() {
    const { args } = await this.parse(ConfigImport)
    const { text, source } = readInput(args.file)
    const { networks, replaced } = importNetworks(this.walletConf, text, source)
    for (const [name, net] of Object.entries(networks)) {
      // The URL's credentials stay in config.json (0600), not on the terminal.
      this.log(`networks.${name} = ${net.kind} ${net.caip2} ${net.rpcUrl.replace(/\/\/[^@/]*@/, '//')}${replaced.includes(name) ? ' (replaced)' : ''}`)
    }
    return { networks, replaced }
  }
}
