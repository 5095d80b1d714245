/**
 * The Bitcoin family's x402 payer ({@link X402Payer}, core/scheme/buyer.ts): pays a
 * `channel` entry on a bip122 network over a two1 CLTV channel to the merchant's
 * pubkey (a fresh payee key per channel), each request a half-signed payment
 * transaction, through {@link BitcoinChannelManager}.
 */
import type { BuyerOptions, X402Payer } from '../../core/scheme/buyer.js'
import type { ChannelRequirement } from '../../core/scheme/x402.js'
import { bitcoinVoucherFromWire } from '../../core/channel/voucher-wire.js'
import { PaymentRefusedError } from '../../core/errors.js'
import { checkedPayeeIndex, checkedPubkey, type BitcoinChannelManager } from './manager.js'
import { buildRedeemScript, keyOutputScript, toBytes } from './script.js'
import { closeVsize, dustThreshold } from './spend.js'
import { bitcoinAsset } from './asset.js'
import { bitcoinChannel } from './channel.js'

/**
 * `m`'s wallet as an x402 payer; a channel it opens lives `o.expirySeconds` (at least the
 * merchant's `minExpirySeconds` plus its close margin and an hour).
 */
export function bitcoinBuyer(m: BitcoinChannelManager, o: BuyerOptions): X402Payer {
  const margin = (entry: ChannelRequirement) => (entry.extra.closeMargin ?? 0) + 60
  const lifetime = (entry: ChannelRequirement) => Math.max(o.expirySeconds ?? 0, (entry.extra.minExpirySeconds ?? 0) + margin(entry) + 3600)
  return {
    network: m.network,
    store: m.store,
    asset: (address) => bitcoinAsset(m.network, address),
    checkEntry(entry) {
      try {
        entry.payTo = checkedPubkey(entry.payTo, 'payTo')
      } catch {
        throw new PaymentRefusedError(`The merchant's payTo "${entry.payTo}" is not a channel pubkey.`)
      }
      if (entry.asset !== 'sat') throw new PaymentRefusedError(`The merchant asks for asset "${entry.asset}" on a Bitcoin-family network; only "sat" is paid.`)
      if (entry.extra.payeeIndex !== undefined) {
        try {
          checkedPayeeIndex(entry.extra.payeeIndex, 'payeeIndex')
        } catch (err) {
          throw new PaymentRefusedError(`The merchant's ${(err as Error).message}`)
        }
      }
    },
    payable: (entry, price, endpoint) => m.payableChannels(entry.payTo, price, margin(entry), endpoint)[0]?.channel,
    async defaultDeposit(entry, price, requests) {
      // What BitcoinChannelManager.open needs: every payment leaves the close fee, and pays the payee at least its dust.
      const payee = toBytes(entry.payTo)
      const redeem = buildRedeemScript({ payeePubkey: payee, payerPubkey: toBytes(await m.pubkey()), expiry: Math.floor(Date.now() / 1000) + lifetime(entry) })
      const closeFee = BigInt(Math.ceil(closeVsize(redeem, entry.extra.p2sh === true) * (await m.backend.feeRate())))
      const dust = dustThreshold(keyOutputScript(payee), m.params.dustRelayFee)
      const payments = requests * price
      return (payments > dust ? payments : dust) + closeFee
    },
    open: (entry, deposit, endpoint, onSent, onProgress) =>
      m.open({
        payee: entry.payTo, deposit, expiry: Math.floor(Date.now() / 1000) + lifetime(entry), p2sh: entry.extra.p2sh === true, endpoint,
        payeeIndex: entry.extra.payeeIndex, onSent, onProgress,
      }),
    openWait: 'waiting for the deposit to confirm',
    createVoucher: (c, target, onCommit) => m.createVoucher(c, target, { onCommit }),
    // The merchant's payee key differs per channel: name the one this channel pays.
    accepted: (entry, c) => ({ ...entry, payTo: c.payee, extra: { ...entry.extra, payeeIndex: bitcoinChannel(c).data.payeeIndex ?? 0 } }),
    announce: (c) => {
      // Until the merchant has acknowledged a payment, every payment carries the deposit and script.
      if (c.charged > 0n) return {}
      const b = bitcoinChannel(c).data
      return { type: 'open', open: { depositTx: b.depositTx, vout: b.depositVout, redeemScript: b.redeemScript } }
    },
    acknowledge: (c, v, charged) => m.acknowledge(c, v, charged),
    fromWire: bitcoinVoucherFromWire,
    signedByPayer: (c, v) => m.signedByPayer(c, v),
  }
}
