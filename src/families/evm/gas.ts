/**
 * Can a payee pay for its own `close`? A merchant without gas cannot redeem what it
 * earned, and a payer's cooperative close then falls back to a settle that locks the
 * payer's funds for the settle delay (issue 9 §3.1): `channels serve` warns at start.
 */
import type { EvmBackend } from './backend.js'
import { NetworkError } from '../../core/errors.js'
import { formatUnits } from '../../core/units.js'

/**
 * Gas of one `close` (redemption of a voucher + collect): 66,150 on anvil for a native channel,
 * 70,029 for an ERC-20 one whose payee already holds the token (test/contract/gas.test.ts), about
 * 17,000 more when the payee's token balance is still zero; rounded up to cover that case.
 */
export const CLOSE_GAS = 90_000n

/** What {@link closeGasCheck} found. Amounts in wei. */
export interface CloseGasCheck {
  address: string
  /** The address's balance, in wei. */
  balance: bigint
  /** Fee per gas a transaction sent now offers (EIP-1559 `maxFeePerGas`, else the legacy gas price), in wei. */
  feePerGas: bigint
  /** {@link CLOSE_GAS} × `feePerGas`, in wei: what the node wants the sender to hold to accept one close. */
  needed: bigint
  /** `balance ≥ needed`. */
  enough: boolean
}

/**
 * Whether `address` holds enough for one `close` transaction at the current fee: a node
 * accepts a transaction only when the sender holds gas limit × max fee per gas.
 * @param backend - the network's backend (its provider)
 * @param address - the payee
 * @throws {NetworkError} the node is unreachable
 * @example await closeGasCheck(backend, '0x7099…79C8') // {balance: 0n, feePerGas: 3000000000n, needed: 300000000000000n, enough: false, …}
 */
export async function closeGasCheck(backend: Pick<EvmBackend, 'rpcUrl' | 'balance' | 'provider'>, address: string): Promise<CloseGasCheck> {
  const [balance, fee] = await Promise.all([
    backend.balance(address),
    backend.provider.getFeeData().catch((err: unknown) => {
      throw new NetworkError(`The node at ${backend.rpcUrl} did not tell its gas price.`, { details: (err as Error)?.message?.split('\n')[0], cause: err })
    }),
  ])
  const feePerGas = fee.maxFeePerGas ?? fee.gasPrice ?? 0n
  const needed = CLOSE_GAS * feePerGas
  return { address, balance, feePerGas, needed, enough: balance >= needed }
}

/** What `serve` prints when its payee cannot pay for one close: {@link CloseGasCheck} plus the words. */
export interface PayeeGasWarning extends CloseGasCheck {
  /** CAIP-2 id of the network. */
  network: string
  /** What is wrong and what it costs the payers. */
  message: string
  /** How to fund the payee. */
  fix: string
}

/**
 * The warning `serve` gives at start when the payee cannot pay for one close (issue 9 §3.1),
 * or undefined when it can.
 * @param home - the payee's CHANNELS_HOME, named in the devnet's `--fund` remedy
 * @throws {NetworkError} the node is unreachable
 */
export async function payeeGasWarning(
  backend: Pick<EvmBackend, 'rpcUrl' | 'balance' | 'provider'>, address: string, caip2: string, home: string,
): Promise<PayeeGasWarning | undefined> {
  const gas = await closeGasCheck(backend, address)
  if (gas.enough) return undefined
  const eth = (wei: bigint) => formatUnits(wei, 18, 'ETH')
  const fix = caip2 === 'eip155:31337'
    ? `channels devnet --fund ${home}   (when you start the local devnet), or send at least ${eth(gas.needed)} to ${gas.address}`
    : `send at least ${eth(gas.needed)} to ${gas.address} on ${caip2}`
  const message = `the payee ${gas.address} holds ${eth(gas.balance)}, less than one close costs (${CLOSE_GAS.toLocaleString('en-US')} gas × ${formatUnits(gas.feePerGas, 9, 'gwei')} = ${eth(gas.needed)}): ` +
    'it cannot redeem vouchers, and a payer\'s close would fall back to a settle that locks the payer\'s funds for the settle delay.'
  return { ...gas, network: caip2, message, fix }
}
