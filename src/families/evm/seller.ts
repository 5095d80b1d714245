/**
 * The EVM family's {@link X402Payee} (core/scheme/seller.ts): what the paywall
 * (transports/http402/server.ts) did on an EVM network. The 402 offers the wallet's
 * address as `payTo` under its PaymentChannels contract; a payment is accepted by
 * {@link acceptVoucher} (families/evm/inbound.ts), with the signer the transport
 * recovered under {@link signerDomain}, on a worker thread when it has any; the
 * cooperative close checks the payer's EIP-191 signature of the close request, then
 * redeems and collects ({@link ChannelManager.closeAsPayee}).
 */
import { ZeroAddress, getAddress, verifyMessage } from 'ethers'
import type { ChannelRecord } from '../../core/store/index.js'
import type { CloseAnswer, LockAnswer, Recovered, SellerPolicy, SignerDomain, X402Payee } from '../../core/scheme/seller.js'
import { acceptForward, acceptRouted, payeePubkey, refundRouted } from './locks.js'
import { DEFAULT_ENDPOINT_PATH, SCHEME, type ChannelExtra, type ChannelPayload, type ChannelRequirement } from '../../core/scheme/x402.js'
import { closeRequestMessage } from '../../core/channel/close-request.js'
import { ChannelStateError, InsufficientFundsError, NetworkError } from '../../core/errors.js'
import type { ChannelManager } from './manager.js'
import { acceptVoucher, type AcceptPolicy } from './inbound.js'
import { recoverVoucherSigner } from './voucher.js'
import { spentAcrossLanes, voucherOfFamily, type Voucher } from '../../core/channel/voucher.js'
import { MAX_RECONCILE_VOUCHERS, reconcileRequestToWire } from '../../core/channel/reconcile.js'

/** The EVM payee of `m`'s wallet under `policy` (reads config only: no node contacted, no key unlocked). */
export async function evmSeller(m: ChannelManager, policy: SellerPolicy): Promise<X402Payee> {
  return new EvmSeller(m, policy, await payeePubkey(m))
}

class EvmSeller implements X402Payee {
  readonly network: string
  readonly store: ChannelManager['store']
  readonly signerDomain: SignerDomain
  private readonly payTo: string
  /** The asset of prices and deposits: a token's address, or the zero address (ether). */
  private readonly asset: string
  private readonly accepting: AcceptPolicy
  /** One close at a time per channel, so two requests do not send two transactions. */
  private readonly closing = new Map<string, Promise<{ tx: { hash: string }; redeemed: bigint }>>()

  constructor(
    private readonly m: ChannelManager,
    private readonly policy: SellerPolicy,
    private readonly pubkey: string,
  ) {
    this.network = m.network.caip2
    this.store = m.store
    this.payTo = m.address
    this.signerDomain = { network: m.network.caip2, chainId: m.backend.chainId, contract: m.backend.contract }
    this.asset = policy.asset ? getAddress(policy.asset) : ZeroAddress
    this.accepting = { minSettleDelay: policy.minSettleDelay, minDeposit: policy.minDeposit, asset: this.asset }
  }
  recoverSigner(voucher: Voucher, domain: SignerDomain): string {
    return recoverVoucherSigner(voucherOfFamily(voucher, 'evm'), domain.chainId, domain.contract)
  }


  endpointInfo(): { payTo: string; contract: string; pubkey: string } {
    return { payTo: this.payTo, contract: this.m.backend.contract, pubkey: this.pubkey }
  }

  acceptLock(body: unknown): Promise<LockAnswer> {
    return acceptForward(this.m, this.accepting, body, this.policy.minLock ?? 120)
  }

  acceptRouted(hash: string, secret: string, price: bigint): Promise<{ channel: ChannelRecord; charged: bigint }> {
    return acceptRouted(this.m, hash, secret, price)
  }

  refundRouted(channel: ChannelRecord, hash: string, price: bigint): void {
    refundRouted(this.m, channel, hash, price)
  }

  requirement(price: bigint, extra: Partial<ChannelExtra> = {}): ChannelRequirement {
    return {
      scheme: SCHEME,
      network: this.network,
      amount: price.toString(),
      asset: this.asset,
      payTo: this.payTo,
      maxTimeoutSeconds: 60,
      extra: {
        contract: this.m.backend.contract, minDeposit: this.policy.minDeposit.toString(), minSettleDelay: this.policy.minSettleDelay, endpoint: DEFAULT_ENDPOINT_PATH,
        ...(this.policy.hubs?.length ? { hubs: this.policy.hubs, payToPubkey: this.pubkey } : {}), ...extra,
      },
    }
  }

  offers(accepted: ChannelRequirement): boolean {
    return accepted.payTo === this.payTo
  }

  accept(payload: ChannelPayload, price: bigint, _accepted: ChannelRequirement, recovered?: Recovered, o?: { durable?: boolean }): Promise<{ channel: ChannelRecord; charged: bigint }> {
    return acceptVoucher(this.m, voucherOfFamily(payload.voucher, 'evm'), price, this.accepting, recovered, undefined, o)
  }

  async answerClose(channel: ChannelRecord, signature: string): Promise<CloseAnswer> {
    let signer = ''
    try {
      signer = verifyMessage(closeRequestMessage(this.network, channel.id), signature)
    } catch {
      /* fall through */
    }
    if (signer !== channel.payer) return { status: 403, body: { error: 'The close request is not signed by the channel\'s payer.', reason: 'wrong_signer' } }
    if (channel.state === 'closed') return { status: 200, body: { channelId: channel.id, transaction: channel.closeTx, redeemed: channel.redeemed.toString() } }
    let r
    try {
      r = await this.closeOnce(channel.id)
    } catch (err) {
      // Ordinary refusals (this key cannot pay the gas, nothing to close with, the channel's
      // state) are the payer's to read: 409 with the reason; its `close` falls back to settle.
      const refusal = closeRefusal(err)
      if (refusal) return { status: refusal.status, body: { error: refusal.message, reason: refusal.reason } }
      throw err
    }
    return { status: 200, body: { channelId: channel.id, transaction: r.tx.hash, redeemed: r.redeemed.toString() } }
  }

  reconcileRequest(channel: ChannelRecord): object | undefined {
    const held = this.m.store.vouchers.effectivePerLane(channel.network, channel.id)
    if (held.length < 2 || held.length > MAX_RECONCILE_VOUCHERS) return undefined
    // No discount asked: the merged voucher plus the next price must cover what is charged (acceptMerge).
    return reconcileRequestToWire({ channelId: channel.id, vouchers: held, reqVal: spentAcrossLanes(held) })
  }

  private closeOnce(id: string) {
    let p = this.closing.get(id)
    if (!p) {
      p = this.m.closeAsPayee(this.m.store.channels.get(this.network, id)!).finally(() => this.closing.delete(id))
      this.closing.set(id, p)
    }
    return p
  }
}

/** How the close endpoint answers a refusal by the chain or this wallet: 409 for the payer to read, 503 when the node is down. */
function closeRefusal(err: unknown): { status: 409 | 503; reason: string; message: string } | undefined {
  if (err instanceof InsufficientFundsError) return { status: 409, reason: 'payee_cannot_pay_gas', message: `The merchant cannot pay the gas to close now: ${err.shortMessage}` }
  if (err instanceof ChannelStateError) return { status: 409, reason: 'channel_state', message: `The merchant cannot close this channel: ${err.shortMessage}` }
  if (err instanceof NetworkError) return { status: 503, reason: 'chain_unreachable', message: `The merchant cannot reach its node: ${err.shortMessage}` }
  return undefined
}
