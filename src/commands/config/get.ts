import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { getSetting } from '../../core/settings.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override summary = 'Print one setting.'
  static override examples = ['<%= config.bin %> config get buy.maxPrice', '<%= config.bin %> config get networks.devnet --json']
  static override args = { key: Args.string({ required: true, description: 'Setting, e.g. buy.maxPrice or networks.devnet.rpcUrl.' }) }

  async run() {
    const { args } = await this.parse(ConfigGet)
    const value = getSetting(this.walletConf, args.key)
    this.log(typeof value === 'object' && value !== null ? JSON.stringify(value, null, 2) : String(value))
    return { key: args.key, value }
  }
}
