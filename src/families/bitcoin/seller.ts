/**
 * The Bitcoin family's {@link X402Payee} (core/scheme/seller.ts): what the paywall
 * (transports/http402/server.ts) did on a Bitcoin-family network (DESIGN §5). The 402's
 * bip122 entry offers a fresh payee key per channel ({@link PayeeKeys}: child i of the
 * key's BIP84 chain, `extra.payeeIndex` i); payments are half-signed transactions
 * checked by {@link acceptBitcoinPayment} against the chain and every payee rule (no
 * signer to recover off the event loop: no `signerDomain`); the cooperative close is
 * {@link answerBitcoinCloseRequest}. Amounts are satoshis.
 */
import type { ChannelRecord } from '../../core/store/index.js'
import type { CloseAnswer, SellerPolicy, X402Payee } from '../../core/scheme/seller.js'
import { DEFAULT_ENDPOINT_PATH, SCHEME, type ChannelExtra, type ChannelPayload, type ChannelRequirement } from '../../core/scheme/x402.js'
import type { BitcoinChannelManager } from './manager.js'
import { acceptBitcoinPayment, type BitcoinAcceptPolicy } from './inbound.js'
import { voucherOfFamily } from '../../core/channel/voucher.js'
import { answerBitcoinCloseRequest } from './cooperative.js'
import { PayeeKeys } from './payees.js'

/**
 * The Bitcoin payee of `b`'s wallet under `policy`: unlocks the key's chain node once,
 * so that every fresh payee key is derived without the keystore.
 * @throws {KeystoreError} keychain locked or wrong passphrase
 */
export async function bitcoinSeller(b: BitcoinChannelManager, policy: SellerPolicy): Promise<X402Payee> {
  const payees = await PayeeKeys.unlock(b)
  return new BitcoinSeller(b, payees, await b.pubkey(), {
    minExpirySeconds: policy.minExpirySeconds, closeMargin: policy.closeMargin, minDeposit: policy.minDeposit, minConf: policy.minConf,
  })
}

class BitcoinSeller implements X402Payee {
  readonly network: string
  readonly store: BitcoinChannelManager['store']

  constructor(
    private readonly b: BitcoinChannelManager,
    private readonly payees: PayeeKeys,
    /** The key's base channel pubkey (payee index 0). */
    private readonly payTo: string,
    private readonly policy: BitcoinAcceptPolicy,
  ) {
    this.network = b.network.caip2
    this.store = b.store
  }

  endpointInfo(): { payTo: string } {
    return { payTo: this.payTo }
  }

  requirement(price: bigint, extra: Partial<ChannelExtra> = {}): ChannelRequirement {
    const fresh = this.payees.offer()
    const p = this.policy
    return {
      scheme: SCHEME,
      network: this.network,
      amount: price.toString(),
      asset: 'sat',
      payTo: fresh.payTo,
      maxTimeoutSeconds: 60,
      extra: { minDeposit: p.minDeposit.toString(), minExpirySeconds: p.minExpirySeconds, closeMargin: p.closeMargin, p2sh: false, endpoint: DEFAULT_ENDPOINT_PATH, payeeIndex: fresh.payeeIndex, ...extra },
    }
  }

  offers(accepted: ChannelRequirement): boolean {
    return this.payees.offers(accepted)
  }

  accept(payload: ChannelPayload, price: bigint, accepted: ChannelRequirement): Promise<{ channel: ChannelRecord; charged: bigint }> {
    return acceptBitcoinPayment(this.b, voucherOfFamily(payload.voucher, 'bitcoin'), payload.open, price, this.policy, this.payees.indexOf(accepted))
  }

  answerClose(channel: ChannelRecord, signature: string): Promise<CloseAnswer> {
    return answerBitcoinCloseRequest(this.b, channel, signature)
  }
}
