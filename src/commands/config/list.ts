import { BaseCommand, wideFlag } from '../../cli/base.js'
import { amountSettingAsset, listSettings } from '../../core/settings.js'
import { formatAmount } from '../../core/units.js'
import { table } from '../../cli/render.js'

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override summary = 'List every setting and its value.'
  static override description =
    'Amounts print in their chain\'s unit (0.1 ETH, 10,000 sat; --json and `config get` give base units). ' +
    'The table fits 80 columns; --wide adds what each setting means.'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --wide', '<%= config.bin %> config list --json']
  static override flags = { wide: wideFlag }

  async run() {
    const { flags } = await this.parse(ConfigList)
    const all = listSettings(this.walletConf)
    this.log(`config: ${this.walletConf.home}/config.json`)
    const shown = (key: string, value: unknown) => {
      const asset = amountSettingAsset(key)
      return value === null ? '-' : asset && typeof value === 'string' ? formatAmount(BigInt(value), asset) : String(value)
    }
    this.log(flags.wide
      ? table(['setting', 'value', 'meaning'], all.map((s) => [s.key, shown(s.key, s.value), s.describe]))
      : table(['setting', 'value'], all.map((s) => [s.key, shown(s.key, s.value)])))
    return { home: this.walletConf.home, settings: all }
  }
}
