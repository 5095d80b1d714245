/**
 * `channels deploy`: puts PaymentChannels on the manager's EVM network at its
 * deterministic CREATE2 address (DESIGN §4) and records the address in config.
 */
import { EvmBackend } from './backend.js'
import { contractAddress, deployPaymentChannels } from './deploy.js'
import type { ChannelManager } from './manager.js'
import type { DeployResult } from '../../core/scheme/index.js'

/**
 * Deploys PaymentChannels (paid by the manager's key) unless its code is there, checks the
 * code is our build, and records the address as the network's `contract`.
 * @param onProgress - receives one line before the deployment is sent
 * @throws {NetworkError} unreachable node or another chain; {@link ChannelsError} no CREATE2
 *   proxy, a failed deployment, or other code at the address; {@link KeystoreError} locked key
 */
export async function deployContract(m: ChannelManager, onProgress: (line: string) => void = () => {}): Promise<DeployResult> {
  const backend = new EvmBackend(m.network.caip2, m.network.rpcUrl, contractAddress())
  try {
    await backend.checkNetwork()
    onProgress(`Deploying PaymentChannels to ${m.network.name} (${m.network.caip2})…`)
    const { address, tx } = await deployPaymentChannels(await m.signer(), backend.provider)
    await backend.verifyContract()
    const stored = m.config.all().networks[m.network.name]
    m.config.setNetwork(m.network.name, { ...(stored?.kind === 'evm' ? stored : { kind: 'evm', caip2: m.network.caip2, rpcUrl: m.network.rpcUrl }), contract: address })
    return { network: m.network.name, caip2: m.network.caip2, contract: address, transaction: tx ?? null, deployed: Boolean(tx) }
  } finally {
    backend.provider.destroy()
  }
}
