import { BaseCommand } from '../../cli/base.js'
import { listSettings } from '../../core/settings.js'
import { table } from '../../cli/render.js'

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override summary = 'List every setting and its value.'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json']

  async run() {
    await this.parse(ConfigList)
    const all = listSettings(this.walletConf)
    this.log(`config: ${this.walletConf.home}/config.json`)
    this.log(table(['setting', 'value', 'meaning'], all.map((s) => [s.key, s.value === null ? '-' : String(s.value), s.describe])))
    return { home: this.walletConf.home, settings: all }
  }
}
