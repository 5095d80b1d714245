/**
 * The EVM family's x402 `exact` payer ({@link ExactPayer}, issue 13 §2, DESIGN §14): a one-off
 * EIP-3009 `transferWithAuthorization` of the price, signed with the wallet's key by `@x402/evm`'s own
 * client scheme (`@x402/evm/exact/client`, loaded on first use) through an adapter from the wallet's
 * ethers signer to the signer it wants. The merchant's facilitator submits it and pays its gas.
 */
import { Contract, TypedDataEncoder, ZeroAddress, getAddress, hexlify, randomBytes, type BaseWallet, type TypedDataField } from 'ethers'
import type { ClientEvmSigner } from '@x402/evm'
import type { ExactPayer, PaymentGas } from '../../core/scheme/buyer.js'
import type { ExactPayload, ExactRequirement } from '../../core/scheme/x402.js'
import { InsufficientFundsError, NetworkError, PaymentRefusedError } from '../../core/errors.js'
import { formatAmount } from '../../core/units.js'
import type { Asset } from '../../core/asset.js'
import type { EvmBackend } from './backend.js'

/**
 * Longest validity of an authorization this wallet signs, seconds (an entry's `maxTimeoutSeconds`
 * above it is refused): the merchant can redeem it until then, served or not. x402's servers offer
 * 60–300 s; one hour leaves room for a slow resource and bounds what a refused purchase holds.
 */
export const MAX_EXACT_TIMEOUT_SECONDS = 3600

/**
 * Gas of one EIP-3009 `transferWithAuthorization` to a payee that already holds the token: 68,888 on
 * anvil with the devnet's TestUSD (86,000 to a payee holding none), rounded up. The merchant's
 * facilitator pays it.
 */
export const EIP3009_TRANSFER_GAS = 69_000n

/**
 * Gas of a channel in a token over its life: the payer's `approve` (46,341 on TestUSD, from a zero
 * allowance) and `open`, and the payee's `close` with one voucher (187,773 for the two: issue 13 §4's
 * `lifecycle_erc20`, test/contract/gas.test.ts), rounded up. Re-measure when the contract changes.
 */
export const CHANNEL_TOKEN_GAS = 235_000n

const TOKEN_ABI = [
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function balanceOf(address owner) view returns (uint256)',
]

/** Reads the token at `address` through `backend`'s provider; a node error is a {@link NetworkError}, a revert or missing method a refusal. */
async function tokenRead<T>(backend: EvmBackend, what: string, asset: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'CALL_EXCEPTION' || code === 'BAD_DATA') {
      throw new PaymentRefusedError(`The merchant's asset ${asset} is not an EIP-3009 token: it does not answer ${what}.`, { cause: err })
    }
    throw new NetworkError(`The node at ${backend.rpcUrl} did not answer (${what} of ${asset}).`, { details: (err as Error)?.message?.split('\n')[0], cause: err })
  }
}

/**
 * The wallet's ethers signer as the `ClientEvmSigner` @x402/evm signs with: its address and EIP-712
 * typed-data signatures (ethers takes the types without `EIP712Domain` and finds the primary type itself,
 * so the one asked for is checked).
 * @throws {PaymentRefusedError} typed data whose primary type is not the one named
 * @example await clientSignerOf(wallet).signTypedData({ domain, types: authorizationTypes, primaryType: 'TransferWithAuthorization', message }) // '0x…'
 */
export function clientSignerOf(wallet: BaseWallet): ClientEvmSigner {
  return {
    address: wallet.address as `0x${string}`,
    async signTypedData({ domain, types, primaryType, message }) {
      const { EIP712Domain: _domain, ...rest } = types as Record<string, TypedDataField[]>
      void _domain
      if (TypedDataEncoder.getPrimaryType(rest) !== primaryType) throw new PaymentRefusedError(`Refusing to sign typed data whose primary type is not ${primaryType}.`)
      return (await wallet.signTypedData(domain, rest, message)) as `0x${string}`
    },
  }
}

/**
 * `exact` payments of the wallet `address` (its key from `signer()`) on `backend`'s chain.
 * @param assetOf - the asset of a token address on this network, for messages
 */
export function evmExactPayer(backend: EvmBackend, address: string, signer: () => Promise<BaseWallet>, assetOf: (address: string) => Asset): ExactPayer {
  return {
    async check(entry: ExactRequirement) {
      let payTo: string, asset: string
      try {
        payTo = getAddress(entry.payTo)
        asset = getAddress(entry.asset)
      } catch {
        throw new PaymentRefusedError(`The merchant's x402 \`exact\` entry names payTo "${entry.payTo}" and asset "${entry.asset}": not both addresses.`)
      }
      if (payTo === ZeroAddress || asset === ZeroAddress) throw new PaymentRefusedError('The merchant\'s x402 `exact` entry names the zero address as payTo or asset.')
      const method = entry.extra?.assetTransferMethod ?? 'eip3009'
      if (method !== 'eip3009') throw new PaymentRefusedError(`The merchant asks for an x402 \`exact\` payment by ${String(method)}; channels signs EIP-3009 authorizations only.`)
      const t = entry.maxTimeoutSeconds
      if (!Number.isSafeInteger(t) || t < 1 || t > MAX_EXACT_TIMEOUT_SECONDS) {
        throw new PaymentRefusedError(`The merchant's x402 \`exact\` entry asks for an authorization valid ${t} s; channels signs one valid 1 to ${MAX_EXACT_TIMEOUT_SECONDS} s.`)
      }
      const amount = BigInt(entry.amount)
      if (amount === 0n) throw new PaymentRefusedError('The merchant\'s x402 `exact` entry asks for a transfer of 0.')
      const { name, version } = entry.extra ?? {}
      if (typeof name !== 'string' || typeof version !== 'string' || name.length > 200 || version.length > 200) {
        throw new PaymentRefusedError('The merchant\'s x402 `exact` entry does not name its token\'s EIP-712 domain (extra.name, extra.version).')
      }
      // The token signs what the entry says only if its EIP-712 domain is that name and version, on this chain, at this address.
      const token = new Contract(asset, TOKEN_ABI, backend.provider)
      const expected = TypedDataEncoder.hashDomain({ name, version, chainId: backend.chainId, verifyingContract: asset })
      const [separator, , balance] = await Promise.all([
        tokenRead(backend, 'DOMAIN_SEPARATOR()', asset, () => token.getFunction('DOMAIN_SEPARATOR')() as Promise<string>),
        tokenRead(backend, 'authorizationState(address,bytes32)', asset, () => token.getFunction('authorizationState')(address, hexlify(randomBytes(32))) as Promise<boolean>),
        tokenRead(backend, 'balanceOf(address)', asset, () => token.getFunction('balanceOf')(address) as Promise<bigint>),
      ])
      if (separator.toLowerCase() !== expected.toLowerCase()) {
        throw new PaymentRefusedError(`The token ${asset} is not "${name}" version ${version} on ${backend.caip2} (its EIP-712 domain differs from the merchant's extra.name and extra.version).`)
      }
      if (balance < amount) {
        const show = (x: bigint) => formatAmount(x, assetOf(asset))
        throw new InsufficientFundsError(`The wallet ${address} holds ${show(balance)}, less than the price ${show(amount)}.`, amount - balance)
      }
      return { asset, payTo }
    },

    async sign(entry: ExactRequirement): Promise<ExactPayload> {
      const [{ ExactEvmScheme }, wallet] = await Promise.all([import('@x402/evm/exact/client'), signer()])
      const r = await new ExactEvmScheme(clientSignerOf(wallet)).createPaymentPayload(2, entry as never)
      return r.payload as unknown as ExactPayload
    },

    async gas(): Promise<PaymentGas> {
      const fee = await backend.provider.getFeeData().catch((err: unknown) => {
        throw new NetworkError(`The node at ${backend.rpcUrl} did not tell its gas price.`, { details: (err as Error)?.message?.split('\n')[0], cause: err })
      })
      return { exact: EIP3009_TRANSFER_GAS, channel: CHANNEL_TOKEN_GAS, feePerGas: fee.maxFeePerGas ?? fee.gasPrice ?? 0n }
    },
  }
}
