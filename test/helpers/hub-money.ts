/**
 * Reading the three homes of a payment through a hub (issue 12) straight from their SQLite files,
 * and the gas an address paid on chain: what the hub crash and concurrency tests check their
 * invariants and the money to the wei with.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { JsonRpcProvider } from 'ethers';

/** A row of `locked_payments`, as stored. */
export interface LockRow {
  hash: string;
  role: 'payer' | 'hub' | 'payee';
  payee: string;
  amount: string;
  fee: string;
  in_channel: string | null;
  in_lane: number | null;
  in_nonce: number | null;
  out_channel: string | null;
  out_lane: number | null;
  out_nonce: number | null;
  secret: string | null;
  state: 'pending' | 'fulfilled' | 'refused' | 'expired';
  in_unlocked: number;
  out_unlocked: number;
}

/** A row of `vouchers`, as stored. */
export interface VoucherRow {
  channel_id: string;
  lane: number;
  nonce: number;
  amount: string;
  secret_hash: string;
  time_lock_max: number;
  signature: string;
  secret: string | null;
  expired: number;
}

function read<T>(home: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Rows of a wallet's database for `sql`, exact integers as strings. */
export function rows(home: string, sql: string, ...params: unknown[]): any[] {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return JSON.parse(JSON.stringify(db.prepare(sql).safeIntegers(true).all(...params), (_, x) => (typeof x === 'bigint' ? x.toString() : x)));
  } finally {
    db.close();
  }
}

/** Every payment row of a home, by hash. */
export function lockRows(home: string): Map<string, LockRow> {
  return new Map(read<LockRow>(home, 'SELECT * FROM locked_payments').map((r) => [r.hash, r]));
}

/** Every voucher of `channelId` in a home, by lane then nonce. */
export function voucherRows(home: string, channelId: string): VoucherRow[] {
  return read<VoucherRow>(home, 'SELECT * FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce', channelId);
}

/** The latest voucher of each lane, expired ones left out (an expired lock leaves its lane worth the voucher before it). */
export function latestPerLane(rows: VoucherRow[]): Map<number, VoucherRow> {
  const m = new Map<number, VoucherRow>();
  for (const v of rows) if (!v.expired && (m.get(v.lane)?.nonce ?? -1) < v.nonce) m.set(v.lane, v);
  return m;
}

/**
 * How a lane of a channel carrying payments through a hub must read (lanes are reused, one conditional voucher at a
 * time): by nonce, each conditional voucher adds `value` to the lane's previous (non-expired) voucher, and each
 * unconditional one repeats the amount before it (the simplification). @returns what breaks the rule (empty when none)
 */
export function laneSteps(rows: VoucherRow[], value: bigint): string[] {
  const out: string[] = [];
  const previous = new Map<number, VoucherRow>();
  for (const v of rows) {
    const before = previous.get(v.lane);
    const base = BigInt(before?.amount ?? '0');
    if (v.secret_hash !== ZERO_HASH) {
      if (before && before.secret_hash !== ZERO_HASH) out.push(`lane ${v.lane} nonce ${v.nonce}: a conditional voucher on a lane whose voucher ${before.nonce} is still conditional`);
      if (BigInt(v.amount) - base !== value) out.push(`lane ${v.lane} nonce ${v.nonce}: adds ${BigInt(v.amount) - base}, not ${value}`);
    } else if (BigInt(v.amount) !== base) out.push(`lane ${v.lane} nonce ${v.nonce}: an unconditional voucher of ${v.amount} after ${base}`);
    if (!v.expired) previous.set(v.lane, v);
  }
  return out;
}

export const ZERO_HASH = '0x' + '0'.repeat(64);

/**
 * Where two homes hold the same (lane, nonce) of a channel it is the same voucher (amount, lock,
 * signature); each home holds one per key. @returns a list of what differs (empty when they agree)
 */
export function disagreements(a: VoucherRow[], b: VoucherRow[]): string[] {
  const out: string[] = [];
  for (const rows of [a, b]) {
    const keys = rows.map((v) => `${v.lane}/${v.nonce}`);
    if (new Set(keys).size !== keys.length) out.push('a (lane, nonce) is stored twice');
  }
  const byKey = new Map(a.map((v) => [`${v.lane}/${v.nonce}`, v]));
  for (const v of b) {
    const w = byKey.get(`${v.lane}/${v.nonce}`);
    if (!w) continue;
    const fields = ['amount', 'secret_hash', 'time_lock_max', 'signature'] as const;
    for (const f of fields) if (String(w[f]) !== String(v[f])) out.push(`lane ${v.lane} nonce ${v.nonce}: ${f} ${w[f]} ≠ ${v[f]}`);
  }
  return out;
}

/** The vouchers of both hops of payments through a hub, as each home holds them (rows of {@link voucherRows}). */
export interface HopVouchers {
  /** payer → hub, in the payer's home and in the hub's. */
  payerVouchers: VoucherRow[];
  hubIn: VoucherRow[];
  /** hub → shop, in the hub's home and in the shop's. */
  hubOut: VoucherRow[];
  shopIn: VoucherRow[];
}

/**
 * Both hops' vouchers in the three homes, and what the two ends of each hop hold differently ({@link disagreements};
 * empty when they agree). @param homes - the homes of payer, hub and shop
 */
export function hopVouchers(homes: { payer: string; hub: string; shop: string }, payerChannel: string, hubChannel: string): HopVouchers & { differ: string[] } {
  const v = {
    payerVouchers: voucherRows(homes.payer, payerChannel), hubIn: voucherRows(homes.hub, payerChannel),
    hubOut: voucherRows(homes.hub, hubChannel), shopIn: voucherRows(homes.shop, hubChannel),
  };
  return { ...v, differ: [...disagreements(v.payerVouchers, v.hubIn), ...disagreements(v.hubOut, v.shopIn)] };
}

/**
 * What each of `addresses` paid for gas in blocks after `fromBlock` (receipts' gasUsed ×
 * effectiveGasPrice), in wei.
 */
export async function gasPaid(p: JsonRpcProvider, addresses: string[], fromBlock: number): Promise<Map<string, bigint>> {
  const paid = new Map(addresses.map((a) => [a.toLowerCase(), 0n]));
  const latest = await p.getBlockNumber();
  for (let n = fromBlock + 1; n <= latest; n++) {
    const block = await p.getBlock(n, true);
    for (const tx of block!.prefetchedTransactions) {
      const from = tx.from.toLowerCase();
      if (!paid.has(from)) continue;
      const r = await p.getTransactionReceipt(tx.hash);
      paid.set(from, paid.get(from)! + r!.gasUsed * r!.gasPrice);
    }
  }
  return paid;
}
