/**
 * The EVM family's x402 payer ({@link X402Payer}, core/scheme/buyer.ts): pays a
 * `channel` entry on an eip155 network over the PaymentChannels contract this wallet
 * trusts, with EIP-712 vouchers, through {@link ChannelManager}; and x402 `exact` entries with
 * EIP-3009 authorizations (exact.ts).
 */
import { getAddress } from 'ethers'
import type { BuyerOptions, X402Payer } from '../../core/scheme/buyer.js'
import type { LockScheme } from '../../core/scheme/hub.js'
import { voucherFromWire } from '../../core/channel/voucher-wire.js'
import { PaymentRefusedError, UsageError } from '../../core/errors.js'
import { reconcileRequestFromWire } from '../../core/channel/reconcile.js'
import { answerReconcile } from './lanes.js'
import { minDiscountOf } from '../../core/config.js'
import type { ChannelManager } from './manager.js'
import { evmAsset } from './asset.js'
import { refreshChannel } from './sync.js'
import { evmExactPayer } from './exact.js'
import type { EvmBackend } from './backend.js'

/**
 * `m`'s wallet as an x402 payer; a channel it opens gets `o.settleDelay` (at least the merchant's
 * `minSettleDelay`). With `locks` (the scheme's), it pays merchants through the hubs they list.
 */
export function evmBuyer(m: ChannelManager, o: BuyerOptions, locks?: Pick<LockScheme, 'payVia'>): X402Payer {
  return {
    ...(locks ? {
      locks: {
        payable(hubAddress: string, amount: bigint) {
          let hub: string
          try {
            hub = getAddress(hubAddress)
          } catch {
            return undefined
          }
          return m.payableChannels(hub, amount)[0]?.channel
        },
        payVia: (hubUrl, payee, amount, po) => locks.payVia(hubUrl, payee, amount, po),
      },
    } satisfies Pick<X402Payer, 'locks'> : {}),
    // x402 `exact` (issue 13 §2). The EVM manager's backend is always an EvmBackend (ChannelManager.backend).
    exact: evmExactPayer(m.backend as EvmBackend, m.address, () => m.signer(), (address) => evmAsset(m.network, address)),
    network: m.network,
    store: m.store,
    asset: (address) => evmAsset(m.network, address),
    checkEntry(entry) {
      try {
        entry.payTo = getAddress(entry.payTo)
      } catch {
        throw new PaymentRefusedError(`The merchant's payTo "${entry.payTo}" is not an address.`)
      }
      try {
        entry.asset = getAddress(entry.asset)
      } catch {
        throw new PaymentRefusedError(`The merchant's asset "${entry.asset}" is not a token address (nor the zero address, ether).`)
      }
      if (entry.extra?.contract && getAddress(entry.extra.contract) !== m.backend.contract) {
        throw new PaymentRefusedError(`The merchant uses channel contract ${entry.extra.contract}; this wallet trusts only ${m.backend.contract}.`)
      }
    },
    payable: (entry, price) => m.payableChannels(entry.payTo, price, entry.asset)[0]?.channel,
    defaultDeposit: async (_entry, price, requests) => requests * price,
    open: (entry, deposit, endpoint, onSent) =>
      m.open({ payee: entry.payTo, asset: entry.asset, deposit, settleDelay: Math.max(o.settleDelay, entry.extra.minSettleDelay ?? 0), endpoint, onSent }),
    openWait: 'waiting for the open transaction to be mined',
    createVoucher: (c, target, onCommit) => m.createVoucher(c, target, 0n, { onCommit }),
    accepted: (entry) => entry,
    announce: () => ({}),
    acknowledge: (c, v, charged) => m.acknowledge(c, v, charged),
    fromWire: voucherFromWire,
    signedByPayer: (c, v) => m.signedByPayer(c, v),
    async stillOpen(c) {
      await refreshChannel(m, c)
      return m.store.channels.get(c.network, c.id)?.state === 'open'
    },
    async reconcile(c, request) {
      try {
        const req = reconcileRequestFromWire('evm', request)
        if (req.channelId !== c.id) return `refused: the request is about channel ${req.channelId}, not ${c.id}`
        const r = await answerReconcile(m, req, minDiscountOf(m.config))
        return r.status === 'Success' ? `${r.message}; the next payment carries it` : `refused: ${r.message}`
      } catch (err) {
        if (err instanceof UsageError) return `refused: ${err.shortMessage}`
        throw err
      }
    },
  }
}
