/**
 * Deterministic deployment of PaymentChannels through the CREATE2 deployment proxy
 * (`0x4e59b44847b379578588920cA78FbF26c0B4956C`, present on anvil and most chains),
 * so the contract has the same address on every chain (DESIGN §4).
 */
import { getCreate2Address, keccak256, concat, ZeroHash, type Signer, type JsonRpcProvider } from 'ethers'
import { bytecode } from './artifact.js'
import { ChannelsError } from '../../core/errors.js'
import { waitMined } from './receipt.js'

/** The deterministic deployment proxy (Arachnid). */
export const CREATE2_PROXY = '0x4e59b44847b379578588920cA78FbF26c0B4956C'
/** CREATE2 salt of our deployment. */
export const DEPLOY_SALT = ZeroHash

/** Address PaymentChannels has on every chain. */
export function contractAddress(): string {
  return create2Address(bytecode)
}

/** Address the contract of creation code `initcode` (no constructor arguments) has on every chain through the proxy. */
export function create2Address(initcode: string): string {
  return getCreate2Address(CREATE2_PROXY, DEPLOY_SALT, keccak256(initcode))
}

/**
 * Deploys PaymentChannels through the proxy unless code is already there.
 * @returns the address and the deployment transaction hash (undefined if it existed)
 * @throws {ChannelsError} when the chain has no deployment proxy or the deploy fails
 */
export async function deployPaymentChannels(signer: Signer, provider: JsonRpcProvider): Promise<{ address: string; tx?: string }> {
  return deployCreate2('PaymentChannels', bytecode, signer, provider)
}

/**
 * Deploys the contract of creation code `initcode` (no constructor arguments) through the proxy unless code is
 * already at its address ({@link create2Address}).
 * @param name - for the error
 * @returns the address and the deployment transaction hash (undefined if it existed)
 * @throws {ChannelsError} when the chain has no deployment proxy or the deploy fails
 */
export async function deployCreate2(name: string, initcode: string, signer: Signer, provider: JsonRpcProvider): Promise<{ address: string; tx?: string }> {
  const address = create2Address(initcode)
  if ((await provider.getCode(address)) !== '0x') return { address }
  if ((await provider.getCode(CREATE2_PROXY)) === '0x') {
    throw new ChannelsError(`This chain has no CREATE2 deployment proxy at ${CREATE2_PROXY}.`, {
      metaMessages: ['Deploy the proxy first (see EIP-2470 / Arachnid deterministic-deployment-proxy).'],
    })
  }
  const tx = await signer.connect(provider).sendTransaction({ to: CREATE2_PROXY, data: concat([DEPLOY_SALT, initcode]) })
  const receipt = await waitMined(provider, tx)
  if (!receipt || receipt.status !== 1 || (await provider.getCode(address)) === '0x') {
    throw new ChannelsError(`Deploying ${name} failed (transaction ${tx.hash}).`)
  }
  return { address, tx: tx.hash }
}
