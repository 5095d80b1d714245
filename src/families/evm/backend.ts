/**
 * EVM chain backend over ethers v6 and the singleton PaymentChannels contract.
 *
 * Every RPC call has a timeout and the provider never retries forever: a dead node
 * or a node for another chain id is a {@link NetworkError} (exit 6) within seconds.
 */
import {
  AbiCoder, Contract, FetchRequest, JsonRpcProvider, Network, getAddress, keccak256, ZeroAddress,
  type BaseWallet, type TransactionReceipt, type ContractTransactionResponse,
} from 'ethers'
import { waitMined } from './receipt.js'
import { abi, deployedBytecode, immutableReferences } from './artifact.js'
import type { ChainBackend, EvmVoucher, OnChainChannel, OpenParams, RedeemCall, TxRedemptions, TxResult } from './chain.js'
import { ChannelsError, ChannelStateError, InsufficientFundsError, NetworkError } from '../../core/errors.js'
import { voucherMessage } from './eip712.js'
import { contractAddress } from './deploy.js'

const ERC20_ABI = ['function approve(address spender, uint256 amount) returns (bool)', 'function balanceOf(address) view returns (uint256)']

/** RPC timeout in milliseconds. */
const RPC_TIMEOUT_MS = 15_000

/** Raised when the code at a contract address is not the PaymentChannels build we ship. */
export class ContractMismatchError extends ChannelsError {
  override name = 'Evm.ContractMismatchError'
  override code = 'CONTRACT_MISMATCH'
}

/** Parses `eip155:<id>` into the chain id. */
export function evmChainId(caip2: string): bigint {
  const m = /^eip155:(\d{1,20})$/.exec(caip2)
  if (!m) throw new ChannelsError(`Not an EVM network id: "${caip2}".`)
  return BigInt(m[1])
}

/** Makes a provider that fails fast instead of retrying to detect the network. */
export function makeProvider(rpcUrl: string, chainId: bigint): JsonRpcProvider {
  const req = new FetchRequest(rpcUrl)
  req.timeout = RPC_TIMEOUT_MS
  return new JsonRpcProvider(req, Network.from(chainId), { staticNetwork: true, pollingInterval: 250, batchMaxCount: 1, cacheTimeout: -1 })
}

function unreachable(rpcUrl: string, err: unknown): NetworkError {
  return new NetworkError(`The node at ${rpcUrl} is unreachable.`, {
    details: (err as Error)?.message?.split('\n')[0],
    metaMessages: ['Start it (`channels devnet` for a local chain) or point --rpc-url / CHANNELS_RPC_URL at a working node.'],
    cause: err,
  })
}

export class EvmBackend implements ChainBackend {
  readonly chainId: bigint
  readonly contract: string
  readonly provider: JsonRpcProvider
  private channelsContract?: Contract
  private networkChecked = false
  private contractChecked = false

  constructor(readonly caip2: string, readonly rpcUrl: string, contract?: string) {
    this.chainId = evmChainId(caip2)
    this.contract = getAddress(contract ?? contractAddress())
    this.provider = makeProvider(rpcUrl, this.chainId)
  }

  /** The contract, built on first use: parsing its ABI (≈ 35 ms) is work a `pay --no-deliver` never needs. */
  private get channels(): Contract {
    this.channelsContract ??= new Contract(this.contract, abi as never, this.provider)
    return this.channelsContract
  }

  async checkNetwork(): Promise<void> {
    if (this.networkChecked) return
    let id: string
    try {
      id = await this.provider.send('eth_chainId', [])
    } catch (err) {
      throw unreachable(this.rpcUrl, err)
    }
    if (BigInt(id) !== this.chainId) {
      throw new NetworkError(`The node at ${this.rpcUrl} is on chain ${BigInt(id)}, not ${this.chainId} (${this.caip2}).`, {
        metaMessages: ['Check --network and --rpc-url.'],
      })
    }
    this.networkChecked = true
  }

  /**
   * Checks that the code at the contract address is the runtime bytecode we ship,
   * with immutable slots (EIP-712 domain cache) masked out.
   * @throws {ContractMismatchError} no code or different code
   */
  async verifyContract(): Promise<void> {
    if (this.contractChecked) return
    await this.checkNetwork()
    const code = await this.rpc(() => this.provider.getCode(this.contract))
    if (code === '0x') {
      throw new ContractMismatchError(`No PaymentChannels contract at ${this.contract} on ${this.caip2}.`, {
        metaMessages: ['Deploy it with `channels deploy`, or start a local chain with `channels devnet`.'],
      })
    }
    if (code.length !== deployedBytecode.length || keccak256(maskImmutables(code)) !== keccak256(maskImmutables(deployedBytecode))) {
      throw new ContractMismatchError(`The code at ${this.contract} on ${this.caip2} is not the PaymentChannels contract this channels ships.`, {
        metaMessages: ['Refusing to deposit into an unknown contract.'],
      })
    }
    this.contractChecked = true
  }

  async balance(address: string, asset: string = ZeroAddress): Promise<bigint> {
    if (asset === ZeroAddress) return this.rpc(() => this.provider.getBalance(address))
    const token = new Contract(asset, ERC20_ABI, this.provider)
    return this.rpc(() => token.getFunction('balanceOf')(address) as Promise<bigint>)
  }

  async now(): Promise<number> {
    const block = await this.rpc(() => this.provider.getBlock('latest'))
    return block!.timestamp
  }

  channelIdOf(payer: string, p: OpenParams): string {
    return keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ['uint256', 'address', 'address', 'address', 'address', 'bytes32'],
        [this.chainId, this.contract, payer, p.payee, p.asset, p.salt],
      ),
    )
  }

  async getChannel(channelId: string): Promise<OnChainChannel | undefined> {
    const c = await this.rpc(() => this.channels.getChannel(channelId))
    if (c.payer === ZeroAddress) return undefined
    return {
      payer: getAddress(c.payer),
      payee: getAddress(c.payee),
      asset: getAddress(c.token),
      deposit: c.deposit,
      redeemed: c.redeemed,
      settleDelay: Number(c.settleDelay),
      settleAt: Number(c.settleAt),
      minSettleAt: Number(c.minSettleAt),
    }
  }

  async open(signer: BaseWallet, p: OpenParams, onSent?: (hash: string) => void): Promise<TxResult> {
    if (p.asset === ZeroAddress) {
      return this.send(signer, (c) => c.open(p.payee, p.asset, p.amount, p.settleDelay, p.salt, { value: p.amount }), onSent)
    }
    // ERC-20: allow the contract to pull exactly the deposit, then open.
    const token = new Contract(p.asset, ERC20_ABI, signer.connect(this.provider))
    await this.send(signer, () => token.approve(this.contract, p.amount))
    return this.send(signer, (c) => c.open(p.payee, p.asset, p.amount, p.settleDelay, p.salt), onSent)
  }

  async deposit(signer: BaseWallet, channelId: string, asset: string, amount: bigint, onSent?: (hash: string) => void): Promise<TxResult> {
    if (asset === ZeroAddress) return this.send(signer, (c) => c.deposit(channelId, amount, { value: amount }), onSent)
    const token = new Contract(asset, ERC20_ABI, signer.connect(this.provider))
    await this.send(signer, () => token.approve(this.contract, amount))
    return this.send(signer, (c) => c.deposit(channelId, amount), onSent)
  }

  async transactionStatus(hash: string): Promise<'mined' | 'failed' | 'unknown'> {
    const r = await this.rpc(() => this.provider.getTransactionReceipt(hash))
    return !r ? 'unknown' : r.status === 1 ? 'mined' : 'failed'
  }

  async getLane(channelId: string, lane: bigint): Promise<{ nonce: bigint; redeemed: bigint }> {
    const [nonce, redeemed] = await this.rpc(() => this.channels.getLane(channelId, lane))
    return { nonce, redeemed }
  }

  async settle(signer: BaseWallet, channelId: string): Promise<TxResult> {
    return this.send(signer, (c) => c.settle(channelId))
  }

  async collect(signer: BaseWallet, channelId: string): Promise<TxResult> {
    return this.send(signer, (c) => c.collect(channelId))
  }

  async close(signer: BaseWallet, voucher: EvmVoucher, secret = '0x'): Promise<TxResult> {
    return this.send(signer, (c) => c.close(voucherMessage(voucher), voucher.signature, secret))
  }

  async collectedBy(txHash: string, channelId: string): Promise<{ paidToPayee: bigint; refundedToPayer: bigint } | undefined> {
    return (await this.redeemedIn(txHash)).collected.get(channelId)
  }

  async redeemedIn(txHash: string): Promise<TxRedemptions> {
    const out: TxRedemptions = { collected: new Map(), updated: new Map() }
    const receipt = await this.rpc(() => this.provider.getTransactionReceipt(txHash))
    if (!receipt || receipt.status !== 1) return out
    for (const log of receipt.logs) {
      if (getAddress(log.address) !== this.contract) continue
      const parsed = this.channels.interface.parseLog(log)
      if (parsed?.name === 'ChannelCollected') out.collected.set(parsed.args.channelId, { paidToPayee: parsed.args.paidToPayee, refundedToPayer: parsed.args.refundedToPayer })
      if (parsed?.name === 'ChannelUpdated') out.updated.set(parsed.args.channelId, parsed.args.redeemed)
    }
    return out
  }

  async updateMany(signer: BaseWallet, vouchers: EvmVoucher[], secrets?: readonly (string | undefined)[]): Promise<TxResult> {
    return this.send(signer, (c) => c.updateMany(...batchArgs(vouchers, secrets)))
  }

  async closeMany(signer: BaseWallet, vouchers: EvmVoucher[], secrets?: readonly (string | undefined)[]): Promise<TxResult> {
    return this.send(signer, (c) => c.closeMany(...batchArgs(vouchers, secrets)))
  }

  async estimateRedeemGas(from: string, call: RedeemCall, vouchers: EvmVoucher[], secrets?: readonly (string | undefined)[]): Promise<bigint> {
    const args = call === 'update' || call === 'close' ? [voucherMessage(vouchers[0]), vouchers[0].signature, secrets?.[0] ?? '0x'] : batchArgs(vouchers, secrets)
    return this.rpc(() => this.channels.getFunction(call).estimateGas(...args, { from }))
  }

  async feePerGas(): Promise<bigint> {
    const fee = await this.rpc(() => this.provider.getFeeData())
    return fee.maxFeePerGas ?? fee.gasPrice ?? 0n
  }

  async update(signer: BaseWallet, voucher: EvmVoucher, secret = '0x'): Promise<TxResult> {
    return this.send(signer, (c) => c.update(voucherMessage(voucher), voucher.signature, secret))
  }

  /** Sends a contract call, waits for its receipt and turns reverts into typed errors. */
  private async send(
    signer: BaseWallet,
    call: (c: Contract) => Promise<ContractTransactionResponse>,
    onSent?: (hash: string) => void,
  ): Promise<TxResult> {
    await this.checkNetwork()
    const c = this.channels.connect(signer.connect(this.provider)) as Contract
    let tx: ContractTransactionResponse
    try {
      tx = await call(c)
    } catch (err) {
      throw this.explain(err, signer.address)
    }
    onSent?.(tx.hash)
    let receipt: TransactionReceipt | null
    try {
      receipt = await waitMined(this.provider, tx)
    } catch (err) {
      throw this.explain(err)
    }
    if (!receipt) throw new NetworkError(`Transaction ${tx.hash} was dropped.`)
    return { hash: receipt.hash, gasUsed: receipt.gasUsed, fee: receipt.gasUsed * receipt.gasPrice }
  }

  private async rpc<T>(fn: () => Promise<T>): Promise<T> {
    await this.checkNetwork()
    try {
      return await fn()
    } catch (err) {
      throw this.explain(err)
    }
  }

  /** The contract's custom error that revert `data` holds, if it is one. */
  private revertName(data: unknown): string | undefined {
    if (typeof data !== 'string') return undefined
    try {
      return this.channels.interface.parseError(data)?.name
    } catch {
      return undefined
    }
  }

  /**
   * Maps ethers errors: connection problems → NetworkError, contract reverts →
   * ChannelStateError, a sender short of value plus gas → InsufficientFundsError (exit 5).
   * @param sender - the account that was sending, for the message
   */
  private explain(err: unknown, sender?: string): Error {
    const e = err as { code?: string; data?: unknown; revert?: { name: string; args: unknown[] }; shortMessage?: string; message?: string }
    // A revert found while estimating a transaction's gas comes from the provider, which does
    // not know the contract's errors ("unknown custom error"): decode its data here.
    const revert = e.revert?.name ?? (e.code === 'CALL_EXCEPTION' ? this.revertName(e.data) : undefined)
    if (revert) {
      return new ChannelStateError(`The contract refused: ${revert}.`, { data: { revert }, cause: err })
    }
    if (e.code === 'INSUFFICIENT_FUNDS') {
      // Nodes say how much is missing ("… overshot 123"); ethers keeps it in the message.
      const overshot = /overshot (\d+)/.exec(e.message ?? '')?.[1]
      return new InsufficientFundsError(`${sender ?? 'The account'} cannot pay for this transaction (value plus gas).`, overshot ? BigInt(overshot) : 0n, {
        metaMessages: [`Fund ${sender ?? 'the account'} with the chain's native coin (on a devnet: \`channels devnet --fund ${sender ?? '<address>'}\`).`],
        data: { account: sender ?? null },
        cause: err,
      })
    }
    if (e.code === 'NETWORK_ERROR' || e.code === 'TIMEOUT' || e.code === 'SERVER_ERROR' || /ECONNREFUSED|fetch failed|socket/i.test(e.message ?? '')) {
      return unreachable(this.rpcUrl, err)
    }
    if (err instanceof ChannelsError) return err
    return new ChannelsError(e.shortMessage ?? e.message ?? String(err), { cause: err })
  }
}

/** The three arrays of `updateMany`/`closeMany`: voucher structs, signatures, secrets ('0x' where none is given). */
function batchArgs(vouchers: EvmVoucher[], secrets: readonly (string | undefined)[] = []): [unknown[], string[], string[]] {
  return [vouchers.map((v) => voucherMessage(v)), vouchers.map((v) => v.signature), vouchers.map((_, i) => secrets[i] ?? '0x')]
}

/** Zeroes the immutable slots of runtime bytecode so builds on any chain compare equal. */
function maskImmutables(code: string): string {
  const bytes = Buffer.from(code.slice(2), 'hex')
  for (const refs of Object.values(immutableReferences)) {
    for (const { start, length } of refs) bytes.fill(0, start, start + length)
  }
  return '0x' + bytes.toString('hex')
}
