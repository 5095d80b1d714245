import { BaseCommand } from '../../cli/base.js'
import { listKeys, type KeyInfo } from '../../core/keys/wallet.js'
import { table } from '../../cli/render.js'

export default class KeysList extends BaseCommand<typeof KeysList> {
  static override summary = 'List keys (never unlocks them).'
  static override examples = ['<%= config.bin %> keys list', '<%= config.bin %> keys list --json']

  async run(): Promise<{ keys: KeyInfo[] }> {
    await this.parse(KeysList)
    const keys = listKeys(this.walletConf)
    if (keys.length === 0) this.log('No keys. Create one with `channels keys new <name>`.')
    else this.log(table(['', 'name', 'address', 'keystore'], keys.map((k) => [k.isDefault ? '*' : '', k.name, k.address, k.keystore])))
    return { keys }
  }
}
