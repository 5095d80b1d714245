import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { keyInfo, revealMnemonic, type KeyInfo } from '../../core/keys/wallet.js'
import { keyValueTable } from '../../cli/render.js'

export default class KeysShow extends BaseCommand<typeof KeysShow> {
  static override summary = 'Show a key\'s address (and its mnemonic with --reveal).'
  static override description =
    'Prints the EVM address and the Bitcoin channel pubkeys: "pubkey main" for Bitcoin mainnet (coin type 0), ' +
    '"pubkey test" for test networks and regtest (coin type 1). With a Bitcoin-family --network, also "funding": the address to send its coins for deposits to.'
  static override examples = ['<%= config.bin %> keys show', '<%= config.bin %> keys show alice --json', '<%= config.bin %> keys show alice --reveal']
  static override args = { name: Args.string({ description: 'Key name (default: the default key).' }) }
  static override flags = { reveal: Flags.boolean({ summary: 'Also print the secret mnemonic (unlocks the key).' }) }

  async run(): Promise<KeyInfo & { mnemonic?: string; fundingAddress?: string }> {
    const { args, flags } = await this.parse(KeysShow)
    const info = keyInfo(this.walletConf, args.name ?? this.flags.key)
    const out: KeyInfo & { mnemonic?: string; fundingAddress?: string } = { ...info }
    if (flags.reveal) out.mnemonic = await revealMnemonic(this.walletConf, info.name)
    const rows: [string, string][] = [['name', info.name], ['address', info.address], ['keystore', info.keystore + (info.file ? ` (${info.file})` : '')], ['default', String(info.isDefault)]]
    // Labels of 12 characters at most, so a 66-digit pubkey fits 80 columns beside them.
    for (const [coin, pub] of Object.entries(info.bitcoinPubkeys ?? {})) rows.push([coin === '0' ? 'pubkey main' : coin === '1' ? 'pubkey test' : `pubkey ${coin}`, pub])
    const { fundingAddress } = await (await this.scheme()).keyDetails(info.bitcoinPubkeys)
    if (fundingAddress) {
      out.fundingAddress = fundingAddress
      rows.push(['funding', fundingAddress]) // where to send coins for deposits on --network
    }
    if (out.mnemonic) rows.push(['mnemonic', out.mnemonic])
    this.log(keyValueTable(rows))
    return out
  }
}
