import { Flags } from '@oclif/core'
import { BITCOIN_PRESETS } from '../core/settings.js'
import { fundRegtestKeys, litecoindBinary, startAutoMiner, startLitecoind, type RegtestNode } from '../core/chains/bitcoin/regtest.js'
import { BaseCommand } from '../cli/base.js'
import { startAnvil, prepareDevnet } from '../core/devnet.js'

export default class Devnet extends BaseCommand<typeof Devnet> {
  static override summary = 'Run a local chain with the channel contract deployed and your keys funded.'
  static override description =
    'Starts anvil on 127.0.0.1, deploys PaymentChannels at its deterministic address, sends 100 ETH to every key of ' +
    'this wallet, prints how to use it and stays in the foreground until interrupted (Ctrl-C), then stops anvil. ' +
    'With --json it prints one line {"rpcUrl","chainId","contract","bitcoin"} when ready ("bitcoin" only when litecoind started).\n\n' +
    'When litecoind is installed (Debian package `litecoind`) it also starts `litecoind -regtest` with a temporary ' +
    'datadir, records it in config as the Bitcoin-family network "regtest" (--bitcoin-network), gives every key one ' +
    'mature coinbase (50 coins) and mines a block whenever transactions wait in its mempool.'
  static override examples = [
    '<%= config.bin %> devnet',
    '<%= config.bin %> devnet --port 8545 --json',
    '<%= config.bin %> devnet --no-bitcoin',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'Port to listen on (default 8545).', default: 8545, min: 0, max: 65535 }),
    bitcoin: Flags.boolean({ summary: 'Also start litecoind regtest (default: when installed).', allowNo: true }),
    'bitcoin-network': Flags.string({ summary: 'Config name of the regtest network.', default: 'regtest' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Devnet)
    const withBitcoin = flags.bitcoin ?? litecoindBinary() !== undefined
    const node = await startAnvil({ port: flags.port || undefined })
    let regtest: RegtestNode | undefined
    let stopMiner = () => {}
    try {
      const keys = Object.values(this.walletConf.keys()).map((k) => k.address)
      const { contract } = await prepareDevnet(node.rpcUrl, node.chainId, keys)
      let bitcoin: { network: string; caip2: string; rpcUrl: string; funded: string[] } | undefined
      if (withBitcoin) {
        regtest = await startLitecoind()
        const pubkeys = Object.values(this.walletConf.keys()).flatMap((k) => (k.bitcoinPubkeys?.['1'] ? [k.bitcoinPubkeys['1']] : []))
        const funded = await fundRegtestKeys(regtest, pubkeys)
        this.walletConf.setNetwork(flags['bitcoin-network'], { kind: 'bitcoin', caip2: regtest.caip2, rpcUrl: regtest.rpcUrl, bitcoin: { ...BITCOIN_PRESETS['litecoin-regtest'] } })
        stopMiner = startAutoMiner(regtest)
        bitcoin = { network: flags['bitcoin-network'], caip2: regtest.caip2, rpcUrl: regtest.rpcUrl.replace(/\/\/[^@]*@/, '//'), funded }
      }
      if (this.jsonEnabled()) {
        process.stdout.write(JSON.stringify({ rpcUrl: node.rpcUrl, chainId: node.chainId, contract, ...(bitcoin ? { bitcoin } : {}) }) + '\n')
      } else {
        this.log(`Local chain ${node.rpcUrl} (eip155:${node.chainId}); PaymentChannels at ${contract}.`)
        if (keys.length) this.log(`Funded ${keys.length} key(s) with 100 ETH each.`)
        this.log(`Use it:  export CHANNELS_RPC_URL=${node.rpcUrl}   (network "devnet")`)
        if (bitcoin) {
          this.log(`litecoind regtest ${bitcoin.rpcUrl} (${bitcoin.caip2}) as network "${bitcoin.network}"; ${bitcoin.funded.length} key(s) funded with 50 coins; blocks are mined as transactions arrive.`)
          this.log(`Use it:  channels … --network ${bitcoin.network}`)
        } else if (flags.bitcoin === undefined) this.log('litecoind is not installed: no Bitcoin-family regtest (apt-get install litecoind).')
        this.log('Press Ctrl-C to stop.')
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        node.process.once('exit', stop)
      })
    } finally {
      stopMiner()
      await regtest?.stop()
      await node.stop()
    }
  }
}
