import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { createKey, type CreatedKey } from '../../core/keys/wallet.js'

export default class KeysNew extends BaseCommand<typeof KeysNew> {
  static override summary = 'Create a key and print its address.'
  static override description =
    'Creates a BIP39 mnemonic and stores it in the OS keychain (default) or in an encrypted key file (--keystore file, ' +
    'passphrase from CHANNELS_PASSWORD, CHANNELS_PASSWORD_FILE or a prompt). The first key becomes the default key, and ' +
    'its keystore becomes the wallet\'s (config `keystore`): after `keys new a --keystore file` on a machine without a ' +
    'keychain, `keys new b` uses a key file too. Later keys never change the setting; `config set keystore` does.'
  static override examples = [
    '<%= config.bin %> keys new alice',
    'CHANNELS_PASSWORD=… <%= config.bin %> keys new shop --keystore file --json',
  ]
  static override args = { name: Args.string({ required: true, description: 'Name of the key.' }) }
  static override flags = {
    keystore: Flags.string({ options: ['keychain', 'file'], summary: 'Where to keep the secret (default: config `keystore`).' }),
  }

  async run(): Promise<CreatedKey> {
    const { args, flags } = await this.parse(KeysNew)
    const info = await createKey(this.walletConf, args.name, flags.keystore as 'keychain' | 'file' | undefined)
    this.log(`Created key "${info.name}" (${info.keystore}${info.file ? ': ' + info.file : ''}).`)
    this.log(`Address: ${info.address}`)
    if (info.keystoreSetting) {
      this.log(`This wallet's first key: new keys now go to the ${info.keystoreSetting.to} keystore by default (config keystore was ${info.keystoreSetting.from}; \`channels config set keystore ${info.keystoreSetting.from}\` changes it back).`)
    }
    return info
  }
}
