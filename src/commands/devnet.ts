import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { runDevnet } from '../devnet/index.js'
import { NetworkError } from '../core/errors.js'

export default class Devnet extends BaseCommand<typeof Devnet> {
  static override summary = 'Run a local chain with the channel contract deployed and your keys (and --fund ones) funded.'
  static override description =
    'Starts anvil on 127.0.0.1, deploys PaymentChannels and a USD test token (USDC, 6 decimals, EIP-3009) at their ' +
    'deterministic addresses, sends 100 ETH and 10,000 USDC to every key of this wallet and to every --fund target ' +
    '(the token is the asset "usdc" of network "devnet", so amounts like 0.001usdc name it), records the networks it started in config ("devnet", and "regtest" with ' +
    'litecoind), writes them to devnet.json in this CHANNELS_HOME for other homes (`channels config import <that file>`), ' +
    'prints how to use it and stays in the foreground until interrupted (Ctrl-C), then stops its nodes. ' +
    'With --json it prints one line {"rpcUrl","chainId","contract","assets","funded","bitcoin","networks"} when ready ' +
    '("bitcoin" only when litecoind started; "networks" is what config import reads, node credentials included).\n\n' +
    '--fund takes an EVM address, a key name of this wallet, or another wallet\'s CHANNELS_HOME directory (every key ' +
    'recorded there). A port already in use is an error (exit 2) before anything is started, funded or written.\n\n' +
    'When litecoind is installed (Debian package `litecoind`) it also starts `litecoind -regtest` with a temporary ' +
    'datadir as the Bitcoin-family network "regtest" (--bitcoin-network), gives every key one mature coinbase ' +
    '(50 coins) on its P2WPKH address and mines a block whenever transactions wait in its mempool.'
  static override examples = [
    '<%= config.bin %> devnet',
    'CHANNELS_HOME=~/alice <%= config.bin %> devnet --fund ~/shop',
    '<%= config.bin %> devnet --port 8545 --json --fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    '<%= config.bin %> devnet --no-bitcoin',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'Port to listen on (default 8545; 0: any free port).', default: 8545, min: 0, max: 65535 }),
    fund: Flags.string({ summary: 'Also fund this EVM address, key name or other CHANNELS_HOME (repeatable).', multiple: true }),
    bitcoin: Flags.boolean({ summary: 'Also start litecoind regtest (default: when installed).', allowNo: true }),
    'bitcoin-network': Flags.string({ summary: 'Config name of the regtest network.', default: 'regtest' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Devnet)
    const devnet = await runDevnet(this.walletConf, { port: flags.port, bitcoin: flags.bitcoin, bitcoinNetwork: flags['bitcoin-network'], fund: flags.fund })
    // Signal handlers before the ready line: whoever waits for it may stop us at once.
    const stopped = new Promise<string | undefined>((resolve) => {
      process.once('SIGINT', () => resolve(undefined))
      process.once('SIGTERM', () => resolve(undefined))
      void devnet.exited.then(resolve)
    })
    try {
      const { info } = devnet
      if (this.jsonEnabled()) {
        process.stdout.write(JSON.stringify(info) + '\n')
      } else {
        this.log(`Local chain ${info.rpcUrl} (eip155:${info.chainId}) as network "devnet"; PaymentChannels at ${info.contract}; USD test token (usdc) at ${info.assets.usdc}.`)
        if (info.funded.length) this.log(`Funded ${info.funded.length} address(es) with 100 ETH and 10,000 USDC each: ${info.funded.join(', ')}.`)
        if (info.bitcoin) {
          this.log(`litecoind regtest ${info.bitcoin.rpcUrl} (${info.bitcoin.caip2}) as network "${info.bitcoin.network}"; ${info.bitcoin.funded.length} key(s) funded with 50 coins; blocks are mined as transactions arrive.`)
        } else if (flags.bitcoin === undefined) this.log('litecoind is not installed: no Bitcoin-family regtest (apt-get install litecoind).')
        this.log(`Recorded in this wallet's config; use it with --network devnet${info.bitcoin ? ` or --network ${info.bitcoin.network}` : ''}.`)
        this.log(`Another wallet uses it after:  CHANNELS_HOME=<its home> channels config import ${devnet.file}`)
        this.log('Press Ctrl-C to stop.')
      }
      const reason = await stopped
      if (reason) throw new NetworkError(`The devnet stopped: ${reason}.`)
    } finally {
      await devnet.stop()
    }
  }
}
