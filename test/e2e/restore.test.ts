/**
 * A payer restores an old backup of its database (DESIGN §6 point 4, corrective 402).
 * The payer buys 5 times from a real `channels serve`; its channels.db is backed up
 * (SQLite online backup) after purchase 2 and put back after purchase 5. The next
 * `channels buy` signs a stale nonce, gets a corrective 402 carrying the payer's own
 * last voucher, checks its own signature on it, catches up and pays: exit 0. The payee
 * never accepts a reused nonce or a lower amount and is paid exactly what it served.
 * A corrective 402 whose voucher is signed by another key is not adopted (exit 4).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { HDNodeWallet, ethers } from 'ethers';
import { voucherFromWire, voucherToWire } from '../../dist/index.js';
import { recoverVoucherSigner, signVoucher } from '../../dist/families/evm/index.js';
import { dbSnapshot, makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';

const PRICE = 1000n;
const CHAIN_ID = 31337n;

let chain: Chain;
let payee: TestWallet;
let payer: TestWallet;
let serve: Serve;
let channelId = '';
let contract = '';
const served: any[] = []; // JSON of every successful buy

const decode64 = (h: string) => JSON.parse(Buffer.from(h, 'base64').toString('utf8'));
const encode64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

function rows(home: string, sql: string, ...params: unknown[]): any[] {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

async function buy(url = `${serve.url}/weather`) {
  return payer.run(['buy', url, '--max-price', '5000', '--deposit', '1eth', '--yes', '--json']);
}

beforeAll(async () => {
  chain = await startChain();
  [payee, payer] = await Promise.all([makeWallet('shop', chain.anvil.rpcUrl), makeWallet('alice', chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(payee.address, '1'), chain.fund(payer.address, '5')]);
  serve = await startServe(payee, ['--price', PRICE.toString()]);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await chain?.stop();
});

describe('restoring an old payer database', () => {
  const backupDir = mkdtempSync(join(tmpdir(), 'channels-backup-'));
  const backup = join(backupDir, 'channels.db');

  it('5 purchases, backup after 2, restore after 5: the 6th buy resynchronizes and succeeds', async () => {
    for (let i = 1; i <= 5; i++) {
      const r = await buy();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json.status).toBe(200);
      expect(r.json.voucher.nonce).toBe(String(i));
      channelId = r.json.channelId;
      served.push(r.json);
      if (i === 2) {
        // no channels process runs now: an online backup of a consistent database
        const db = new Database(join(payer.home, 'channels.db'), { readonly: true, fileMustExist: true });
        await db.backup(backup);
        db.close();
      }
    }
    // Restore: replace the database and drop its WAL/SHM so the old state is what opens.
    for (const ext of ['-wal', '-shm']) rmSync(join(payer.home, `channels.db${ext}`), { force: true });
    copyFileSync(backup, join(payer.home, 'channels.db'));
    expect(existsSync(join(payer.home, 'channels.db-wal'))).toBe(false);
    const restored = rows(payer.home, 'SELECT nonce, amount FROM vouchers WHERE channel_id = ? ORDER BY nonce', channelId);
    expect(restored.map((v) => v.nonce)).toEqual([1, 2]);

    const r = await buy();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.status).toBe(200);
    expect(r.json.paid).toBe(PRICE.toString());
    expect(r.json.channelId).toBe(channelId);
    expect(r.json.opened).toBeNull();
    expect(BigInt(r.json.voucher.nonce)).toBeGreaterThan(5n);
    expect(r.json.voucher.amount).toBe((6n * PRICE).toString());
    served.push(r.json);
    contract = (await payer.run(['status', channelId, '--json'])).json.contract;
  }, 180_000);

  it('the payee never accepted a reused nonce or a lower amount, and charged exactly 6 × price', async () => {
    // rowid order = order of acceptance
    const accepted = rows(payee.home, 'SELECT lane, nonce, amount, signature FROM vouchers WHERE channel_id = ? ORDER BY rowid', channelId);
    expect(accepted).toHaveLength(6);
    for (let i = 1; i < accepted.length; i++) {
      expect(accepted[i].lane).toBe(0);
      expect(accepted[i].nonce).toBeGreaterThan(accepted[i - 1].nonce);
      expect(BigInt(accepted[i].amount)).toBeGreaterThanOrEqual(BigInt(accepted[i - 1].amount));
    }
    const status = await payee.run(['status', channelId, '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.json.charged).toBe((6n * PRICE).toString());
    expect(status.json.best).toHaveLength(1);
    expect(status.json.best[0].amount).toBe(status.json.charged); // best voucher = what it served
    expect(status.json.best[0].nonce).toBe(served.at(-1).voucher.nonce);
  });

  it('the payer database now holds the payee\'s last voucher', () => {
    const theirs = rows(payee.home, 'SELECT nonce, amount, signature FROM vouchers WHERE channel_id = ? ORDER BY nonce DESC LIMIT 1', channelId)[0];
    const mine = rows(payer.home, 'SELECT nonce, amount, signature FROM vouchers WHERE channel_id = ? ORDER BY nonce DESC LIMIT 1', channelId)[0];
    expect(mine).toEqual(theirs);
    // and the voucher the restored database was missing (nonce 5) came back from the payee, with our signature
    const five = rows(payer.home, 'SELECT * FROM vouchers WHERE channel_id = ? AND nonce = 5', channelId);
    expect(five).toHaveLength(1);
    expect(five[0].amount).toBe((5n * PRICE).toString());
    expect(five[0].signature).toBe(served[4].voucher.signature);
  });
});

describe('a forged corrective 402', () => {
  let fake: Server;
  let fakeUrl = '';
  let forgedNonce = 0n;

  beforeAll(async () => {
    expect(channelId).not.toBe('');
    const res = await fetch(`${serve.url}/weather`);
    expect(res.status).toBe(402);
    const challenge = decode64(res.headers.get('payment-required')!);
    // A voucher far ahead on the payer's channel, but signed by a stranger's key.
    forgedNonce = 1000n;
    const forged = signVoucher(
      {
        channelId, lane: 0n, nonce: forgedNonce, amount: 500n * PRICE, secretHash: ethers.ZeroHash,
        timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [],
      },
      HDNodeWallet.createRandom(), CHAIN_ID, challenge.accepts[0].extra.contract,
    );
    expect(recoverVoucherSigner(forged, CHAIN_ID, challenge.accepts[0].extra.contract)).not.toBe(payer.address);
    const corrective = {
      ...challenge,
      error: 'Nonce is not above the last accepted.',
      accepts: [{
        ...challenge.accepts[0],
        extra: {
          ...challenge.accepts[0].extra,
          channelState: { channelId, lane: '0', nonce: forgedNonce.toString(), amount: forged.amount.toString(), charged: (499n * PRICE).toString(), voucher: voucherToWire(forged) },
        },
      }],
    };
    fake = createServer((req, res) => {
      const paid = req.headers['payment-signature'] !== undefined;
      res.writeHead(402, { 'content-type': 'application/json', 'payment-required': encode64(paid ? corrective : challenge) });
      res.end(JSON.stringify({ error: paid ? corrective.error : 'Payment required.' }));
    });
    await new Promise<void>((ok) => fake.listen(0, '127.0.0.1', () => ok()));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((ok) => (fake ? fake.close(() => ok()) : ok()));
  });

  it('is not stored: the payer keeps only its own new voucher and exits 4', async () => {
    const before = JSON.parse(dbSnapshot(payer.home));
    const r = await buy(`${fakeUrl}/weather`);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.json.error.code).toBe('PAYMENT_REFUSED');
    const after = JSON.parse(dbSnapshot(payer.home));
    expect(after.channels).toEqual(before.channels); // charged not raised to the forged 499 000
    const added = after.vouchers.filter((a: any) => !before.vouchers.some((b: any) => JSON.stringify(a) === JSON.stringify(b)));
    expect(added).toHaveLength(1);
    expect(after.vouchers).toHaveLength(before.vouchers.length + 1);
    expect(added[0].channel_id).toBe(channelId);
    expect(added[0].nonce).not.toBe(Number(forgedNonce));
    const v = voucherFromWire({
      channelId: added[0].channel_id, lane: String(added[0].lane), nonce: String(added[0].nonce), amount: added[0].amount,
      secretHash: added[0].secret_hash, timeLockMin: String(added[0].time_lock_min), timeLockMax: String(added[0].time_lock_max),
      minSettleAt: String(added[0].min_settle_at), merges: JSON.parse(added[0].merges), signature: added[0].signature,
    } as any);
    expect(recoverVoucherSigner(v, CHAIN_ID, contract)).toBe(payer.address);
    expect(after.vouchers.some((x: any) => x.nonce === Number(forgedNonce))).toBe(false);
  });
});
