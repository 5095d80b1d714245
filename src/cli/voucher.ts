/** Shared bits of the `channels voucher …` commands. */
import { Args } from '@oclif/core'
import { encodeVoucher, anyVoucherToWire, type Voucher } from '../core/channel/voucher.js'
import { decodeVoucher } from '../core/channel/voucher-wire.js'
import type { ChannelRecord, VoucherRecord } from '../core/store/index.js'
import type { ChannelManager } from '../families/evm/manager.js'
import { NotFoundError } from '../core/errors.js'
import { idMatchesPrefix } from '../core/channel/reader.js'

export const channelArg = Args.string({ required: true, description: 'Channel id or unique prefix.' })
export const voucherArg = Args.string({ required: true, description: 'Encoded voucher (as printed by `voucher create` or `pay --no-deliver`).' })

/** Decodes a voucher argument. @throws {UsageError} naming what is wrong */
export function readVoucher(token: string): Voucher {
  return decodeVoucher(token.trim())
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

/**
 * The channel a voucher command names. A payee may name a channel it has not seen yet:
 * when the voucher's channel id starts with the prefix, the channel is learned from
 * the chain (it must pay this wallet's key), as Lotus `PaychVoucherAdd` does.
 */
export async function resolveChannel(m: ChannelManager, prefix: string, v: Voucher): Promise<ChannelRecord> {
  try {
    return m.channel(prefix)
  } catch (err) {
    if (!(err instanceof NotFoundError) || !idMatchesPrefix(prefix, v.channelId)) throw err
    const { learnChannel } = await import('../families/evm/inbound.js')
    return learnChannel(m, v.channelId, { minSettleDelay: 1 })
  }
}
