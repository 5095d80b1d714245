/**
 * The voucher repository (src/core/store/vouchers.ts) on a real SQLite file: both families
 * share the `vouchers` columns, a Bitcoin payment's transaction in `signature` and the
 * EVM-only columns at their "none" values, and a read tags each row by the CAIP-2
 * namespace of its network (`familyOfNetwork`), so what is written comes back equal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/core/store/index.js';
import { StoreError } from '../../src/core/errors.js';
import { ZERO_HASH, bitcoinPayment, type EvmVoucher } from '../../src/core/channel/voucher.js';

const EVM = 'eip155:31337';
const BTC = 'bip122:530827f38f93b43ed12af0b3ad25a288';
const ID = '0x' + '3f'.repeat(32);
let home: string;
let store: Store;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'channels-vouchers-'));
  store = Store.open(home);
  for (const [network, family] of [[EVM, 'evm'], [BTC, 'bitcoin']] as const) {
    store.channels.insert({
      network, id: ID, family, direction: 'inbound', payer: 'payer', payee: 'payee', asset: '0x0',
      deposit: 100_000n, redeemed: 0n, charged: 0n, state: 'open', keyName: 'k', data: {},
    });
  }
});
afterEach(() => {
  store.close();
  rmSync(home, { recursive: true, force: true });
});

const evm: EvmVoucher = {
  family: 'evm', channelId: ID, lane: 2n, nonce: 7n, amount: 10n ** 20n, secretHash: '0x' + 'ab'.repeat(32),
  timeLockMin: 1n, timeLockMax: 2n, minSettleAt: 3n, merges: [{ lane: 1n, nonce: 4n }], signature: '0x' + '11'.repeat(65),
};
const payment = bitcoinPayment(ID, 3n, 5000n, '02' + 'cd'.repeat(80));

describe('VoucherRepository', () => {
  it('reads back each family\'s voucher, tagged by its network', () => {
    store.vouchers.insert(EVM, evm, { price: 5n });
    store.vouchers.insert(BTC, payment, { delivered: true });
    expect(store.vouchers.latest(EVM, ID, 2n)).toEqual({ ...evm, network: EVM, price: 5n, delivered: false, submittedTx: undefined, createdAt: expect.any(Number) });
    expect(store.vouchers.latest(BTC, ID, 0n)).toEqual({ ...payment, network: BTC, price: undefined, delivered: true, submittedTx: undefined, createdAt: expect.any(Number) });
    expect(store.vouchers.list(BTC, ID).map((v) => v.family)).toEqual(['bitcoin']);
    expect(store.vouchers.latestPerLane(EVM, ID).map((v) => v.family)).toEqual(['evm']);
  });

  it('keeps a payment\'s transaction in `signature` and the EVM-only columns at none (the columns of every earlier version)', () => {
    store.vouchers.insert(BTC, payment);
    const row = store.db.prepare('SELECT lane, secret_hash, time_lock_min, time_lock_max, min_settle_at, merges, signature FROM vouchers WHERE network = ?').get(BTC);
    expect(row).toEqual({ lane: 0, secret_hash: ZERO_HASH, time_lock_min: 0, time_lock_max: 0, min_settle_at: 0, merges: '[]', signature: payment.paymentTx });
  });

  it('refuses a voucher of another family than its network\'s, and reads no row of an unknown namespace', () => {
    expect(() => store.vouchers.insert(EVM, payment)).toThrow(StoreError);
    expect(() => store.vouchers.insert(BTC, evm)).toThrow(/Cannot store an EVM voucher on network "bip122:/);
    expect(store.vouchers.count(EVM, ID) + store.vouchers.count(BTC, ID)).toBe(0);
    store.db.pragma('foreign_keys = OFF');
    store.db.prepare(`INSERT INTO vouchers (network, channel_id, lane, nonce, amount, secret_hash, time_lock_min, time_lock_max, min_settle_at, merges, signature, delivered, created_at)
      VALUES ('solana:x', ?, 0, 1, '1', ?, 0, 0, 0, '[]', '00', 0, 0)`).run(ID, ZERO_HASH);
    expect(() => store.vouchers.list('solana:x', ID)).toThrow(/of no chain family this build knows/);
  });
});
