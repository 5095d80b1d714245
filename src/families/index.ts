/**
 * The registry of chain families (DESIGN §2): one line per family. Each family's code,
 * and its chain libraries (ethers, bitcoinjs-lib), load only when a command asks for
 * its scheme, so `channels status` starts without them; the asset tables (families/<kind>/asset.ts)
 * are small and import no chain library. A new family is a folder
 * beside these and one line here.
 */
import type { ChannelFamily, FamilyKind } from '../core/scheme/index.js'
import { FAMILY_NAMESPACES } from '../core/config-fields.js'
import { evmAsset, parseEvmAmount } from './evm/asset.js'
import { bitcoinAsset, parseBitcoinAmount } from './bitcoin/asset.js'
import { evmChannel } from './evm/channel.js'
import { bitcoinChannel } from './bitcoin/channel.js'

export const families: Record<FamilyKind, ChannelFamily> = {
  evm: {
    kind: 'evm', namespace: FAMILY_NAMESPACES.evm,
    load: async (ctx) => (await import('./evm/scheme.js')).load(ctx),
    details: (c) => [['settle delay', `${evmChannel(c).data.settleDelay} s`], ['settle at', c.settleAt ? { time: c.settleAt } : '-']],
    statusJson: (c) => {
      const { contract, settleDelay } = evmChannel(c).data
      return { contract, settleDelay, expiry: null }
    },
    closeReserve: () => 0n,
    asset: evmAsset,
    parseAmount: (network, input, what, asset) => {
      const r = parseEvmAmount(input, what, network, asset)
      return r.token ? { value: r.value, asset: r.token } : { value: r.value }
    },
  },
  bitcoin: {
    kind: 'bitcoin', namespace: FAMILY_NAMESPACES.bitcoin,
    load: async (ctx) => (await import('./bitcoin/scheme.js')).load(ctx),
    details: (c) => {
      const b = bitcoinChannel(c).data
      return [['expiry', { time: b.expiry }], ['script', b.p2sh ? 'P2SH' : 'P2WSH'], ['close fee', { amount: BigInt(b.closeFee) }]]
    },
    // contract: the deposit address, as v3 printed it; no settle delay (the refund waits for the expiry)
    statusJson: (c) => {
      const { depositAddress, expiry } = bitcoinChannel(c).data
      return { contract: depositAddress, settleDelay: 0, expiry }
    },
    closeReserve: (c) => BigInt(bitcoinChannel(c).data.closeFee),
    asset: bitcoinAsset,
    parseAmount: parseBitcoinAmount,
  },
}
