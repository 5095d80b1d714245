/** Shared bits of the `channels voucher …` commands. */
import { Args, Flags } from '@oclif/core'
import { UsageError } from '../core/errors.js'
import { encodeVoucher, anyVoucherToWire, type Voucher } from '../core/channel/voucher.js'
import { decodeVoucher } from '../core/channel/voucher-wire.js'
import type { VoucherRecord } from '../core/store/index.js'
import type { FamilyKind } from '../core/scheme/index.js'

export { channelArg } from './base.js'
/**
 * `--secret <hex>`: the preimage of a voucher's hash lock (`sha256(secret) == secretHash`, DESIGN §4),
 * checked as a 0x-prefixed even-length hex string (the contract takes bytes).
 */
export const secretFlag = Flags.string({
  summary: 'Preimage of the voucher\'s hash lock, 0x-prefixed hex (sha256 of it must equal the voucher\'s secretHash).',
  parse: async (s) => {
    const hex = s.startsWith('0x') ? s : `0x${s}`
    if (!/^0x(?:[0-9a-fA-F]{2}){1,1024}$/.test(hex)) throw new UsageError(`--secret must be hex bytes (e.g. 0x6869), not "${s}".`)
    return hex.toLowerCase()
  },
})

export const voucherArg = Args.string({ required: true, description: 'Encoded voucher (as printed by `voucher create` or `pay --no-deliver`).' })

/**
 * Decodes a voucher argument as a voucher of `family`, the family of the command's network
 * (`--network`), on whose channels it is checked, stored or redeemed.
 * @throws {UsageError} naming what is wrong (a token of the other family is malformed for this one)
 */
export function readVoucher(token: string, family: FamilyKind): Voucher {
  return decodeVoucher(token.trim(), family)
}

/** JSON shape of a voucher: wire fields + its encoding (+ bookkeeping when stored). */
export function voucherJson(v: Voucher | VoucherRecord) {
  const rec = v as Partial<VoucherRecord>
  return {
    ...anyVoucherToWire(v),
    encoded: encodeVoucher(v),
    ...(rec.createdAt !== undefined ? { delivered: Boolean(rec.delivered), submittedTx: rec.submittedTx ?? null, price: rec.price?.toString() ?? null } : {}),
  }
}
