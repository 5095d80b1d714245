/**
 * The registry of chain families (DESIGN §2): one line per family. Each family's code,
 * and its chain libraries (ethers, bitcoinjs-lib), load only when a command asks for
 * its scheme, so `channels status` starts without them. A new family is a folder
 * beside these and one line here.
 */
import type { ChannelFamily, FamilyKind } from '../core/scheme/index.js'
import { FAMILY_NAMESPACES } from '../core/config-fields.js'

export const families: Record<FamilyKind, ChannelFamily> = {
  evm: {
    kind: 'evm', namespace: FAMILY_NAMESPACES.evm,
    load: async (ctx) => (await import('./evm/scheme.js')).load(ctx),
    details: (c) => [['settle delay', `${c.settleDelay} s`], ['settle at', c.settleAt ? { time: c.settleAt } : '-']],
  },
  bitcoin: {
    kind: 'bitcoin', namespace: FAMILY_NAMESPACES.bitcoin,
    load: async (ctx) => (await import('./bitcoin/scheme.js')).load(ctx),
    details: (c) => [['expiry', { time: c.expiry ?? 0 }], ['script', c.bitcoin?.p2sh ? 'P2SH' : 'P2WSH'], ['close fee', { amount: BigInt(c.bitcoin?.closeFee ?? 0) }]],
  },
}
