import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { setNetwork, setSetting } from '../../core/settings.js'
import { UsageError } from '../../core/errors.js'

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override summary = 'Change one setting (validated before it is written).'
  static override description =
    'Amounts take units (0.01eth) and are stored in base units. To add a network give its name, RPC URL and CAIP-2 id: ' +
    '`config set networks.<name> <rpcUrl> <eip155:id>`, or for a Bitcoin Core / litecoind node `<bip122:genesis prefix>` ' +
    '(address parameters from --params, or known for Bitcoin mainnet, testnet3, testnet4, regtest and Litecoin regtest).'
  static override examples = [
    '<%= config.bin %> config set buy.maxPrice 0.0001eth',
    '<%= config.bin %> config set keystore file',
    '<%= config.bin %> config set networks.sepolia https://rpc.example eip155:11155111',
    '<%= config.bin %> config set networks.devnet.rpcUrl http://127.0.0.1:9545 --json',
    '<%= config.bin %> config set networks.btc http://user:pass@127.0.0.1:8332 bip122:000000000019d6689c085ae165831e93',
    '<%= config.bin %> config set networks.ltc-regtest http://u:p@127.0.0.1:19443 bip122:530827f38f93b43ed12af0b3ad25a288 --params litecoin-regtest',
  ]
  static override flags = {
    params: Flags.string({ summary: 'Bitcoin-family network: address parameters, a preset (bitcoin, bitcoin-testnet, bitcoin-regtest, litecoin-regtest) or JSON.' }),
  }
  static override args = {
    key: Args.string({ required: true, description: 'Setting.' }),
    value: Args.string({ required: true, description: 'New value.' }),
    extra: Args.string({ description: 'CAIP-2 id, when adding a network.' }),
  }

  async run() {
    const { args, flags } = await this.parse(ConfigSet)
    const net = /^networks\.([^.]+)$/.exec(args.key)
    if (!net && args.extra !== undefined) throw new UsageError(`Unexpected third argument "${args.extra}" for ${args.key}.`)
    const value = net ? setNetwork(this.walletConf, net[1], args.value, args.extra ?? '', undefined, flags.params) : setSetting(this.walletConf, args.key, args.value)
    this.log(`${args.key} = ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    return { key: args.key, value }
  }
}
