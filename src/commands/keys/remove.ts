import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { removeKey, type RemovedKey } from '../../core/keys/wallet.js'

export default class KeysRemove extends BaseCommand<typeof KeysRemove> {
  static override summary = 'Remove a key (its secret and its record).'
  static override description =
    'Refuses while the key is a party to a channel that is not closed, unless --force. Needs --yes: the secret cannot be ' +
    'recovered afterwards unless you kept the mnemonic (`keys show --reveal`).'
  static override examples = ['<%= config.bin %> keys remove old --yes', '<%= config.bin %> keys remove old --yes --json']
  static override args = { name: Args.string({ required: true, description: 'Key to remove.' }) }
  static override flags = {
    yes: Flags.boolean({ char: 'y', summary: 'Confirm the removal.' }),
    force: Flags.boolean({ summary: 'Remove even if channels of this key are still open.' }),
  }

  async run(): Promise<RemovedKey> {
    const { args, flags } = await this.parse(KeysRemove)
    const r = removeKey(this.walletConf, this.store, args.name, { yes: flags.yes, force: flags.force })
    this.log(`Removed key "${r.name}".`)
    return r
  }
}
