/**
 * Voucher repository: persists vouchers (payer: the ones we signed; payee: the ones we
 * accepted). Reads use safe integers so lanes and nonces come back as bigint.
 *
 * Both families share the `vouchers` table and its columns (schema.ts). An EVM voucher
 * fills every column. A Bitcoin payment keeps its half-signed payment transaction (hex)
 * in `signature`, and the EVM-only columns hold their "none" values: `secret_hash` the
 * zero hash, `time_lock_min`, `time_lock_max` and `min_settle_at` 0, `merges` `[]`. A
 * row carries no tag of its own: its `network`'s CAIP-2 namespace says which family it
 * is (`familyOfNetwork`: `eip155` → EVM voucher, `bip122` → Bitcoin payment), and a read
 * returns the {@link Voucher} variant of that family.
 */
import type { Db } from './db.js'
import { StatementCache } from './statements.js'
import { StoreError } from '../errors.js'
import { familyOfNetwork } from '../config-fields.js'
import { ZERO_HASH, effectiveLanes, type Voucher } from '../channel/voucher.js'

/** What the store keeps beside a voucher. */
export interface VoucherBookkeeping {
  network: string
  /** Payee: price of the request it paid for (base units); undefined for a top-up. */
  price?: bigint
  /** Payer: the merchant acknowledged it. */
  delivered: boolean
  /** Transaction that redeemed it on chain. */
  submittedTx?: string
  /** Payee: the preimage of a hash-locked voucher's `secretHash` (0x hex), stored with it; undefined without a lock. */
  secret?: string
  /** A hash-locked voucher whose time lock passed unredeemed (issue 12): it can never be redeemed and counts for nothing. */
  expired?: true
  createdAt: number
}

/** A stored voucher with its bookkeeping: a {@link Voucher} of the row's family (`VoucherRecord<EvmVoucher>` for one family's). */
export type VoucherRecord<V extends Voucher = Voucher> = V & VoucherBookkeeping

interface Row {
  network: string
  channel_id: string
  lane: bigint
  nonce: bigint
  amount: string
  secret_hash: string
  time_lock_min: bigint
  time_lock_max: bigint
  min_settle_at: bigint
  merges: string
  signature: string
  price: string | null
  delivered: bigint
  submitted_tx: string | null
  secret: string | null
  expired: bigint
  created_at: bigint
}

/** @throws {StoreError} a row of a network whose namespace no family has (written by another build) */
function fromRow(r: Row): VoucherRecord {
  const bookkeeping: VoucherBookkeeping = {
    network: r.network,
    price: r.price === null ? undefined : BigInt(r.price),
    delivered: r.delivered === 1n,
    submittedTx: r.submitted_tx ?? undefined,
    ...(r.secret === null ? {} : { secret: r.secret }),
    ...(r.expired === 1n ? { expired: true as const } : {}),
    createdAt: Number(r.created_at),
  }
  const family = familyOfNetwork(r.network)
  if (family === 'bitcoin') {
    if (r.lane !== 0n) throw new StoreError(`A stored Bitcoin payment of channel ${r.channel_id} is on lane ${r.lane}; Bitcoin channels have lane 0 only.`)
    return { family, channelId: r.channel_id, lane: 0n, nonce: r.nonce, amount: BigInt(r.amount), paymentTx: r.signature, ...bookkeeping }
  }
  if (family !== 'evm') throw new StoreError(`A stored voucher is on network "${r.network}", of no chain family this build knows.`)
  return {
    family,
    channelId: r.channel_id,
    lane: r.lane,
    nonce: r.nonce,
    amount: BigInt(r.amount),
    secretHash: r.secret_hash,
    timeLockMin: r.time_lock_min,
    timeLockMax: r.time_lock_max,
    minSettleAt: r.min_settle_at,
    merges: (JSON.parse(r.merges) as { lane: string; nonce: string }[]).map((m) => ({ lane: BigInt(m.lane), nonce: BigInt(m.nonce) })),
    signature: r.signature,
    ...bookkeeping,
  }
}

/** The columns of a voucher (see the module comment for a Bitcoin payment's). */
function columns(v: Voucher) {
  if (v.family === 'bitcoin') return { secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: '[]', signature: v.paymentTx }
  const merges = JSON.stringify(v.merges.map((m) => ({ lane: m.lane.toString(), nonce: m.nonce.toString() })))
  return { secretHash: v.secretHash, timeLockMin: v.timeLockMin, timeLockMax: v.timeLockMax, minSettleAt: v.minSettleAt, merges, signature: v.signature }
}

export class VoucherRepository {
  private readonly sql: StatementCache

  constructor(db: Db) {
    this.sql = new StatementCache(db)
  }

  /**
   * Inserts a voucher; the (network, channel, lane, nonce) primary key refuses a reused nonce.
   * @param network - the CAIP-2 id of the channel's network, whose namespace is the voucher's family
   * @throws {StoreError} a voucher of another family than `network`'s (it would be read back as the wrong one)
   */
  /**
   * @param extra.secret - a hash-locked voucher's preimage (0x hex), which the caller has checked against its `secretHash`
   */
  insert(network: string, v: Voucher, extra: { price?: bigint; delivered?: boolean; secret?: string } = {}): void {
    if (familyOfNetwork(network) !== v.family) throw new StoreError(`Cannot store ${v.family === 'evm' ? 'an EVM voucher' : 'a Bitcoin payment'} on network "${network}".`)
    const c = columns(v)
    this.sql
      .get(
        `INSERT INTO vouchers (network, channel_id, lane, nonce, amount, secret_hash, time_lock_min, time_lock_max,
           min_settle_at, merges, signature, price, delivered, secret, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        network, v.channelId, v.lane, v.nonce, v.amount.toString(), c.secretHash, c.timeLockMin, c.timeLockMax,
        c.minSettleAt, c.merges, c.signature, extra.price === undefined ? null : extra.price.toString(), extra.delivered ? 1 : 0,
        extra.secret ?? null, Math.floor(Date.now() / 1000),
      )
  }

  /** The voucher with the highest nonce on a lane, expired ones (a hash lock that passed unredeemed) left out. */
  latest(network: string, channelId: string, lane: bigint): VoucherRecord | undefined {
    const r = this.sql
      .get('SELECT * FROM vouchers WHERE network = ? AND channel_id = ? AND lane = ? AND expired = 0 ORDER BY nonce DESC LIMIT 1')
      .safeIntegers(true)
      .get(network, channelId, lane) as Row | undefined
    return r && fromRow(r)
  }

  /**
   * The latest voucher of every lane of a channel (the best spendable set), by lane; expired ones left out.
   * Skip-scans the primary-key index lane by lane (a recursive CTE), so the cost grows
   * with the number of lanes, not with the number of vouchers the channel has seen.
   */
  latestPerLane(network: string, channelId: string): VoucherRecord[] {
    const rows = this.sql
      .get(
        `WITH RECURSIVE lanes(lane) AS (
           SELECT (SELECT MIN(lane) FROM vouchers WHERE network = @network AND channel_id = @channelId)
           UNION ALL
           SELECT (SELECT MIN(lane) FROM vouchers WHERE network = @network AND channel_id = @channelId AND lane > lanes.lane)
             FROM lanes WHERE lanes.lane IS NOT NULL)
         SELECT v.* FROM lanes JOIN vouchers v ON v.rowid = (
           SELECT rowid FROM vouchers WHERE network = @network AND channel_id = @channelId AND lane = lanes.lane AND expired = 0 ORDER BY nonce DESC LIMIT 1)
         ORDER BY v.lane`,
      )
      .safeIntegers(true)
      .all({ network, channelId }) as Row[]
    return rows.map(fromRow)
  }

  /** Every voucher of a channel that merges other lanes (EVM merge vouchers; few), by lane then nonce. */
  mergers(network: string, channelId: string): VoucherRecord[] {
    const rows = this.sql
      .get("SELECT * FROM vouchers WHERE network = ? AND channel_id = ? AND merges != '[]' ORDER BY lane, nonce")
      .safeIntegers(true)
      .all(network, channelId) as Row[]
    return rows.map(fromRow)
  }

  /**
   * The latest voucher of every lane that a merge has not superseded ({@link effectiveLanes}):
   * what the payee can redeem, and what the payer has promised.
   */
  effectivePerLane(network: string, channelId: string): VoucherRecord[] {
    return effectiveLanes(this.latestPerLane(network, channelId), this.mergers(network, channelId))
  }

  /** All vouchers of a channel, by lane then nonce. */
  list(network: string, channelId: string): VoucherRecord[] {
    const rows = this.sql
      .get('SELECT * FROM vouchers WHERE network = ? AND channel_id = ? ORDER BY lane, nonce')
      .safeIntegers(true)
      .all(network, channelId) as Row[]
    return rows.map(fromRow)
  }

  count(network: string, channelId: string): number {
    return Number((this.sql.get('SELECT COUNT(*) AS n FROM vouchers WHERE network = ? AND channel_id = ?').get(network, channelId) as { n: number }).n)
  }

  /** Marks a voucher delivered. @returns whether the voucher is stored */
  markDelivered(network: string, channelId: string, lane: bigint, nonce: bigint): boolean {
    return this.sql.get('UPDATE vouchers SET delivered = 1 WHERE network = ? AND channel_id = ? AND lane = ? AND nonce = ?').run(network, channelId, lane, nonce).changes === 1
  }

  /** One stored voucher, expired or not. */
  get(network: string, channelId: string, lane: bigint, nonce: bigint): VoucherRecord | undefined {
    const r = this.sql.get('SELECT * FROM vouchers WHERE network = ? AND channel_id = ? AND lane = ? AND nonce = ?').safeIntegers(true).get(network, channelId, lane, nonce) as Row | undefined
    return r && fromRow(r)
  }

  /** The highest nonce stored on a lane, expired vouchers included (a new voucher goes above it); 0n for none. */
  maxNonce(network: string, channelId: string, lane: bigint): bigint {
    const r = this.sql.get('SELECT MAX(nonce) AS n FROM vouchers WHERE network = ? AND channel_id = ? AND lane = ?').safeIntegers(true).get(network, channelId, lane) as { n: bigint | null }
    return r.n ?? 0n
  }

  /**
   * Hash-locked vouchers not redeemed nor expired whose `timeLockMax` is below `before` (unix seconds): the
   * candidates of the expiry sweep (index `vouchers_locked`), each still to be checked on chain.
   */
  lockedBefore(network: string, before: bigint): VoucherRecord[] {
    const rows = this.sql
      .get(`SELECT * FROM vouchers WHERE network = ? AND secret_hash != '${ZERO_HASH}' AND expired = 0 AND submitted_tx IS NULL
              AND time_lock_max != 0 AND time_lock_max < ? ORDER BY channel_id, lane, nonce`)
      .safeIntegers(true)
      .all(network, before) as Row[]
    return rows.map(fromRow)
  }

  /** Records the secret of a stored hash-locked voucher (the hub, once the payee revealed it). @returns whether the voucher is stored */
  setSecret(network: string, channelId: string, lane: bigint, nonce: bigint, secret: string): boolean {
    return this.sql.get('UPDATE vouchers SET secret = ? WHERE network = ? AND channel_id = ? AND lane = ? AND nonce = ?').run(secret, network, channelId, lane, nonce).changes === 1
  }

  /**
   * Marks a hash-locked voucher expired: its `timeLockMax` is behind the chain's latest block and
   * it was not redeemed, so the contract will never take it (caller checks both). @returns whether this call marked it
   */
  markExpired(network: string, channelId: string, lane: bigint, nonce: bigint): boolean {
    return this.sql.get('UPDATE vouchers SET expired = 1 WHERE network = ? AND channel_id = ? AND lane = ? AND nonce = ? AND expired = 0 AND submitted_tx IS NULL').run(network, channelId, lane, nonce).changes === 1
  }

  /**
   * Marks a voucher redeemed by `tx`, only if it was not already (idempotent redeem).
   * @returns whether this call marked it
   */
  markSubmitted(network: string, channelId: string, lane: bigint, nonce: bigint, tx: string): boolean {
    return (
      this.sql
        .get('UPDATE vouchers SET submitted_tx = ? WHERE network = ? AND channel_id = ? AND lane = ? AND nonce = ? AND submitted_tx IS NULL')
        .run(tx, network, channelId, lane, nonce).changes === 1
    )
  }
}
