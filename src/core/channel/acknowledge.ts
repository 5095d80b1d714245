/**
 * The payer's record of the merchant's view of a voucher it signed (a receipt, a
 * corrective 402, `sync`), shared by the EVM and Bitcoin managers.
 *
 * Rules (issue 9 §2, DESIGN §13): never adopt a voucher this wallet did not sign (the
 * callers check the signature), and never let an adopted voucher make the wallet sign
 * below one it has signed: a lane's stored vouchers keep amounts that never fall as
 * nonces rise, so the next voucher (`latest nonce + 1`, at least the latest amount) is
 * above every one of them.
 */
import type { Store, ChannelRecord } from '../store/index.js'
import type { Voucher } from './voucher.js'
import { INDEX_MAX, sameVoucher, spentAcrossLanes } from './voucher.js'

/**
 * Why `v` (a voucher the merchant says this wallet signed, signature already checked)
 * cannot join the lane's stored vouchers, or undefined when it can (or is one of them):
 * it differs from the stored voucher of the same nonce, pays less than a stored voucher
 * of a lower nonce, or more than one of a higher nonce. Such a voucher was not made by
 * this wallet's history (the key is used by another wallet, or the database was restored
 * and nonces reused); adopting it would break the lane's order. Nor can a voucher with the
 * last storable nonce (2^63 − 1) join: no voucher could follow it on its lane.
 * @example adoptionConflict(store, c, v) // "it pays 500 at nonce 3, more than this wallet's later voucher 5 (100)"
 */
export function adoptionConflict(store: Store, c: ChannelRecord, v: Voucher): string | undefined {
  if (v.nonce >= INDEX_MAX) return `its nonce ${v.nonce} leaves no nonce for a next voucher on lane ${v.lane}`
  // The lane's amounts never fall as nonces rise, so above the latest nonce only the latest matters
  // (the receipt of every purchase lands here with the latest voucher: one indexed read).
  const latest = store.vouchers.latest(c.network, c.id, v.lane)
  if (!latest || v.nonce > latest.nonce) {
    return latest && latest.amount > v.amount ? `it pays ${v.amount} at nonce ${v.nonce}, less than this wallet's earlier voucher ${latest.nonce} (${latest.amount})` : undefined
  }
  for (const s of v.nonce === latest.nonce ? [latest] : store.vouchers.list(c.network, c.id)) {
    if (s.lane !== v.lane) continue
    if (s.nonce === v.nonce) {
      if (!sameVoucher(s, v)) return `it differs from this wallet's voucher ${s.nonce} on lane ${s.lane} (${s.amount})`
    } else if (s.nonce < v.nonce && s.amount > v.amount) {
      return `it pays ${v.amount} at nonce ${v.nonce}, less than this wallet's earlier voucher ${s.nonce} (${s.amount})`
    } else if (s.nonce > v.nonce && s.amount < v.amount) {
      return `it pays ${v.amount} at nonce ${v.nonce}, more than this wallet's later voucher ${s.nonce} (${s.amount})`
    }
  }
  return undefined
}

/**
 * Marks `v` delivered, storing it if the database lacks it (restored from an older
 * copy), and raises `charged` — believed only up to what the vouchers this wallet
 * signed add up to, since no merchant can have charged more than that. The caller
 * checks that vouchers which came from the merchant carry the payer's signature; a
 * voucher that {@link adoptionConflict} refuses changes nothing.
 * @param charged - the merchant's claim, base units
 * @returns whether the voucher was new here or `charged` rose
 */
export function acknowledgeVoucher(store: Store, c: ChannelRecord, v: Voucher, charged: bigint): boolean {
  // Bookkeeping of what the merchant says: lost to a power cut, the merchant's next answer says it again (the voucher
  // itself was committed durably before it left). No fsync on the purchase's or the hub's path for it.
  return store.relaxed(() => {
    if (adoptionConflict(store, c, v)) return false
    const known = store.vouchers.markDelivered(c.network, c.id, v.lane, v.nonce)
    if (!known) store.vouchers.insert(c.network, v, { delivered: true })
    const authorized = spentAcrossLanes(store.vouchers.effectivePerLane(c.network, c.id))
    const believed = charged < authorized ? charged : authorized
    const ch = store.channels.get(c.network, c.id)!
    const raised = believed > ch.charged
    if (raised) store.channels.update(c.network, c.id, { charged: believed })
    return !known || raised
  })
}
