import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { keyInfo, removeKey } from '../../core/keys/wallet.js'
import { ChannelStateError, UsageError } from '../../core/errors.js'

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

  async run() {
    const { args, flags } = await this.parse(KeysRemove)
    const info = keyInfo(this.walletConf, args.name)
    if (!flags.yes) throw new UsageError(`Removing key "${info.name}" (${info.address}) needs --yes.`)
    const live = this.store.channels.list().filter((c) => c.keyName === info.name && c.state !== 'closed' && c.state !== 'failed')
    if (live.length && !flags.force) {
      throw new ChannelStateError(`Key "${info.name}" is a party to ${live.length} channel(s) not closed (e.g. ${live[0].id.slice(0, 10)}).`, {
        metaMessages: ['Close them first, or pass --force.'],
      })
    }
    removeKey(this.walletConf, info.name)
    if (this.walletConf.get('defaultKey') === info.name) this.walletConf.delete('defaultKey')
    this.log(`Removed key "${info.name}".`)
    return { name: info.name, address: info.address, removed: true }
  }
}
