import { Args, Flags } from '@oclif/core'
import { readFileSync } from 'node:fs'
import { BaseCommand } from '../../cli/base.js'
import { createKey, type CreatedKey } from '../../core/keys/wallet.js'
import { UsageError } from '../../core/errors.js'

export default class KeysImport extends BaseCommand<typeof KeysImport> {
  static override summary = 'Import a BIP39 mnemonic as a key.'
  static override description =
    'Reads the mnemonic from --mnemonic-file or standard input (never from the command line, where it would land in ' +
    'shell history), stores it like `keys new` (the first key of a wallet also sets its `keystore`) and prints the address.'
  static override examples = [
    '<%= config.bin %> keys import savings --mnemonic-file ./phrase.txt',
    'cat phrase.txt | <%= config.bin %> keys import savings --keystore file --json',
  ]
  static override args = { name: Args.string({ required: true, description: 'Name of the key.' }) }
  static override flags = {
    'mnemonic-file': Flags.string({ summary: 'File holding the mnemonic (default: standard input).' }),
    keystore: Flags.string({ options: ['keychain', 'file'], summary: 'Where to keep the secret (default: config `keystore`).' }),
  }

  async run(): Promise<CreatedKey> {
    const { args, flags } = await this.parse(KeysImport)
    let phrase: string
    try {
      phrase = readFileSync(flags['mnemonic-file'] ?? 0, 'utf8').trim()
    } catch (err) {
      throw new UsageError(`Cannot read the mnemonic from ${flags['mnemonic-file'] ?? 'standard input'}.`, { cause: err })
    }
    if (!phrase) throw new UsageError('No mnemonic given (empty input).')
    const info = await createKey(this.walletConf, args.name, flags.keystore as 'keychain' | 'file' | undefined, phrase)
    this.log(`Imported key "${info.name}" (${info.keystore}); address ${info.address}.`)
    if (info.keystoreSetting) {
      this.log(`This wallet's first key: new keys now go to the ${info.keystoreSetting.to} keystore by default (config keystore was ${info.keystoreSetting.from}; \`channels config set keystore ${info.keystoreSetting.from}\` changes it back).`)
    }
    return info
  }
}
