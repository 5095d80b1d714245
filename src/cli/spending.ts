/**
 * The `--json` shapes of budgets and purchases (issue 13 §3): amounts as decimal strings of base
 * units, times as ISO 8601.
 */
import { parseAssetId } from '../core/asset.js'
import type { BudgetUse } from '../core/spending/budget.js'
import type { OriginTotal, Purchase } from '../core/spending/history.js'

/** A budget with its use: `{network, assetId, origin, period, limit, spent, remaining}`. */
export function budgetJson(b: BudgetUse) {
  return {
    network: b.network, assetId: b.assetId, origin: b.origin, period: b.period,
    limit: b.amount.toString(), spent: b.spent.toString(), remaining: b.remaining.toString(),
  }
}

/** A purchase as `history --json` lists it: scheme `channel` with its channel and voucher, `exact` with its EIP-3009 authorization (the others null). */
export function purchaseJson(p: Purchase) {
  return {
    id: p.id, time: new Date(p.createdAt * 1000).toISOString(), url: p.url, origin: p.origin, scheme: p.scheme, hub: p.hub ?? null,
    price: p.price.toString(), fee: p.fee.toString(), spent: p.spent.toString(), status: p.status,
    channelId: p.channelId ?? null, lane: p.lane?.toString() ?? null, nonce: p.nonce?.toString() ?? null, authorization: p.authorization ?? null,
    network: p.network, asset: p.asset, assetId: p.assetId,
    receipt: p.receipt ?? null, error: p.error ?? null,
  }
}

/** An origin's totals. */
export function totalJson(t: OriginTotal) {
  return { origin: t.origin, asset: t.asset, assetId: t.assetId, spent: t.spent.toString(), purchases: t.count }
}

/**
 * The token a CAIP-19 asset id names, as a channel's `asset` (`eip155:31337/erc20:0x…` → `0x…`), for
 * `BaseCommand.amount`; undefined for a native coin (`slip44`), which every family reads as its own.
 */
export function tokenOf(assetId: string): string | undefined {
  const { namespace, reference } = parseAssetId(assetId)
  return namespace === 'slip44' ? undefined : reference
}
