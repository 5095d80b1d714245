/**
 * The EVM family's {@link LaneScheme} (core/scheme): `voucher merge` and the
 * `reconcile request|answer|accept` commands over families/evm/lanes.ts.
 */
import type { AddResult, LaneScheme, MergeOptions, WalletContext } from '../../core/scheme/index.js'
import type { ChannelRecord, VoucherRecord } from '../../core/store/index.js'
import type { ReconcileRequest, ReconcileResponse } from '../../core/channel/reconcile.js'
import type { Voucher } from '../../core/channel/voucher.js'
import type { ChannelManager } from './manager.js'
import { acceptReconcile, answerReconcile, createMergeVoucher, reconcileRequestOf } from './lanes.js'
import { addVoucher } from './operations.js'
import { minDiscountOf } from '../../core/config.js'

/**
 * @param resolve - the channel a voucher command names (a payee may name one it has not stored yet)
 */
export function evmLaneOps(m: ChannelManager, ctx: WalletContext, resolve: (prefix: string, v: Voucher) => Promise<ChannelRecord>): LaneScheme {
  return {
    async mergeVoucher(prefix: string, o: MergeOptions): Promise<{ voucher: VoucherRecord; sum: bigint }> {
      return createMergeVoucher(m, m.channel(prefix), o)
    },
    answerReconcile(request: ReconcileRequest): Promise<ReconcileResponse> {
      return answerReconcile(m, request, minDiscountOf(ctx.config))
    },
    async reconcileRequest(prefix: string, reqVal?: bigint) {
      return reconcileRequestOf(m, m.channel(prefix), reqVal)
    },
    async acceptReconcile(request: ReconcileRequest, response: ReconcileResponse): Promise<AddResult> {
      const c = await resolve(request.channelId, request.vouchers[0])
      const delta = await acceptReconcile(m, c, request, response, (v, minDelta) => addVoucher(m, c, v, minDelta))
      return { channelId: c.id, voucher: response.combined!, delta, asset: c.asset }
    },
  }
}
