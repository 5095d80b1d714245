/**
 * The payer's record of the merchant's view of a voucher it signed (a receipt, a
 * corrective 402, `sync`), shared by the EVM and Bitcoin managers.
 */
import type { Store, ChannelRecord } from '../store/index.js'
import type { Voucher } from './voucher.js'
import { spentAcrossLanes } from './voucher.js'

/**
 * Marks `v` delivered, storing it if the database lacks it (restored from an older
 * copy), and raises `charged` — believed only up to what the vouchers this wallet
 * signed add up to, since no merchant can have charged more than that. The caller
 * checks that vouchers which came from the merchant carry the payer's signature.
 * @param charged - the merchant's claim, base units
 * @returns whether the voucher was new here or `charged` rose
 */
export function acknowledgeVoucher(store: Store, c: ChannelRecord, v: Voucher, charged: bigint): boolean {
  return store.immediate(() => {
    const known = store.vouchers.markDelivered(c.network, c.id, v.lane, v.nonce)
    if (!known) store.vouchers.insert(c.network, v, { delivered: true })
    const authorized = spentAcrossLanes(store.vouchers.latestPerLane(c.network, c.id))
    const believed = charged < authorized ? charged : authorized
    const ch = store.channels.get(c.network, c.id)!
    const raised = believed > ch.charged
    if (raised) store.channels.update(c.network, c.id, { charged: believed })
    return !known || raised
  })
}
