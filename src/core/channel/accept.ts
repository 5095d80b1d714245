/**
 * What every family's payee shares when it judges a voucher (paywall, `voucher check`,
 * `voucher add`): the refusal error, the check's result, a channel learned from the
 * chain that is stored only together with its first accepted voucher (DESIGN §7: bad
 * input changes no stored state), and the refund of a request whose handler failed.
 */
import { ChannelsError, ChannelStateError, ExitCode } from '../errors.js'
import type { ChannelRecord, Store, VoucherRecord } from '../store/index.js'
import { short } from './reader.js'

/** Why a voucher was refused; `corrective` ones carry our state so the payer can resync. */
export class VoucherRefusedError extends ChannelsError {
  override name = 'Paywall.VoucherRefusedError'
  override code = 'VOUCHER_REFUSED'
  override exitCode: ExitCode = ExitCode.paymentRefused
  constructor(
    message: string,
    readonly reason: string,
    /** The channel's state to send back in a corrective 402, when the channel is ours. */
    readonly corrective?: { channel: ChannelRecord; last?: VoucherRecord },
  ) {
    super(message, { data: { reason } })
  }
}

/** Result of `voucher check`. Amounts in base units. */
export interface VoucherCheck {
  valid: boolean
  /** Why not, when invalid. */
  reason?: string
  /** The voucher was signed by this wallet (we are the payer). */
  own: boolean
  /**
   * What redeeming it adds to the channel's redeemed total (0 when invalid): on the payer's
   * side over the chain as it is; on the payee's, over the chain once the vouchers it
   * already holds are redeemed.
   */
  redeemable: bigint
  /** What it adds over the best voucher already stored on its lane. */
  delta: bigint
  /**
   * Valid and redeemable now with what was given (Lotus `PaychVoucherCheckSpendable`): false for
   * a valid hash-locked voucher checked without its secret ("spendable only with the secret").
   */
  spendable?: boolean
}

/** A channel read from the chain (EVM) or from an `open` payload checked against the node (Bitcoin) that may not be stored yet: the caller stores it with its first voucher, or not at all ({@link storeLearned}). */
export type LearnedChannel<D = unknown> = ChannelRecord<D> & { stored: boolean }

/**
 * Inside a write transaction: the channel's stored row, inserting a learned one first.
 * @returns the row as stored
 */
export function storeLearned(store: Store, c: ChannelRecord & { stored?: boolean }): ChannelRecord {
  const row = store.channels.get(c.network, c.id)
  if (row) return row
  const { stored: _stored, createdAt: _c, updatedAt: _u, ...fields } = c
  return store.channels.insert(fields)
}

/** Gives back the price of a request whose handler failed (nothing is charged). */
export function refundCharge(m: { store: Store }, channel: ChannelRecord, price: bigint): void {
  m.store.immediate(() => {
    const ch = m.store.channels.get(channel.network, channel.id)
    if (!ch) throw new ChannelStateError(`Channel ${short(channel.id)} vanished from the database.`)
    m.store.channels.update(ch.network, ch.id, { charged: ch.charged >= price ? ch.charged - price : 0n })
  })
}
