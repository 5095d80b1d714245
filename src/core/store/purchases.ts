/**
 * The record of spending (issue 13 §3; table `purchases`, schema.ts): one row per paid request
 * `buy` makes, inserted in the transaction of its voucher and updated with the merchant's answer.
 * What counts against budgets is `spent` (core/spending/budget.ts says when it is 0). Amounts are
 * bigint base units; times are unix seconds.
 */
import type { Db } from './db.js'
import { StatementCache } from './statements.js'

/**
 * `pending`: the voucher is committed, the merchant has not answered (yet, or ever: a timeout) ·
 * `paid`: the merchant served it (its receipt says it charged, or it sent none) · `not_charged`:
 * its receipt says it did not charge (the resource failed) · `refused`: it answered a 402.
 */
export type PurchaseStatus = 'pending' | 'paid' | 'not_charged' | 'refused'

export interface Purchase {
  id: number
  /** CAIP-2 id of the network paid on. */
  network: string
  /** The 402 entry's asset as it names it (EVM token address or the zero address; `sat`). */
  asset: string
  /** Its CAIP-19 id: what budgets count. */
  assetId: string
  url: string
  /** `new URL(url).origin`. */
  origin: string
  /** The x402 scheme paid: `channel` (a voucher on a channel) or `exact` (a one-off EIP-3009 authorization). */
  scheme: PurchaseScheme
  /** Through a hub: the hub's URL. */
  hub?: string
  /** The merchant's price, base units. */
  price: bigint
  /** The hub's fee, base units (0 when paid directly). */
  fee: bigint
  /** What counts against budgets, base units. */
  spent: bigint
  /**
   * Scheme `channel`: the payer's voucher, on the channel to the merchant or (through a hub) the conditional
   * one to the hub. Absent for scheme `exact`.
   */
  channelId?: string
  lane?: bigint
  nonce?: bigint
  /** Scheme `exact`: the EIP-3009 authorization signed (absent for `channel`). */
  authorization?: ExactAuthorization
  status: PurchaseStatus
  /** The merchant's PAYMENT-RESPONSE, decoded. */
  receipt?: unknown
  /** A refusal's reason. */
  error?: string
  createdAt: number
  updatedAt: number
}

/** The x402 schemes `buy` pays. */
export type PurchaseScheme = 'channel' | 'exact'

/**
 * An EIP-3009 `transferWithAuthorization` as signed for an `exact` purchase (x402's wire form): addresses
 * EIP-55, `value` base units of the token, `validAfter`/`validBefore` unix seconds, all decimal strings;
 * `nonce` the authorization's random bytes32 (0x hex), which the token marks used once it is redeemed.
 */
export interface ExactAuthorization {
  from: string
  to: string
  value: string
  validAfter: string
  validBefore: string
  nonce: string
}

interface Row {
  id: bigint
  network: string
  asset: string
  asset_id: string
  url: string
  origin: string
  scheme: PurchaseScheme
  hub: string | null
  price: string
  fee: string
  spent: string
  channel_id: string | null
  lane: bigint | null
  nonce: bigint | null
  authorization: string | null
  status: PurchaseStatus
  receipt: string | null
  error: string | null
  created_at: bigint
  updated_at: bigint
}

function fromRow(r: Row): Purchase {
  return {
    id: Number(r.id), network: r.network, asset: r.asset, assetId: r.asset_id, url: r.url, origin: r.origin, scheme: r.scheme,
    ...(r.hub === null ? {} : { hub: r.hub }), price: BigInt(r.price), fee: BigInt(r.fee), spent: BigInt(r.spent),
    ...(r.channel_id === null ? {} : { channelId: r.channel_id }), ...(r.lane === null ? {} : { lane: r.lane }), ...(r.nonce === null ? {} : { nonce: r.nonce }),
    ...(r.authorization === null ? {} : { authorization: JSON.parse(r.authorization) as ExactAuthorization }), status: r.status,
    ...(r.receipt === null ? {} : { receipt: JSON.parse(r.receipt) as unknown }), ...(r.error === null ? {} : { error: r.error }),
    createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  }
}

/** What a purchase is recorded with, in its voucher's transaction. */
export type NewPurchase = Omit<Purchase, 'id' | 'status' | 'receipt' | 'error' | 'createdAt' | 'updatedAt'> & { createdAt?: number }

/** Which purchases {@link PurchaseRepository.list} returns. */
export interface PurchaseFilter {
  network: string
  origin?: string
  /** Only purchases made at or after this unix time, seconds. */
  since?: number
}

export class PurchaseRepository {
  private readonly sql: StatementCache

  constructor(db: Db) {
    this.sql = new StatementCache(db)
  }

  /** Records a purchase as `pending`. @returns its id */
  insert(p: NewPurchase): number {
    const t = p.createdAt ?? Math.floor(Date.now() / 1000)
    const r = this.sql.get(
      `INSERT INTO purchases (network, asset, asset_id, url, origin, scheme, hub, price, fee, spent, channel_id, lane, nonce, authorization, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    ).run(p.network, p.asset, p.assetId, p.url, p.origin, p.scheme, p.hub ?? null, p.price.toString(), p.fee.toString(), p.spent.toString(),
      p.channelId ?? null, p.lane ?? null, p.nonce ?? null, p.authorization === undefined ? null : JSON.stringify(p.authorization), t, t)
    return Number(r.lastInsertRowid)
  }

  /** Records the merchant's answer to purchase `id`: its status, what counts, its receipt or refusal. @returns whether the row exists */
  answer(id: number, a: { status: PurchaseStatus; spent: bigint; receipt?: unknown; error?: string }): boolean {
    return this.sql.get('UPDATE purchases SET status = ?, spent = ?, receipt = ?, error = ?, updated_at = ? WHERE id = ?').run(
      a.status, a.spent.toString(), a.receipt === undefined ? null : JSON.stringify(a.receipt), a.error ?? null, Math.floor(Date.now() / 1000), id,
    ).changes === 1
  }

  get(id: number): Purchase | undefined {
    const r = this.sql.get('SELECT * FROM purchases WHERE id = ?').safeIntegers(true).get(id) as Row | undefined
    return r && fromRow(r)
  }

  /** Purchases of a network, newest first. */
  list(f: PurchaseFilter): Purchase[] {
    const rows = this.sql.get(`SELECT * FROM purchases WHERE network = ? AND (? IS NULL OR origin = ?) AND created_at >= ? ORDER BY id DESC`)
      .safeIntegers(true).all(f.network, f.origin ?? null, f.origin ?? null, f.since ?? 0) as Row[]
    return rows.map(fromRow)
  }

  /**
   * What purchases in `assetId` spent after `after` (unix seconds, exclusive; undefined: ever), from `origin` or,
   * undefined, from every origin; base units. Summed exactly (amounts exceed SQLite's integers).
   */
  spent(assetId: string, origin: string | undefined, after: number | undefined): bigint {
    const rows = this.sql.get(`SELECT spent FROM purchases WHERE asset_id = ? AND (? IS NULL OR origin = ?) AND created_at > ? AND spent != '0'`)
      .raw(true).all(assetId, origin ?? null, origin ?? null, after ?? -1) as [string][]
    let sum = 0n
    for (const [s] of rows) sum += BigInt(s)
    return sum
  }
}
