import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { startAnvil, prepareDevnet } from '../core/devnet.js'

export default class Devnet extends BaseCommand<typeof Devnet> {
  static override summary = 'Run a local chain with the channel contract deployed and your keys funded.'
  static override description =
    'Starts anvil on 127.0.0.1, deploys PaymentChannels at its deterministic address, sends 100 ETH to every key of ' +
    'this wallet, prints how to use it and stays in the foreground until interrupted (Ctrl-C), then stops anvil. ' +
    'With --json it prints one line {"rpcUrl","chainId","contract"} when ready.'
  static override examples = [
    '<%= config.bin %> devnet',
    '<%= config.bin %> devnet --port 8545 --json',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'Port to listen on (default 8545).', default: 8545, min: 0, max: 65535 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Devnet)
    const node = await startAnvil({ port: flags.port || undefined })
    try {
      const keys = Object.values(this.walletConf.keys()).map((k) => k.address)
      const { contract } = await prepareDevnet(node.rpcUrl, node.chainId, keys)
      if (this.jsonEnabled()) {
        process.stdout.write(JSON.stringify({ rpcUrl: node.rpcUrl, chainId: node.chainId, contract }) + '\n')
      } else {
        this.log(`Local chain ${node.rpcUrl} (eip155:${node.chainId}); PaymentChannels at ${contract}.`)
        if (keys.length) this.log(`Funded ${keys.length} key(s) with 100 ETH each.`)
        this.log(`Use it:  export CHANNELS_RPC_URL=${node.rpcUrl}   (network "devnet")`)
        this.log('Press Ctrl-C to stop.')
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        node.process.once('exit', stop)
      })
    } finally {
      await node.stop()
    }
  }
}
