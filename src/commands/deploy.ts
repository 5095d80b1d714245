import { BaseCommand } from '../cli/base.js'
import { deployPaymentChannels, contractAddress } from '../core/chains/evm/deploy.js'
import { EvmBackend } from '../core/chains/evm/backend.js'

export default class Deploy extends BaseCommand<typeof Deploy> {
  static override summary = 'Deploy the PaymentChannels contract on a network and record its address.'
  static override description =
    'Deploys through the CREATE2 deployment proxy (0x4e59b448…956C), so the contract lands at the same address on every ' +
    'chain; does nothing but record the address when the code is already there. Paid by --key.'
  static override examples = ['<%= config.bin %> deploy --network sepolia', '<%= config.bin %> deploy --network devnet --rpc-url http://127.0.0.1:8545 --json']

  async run() {
    await this.parse(Deploy)
    const m = await this.manager()
    const backend = new EvmBackend(m.network.caip2, m.network.rpcUrl, contractAddress())
    await backend.checkNetwork()
    this.progress(`Deploying PaymentChannels to ${m.network.name} (${m.network.caip2})…`)
    const { address, tx } = await deployPaymentChannels(await m.signer(), backend.provider)
    await backend.verifyContract()
    const stored = this.walletConf.all().networks[m.network.name]
    this.walletConf.setNetwork(m.network.name, { ...(stored?.kind === 'evm' ? stored : { kind: 'evm', caip2: m.network.caip2, rpcUrl: m.network.rpcUrl }), contract: address })
    this.log(tx ? `Deployed PaymentChannels at ${address} (tx ${tx}).` : `PaymentChannels is already at ${address}; recorded it.`)
    backend.provider.destroy()
    return { network: m.network.name, caip2: m.network.caip2, contract: address, transaction: tx ?? null, deployed: Boolean(tx) }
  }
}
