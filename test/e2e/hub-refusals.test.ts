/**
 * Issue 12 §2: what a hub's `POST /lock` refuses, with the real `channels hub` on a real anvil
 * and a real `channels serve` as payee. Each request is built by hand (vouchers signed with the
 * payer test wallet's key) and refused with an HTTP status and a `reason`, and the hub's
 * database (channels, vouchers AND locked_payments) is the same before and after. A hostile
 * HTTP server bound as a payee's endpoint answers a secret that does not open the hash: the hub
 * marks the payment refused and keeps its own voucher counting until its lock ends; a payer
 * paying through `channels pay --via` gets a refusal and keeps the amount as conditional until
 * its lock ends, then `channels sync` frees it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HDNodeWallet, Wallet, hexlify, randomBytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSecret, encryptSecret, signVoucher } from '../../dist/families/evm/index.js';
import { voucherToWire } from '../../dist/core/channel/voucher.js';
import type { UnsignedVoucher } from '../../dist/index.js';
import { increaseTime, latestTimestamp } from '../helpers/anvil.js';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { startHub, type Hub } from '../helpers/hub.js';
import { rows } from '../helpers/hub-money.js';

const CHAIN_ID = 31337n;
const DEPOSIT = 10n ** 16n;
/** payer2's channel to the hub: small, to exceed with in-flight locks. */
const SMALL = 100_000n;
const ZERO = '0x' + '0'.repeat(64);

let chain: Chain;
let payer: TestWallet;
let payer2: TestWallet;
let hubWallet: TestWallet;
let shop: TestWallet;
let hub: Hub;
let serve: Serve;
let evil: Server;
let evilUrl: string;
const evilKey = Wallet.createRandom();
let payerKey: HDNodeWallet;
let payer2Key: HDNodeWallet;
let contract: string;
let network: string;
let shopPubkey: string;
let mainChannel: string;
let smallChannel: string;
let usedLane: bigint;
/** The lane of the control lock: it holds a conditional voucher (never replaced: no unlock is sent). */
let controlLane: bigint;
/** The payer's channel to the shop, and the hub's: vouchers on them do not pay the hub. */
let toShopChannel: string;
let hubToShopChannel: string;
let nextLane = 1000n;

/** Every row of a wallet's channels, vouchers AND locked_payments tables, exact integers, as text. */
function snapshot(home: string): string {
  const db = new Database(join(home, 'channels.db'), { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string) => db.prepare(sql).safeIntegers(true).all();
    return JSON.stringify(
      {
        channels: all('SELECT * FROM channels ORDER BY network, id'),
        vouchers: all('SELECT * FROM vouchers ORDER BY network, channel_id, lane, nonce'),
        locks: all('SELECT * FROM locked_payments ORDER BY network, hash, role'),
      },
      (_, x) => (typeof x === 'bigint' ? x.toString() : x),
    );
  } finally {
    db.close();
  }
}

/** The rows of one table of a wallet's database, exact integers as strings. */
/** The chain's time as the hub reads it: the later of the latest block's and the clock. */
async function chainNow(): Promise<number> {
  return Math.max(Number(await latestTimestamp(chain.anvil.rpcUrl)), Math.floor(Date.now() / 1000));
}

/** The hub's fee for `amount` (--fee-base 10 --fee-ppm 1000). */
const feeOf = (amount: bigint) => 10n + (amount * 1000n + 999_999n) / 1_000_000n;

interface LockOpts {
  channelId?: string;
  lane?: bigint;
  nonce?: bigint;
  amount?: bigint;
  fee?: bigint;
  /** The voucher's amount; default amount + fee. */
  voucherAmount?: bigint;
  /** Seconds from the chain's time to the voucher's timeLockMax; default 1020. */
  lockFor?: number;
  /** The voucher's hash lock; default the payment's hash. */
  voucherHash?: string;
  payee?: string;
  pubkey?: string;
  network?: string;
  key?: HDNodeWallet | Wallet;
}

/** A `POST /lock` body built by hand: a fresh secret, the voucher signed with the payer's key. */
async function lockBody(o: LockOpts = {}) {
  const { secret, secretHash: hash } = drawSecret();
  const amount = o.amount ?? 5000n;
  const fee = o.fee ?? feeOf(amount);
  const unsigned: UnsignedVoucher = {
    channelId: o.channelId ?? mainChannel, lane: o.lane ?? nextLane++, nonce: o.nonce ?? 1n, amount: o.voucherAmount ?? amount + fee,
    secretHash: o.voucherHash ?? hash, timeLockMin: 0n, timeLockMax: BigInt((await chainNow()) + (o.lockFor ?? 1020)), minSettleAt: 0n, merges: [],
  };
  const v = signVoucher(unsigned, o.key ?? payerKey, CHAIN_ID, contract);
  return {
    secret,
    body: {
      network: o.network ?? network, payee: o.payee ?? shop.address, amount: amount.toString(), fee: fee.toString(), hash,
      encryptedSecret: encryptSecret(o.pubkey ?? shopPubkey, secret, amount), voucher: voucherToWire(v),
    },
  };
}

/** A GET of the hub's, parsed. */
async function getJson(path: string): Promise<any> {
  return (await fetch(hub.url + path)).json();
}

async function post(path: string, body: string): Promise<{ status: number; json: any }> {
  const r = await fetch(hub.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: r.status, json };
}

/** Waits until the hub has delivered every fulfilled payment's unconditional voucher to its payee (it does so after answering). */
async function hubSettled(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (rows(hubWallet.home, "SELECT hash FROM locked_payments WHERE role = 'hub' AND state = 'fulfilled' AND out_unlocked = 0").length === 0) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error('the hub did not deliver its unlock vouchers');
}

/** Sends `body` (text) to POST /lock and expects a refusal `status`/`reason` and no change in the hub's database. */
async function expectRefused(body: string, status: number, reason: string, error?: RegExp): Promise<any> {
  await hubSettled();
  const before = snapshot(hubWallet.home);
  const r = await post('/lock', body);
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json.reason, JSON.stringify(r.json)).toBe(reason);
  expect(typeof r.json.error).toBe('string');
  if (error) expect(r.json.error).toMatch(error);
  expect(r.json.secret).toBeUndefined();
  expect(snapshot(hubWallet.home)).toBe(before);
  return r.json;
}

beforeAll(async () => {
  chain = await startChain();
  [payer, payer2, hubWallet, shop] = await Promise.all([
    makeWallet('payer', chain.anvil.rpcUrl), makeWallet('payer2', chain.anvil.rpcUrl), makeWallet('hub', chain.anvil.rpcUrl), makeWallet('shop', chain.anvil.rpcUrl),
  ]);
  for (const w of [payer, payer2, hubWallet, shop]) await chain.fund(w.address, '1');
  // The attacker: a payee endpoint that gives its real key but answers a secret that opens nothing.
  evil = createServer((req, res) => {
    const answer = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET') return answer({ pubkey: evilKey.signingKey.compressedPublicKey });
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const hash = (() => {
        try {
          return JSON.parse(text).hash;
        } catch {
          return undefined;
        }
      })();
      answer({ hash, secret: hexlify(randomBytes(32)) });
    });
  });
  await new Promise<void>((ok) => evil.listen(0, '127.0.0.1', () => ok()));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;

  // --watch-interval 3600: the shop's redemption service runs once, at start; else a round between a
  // forward and its unlock would close the hub's channel (a held conditional voucher with its secret is due at once).
  serve = await startServe(shop, ['--price', '1000', '--watch-interval', '3600']);
  // --watch-interval 3600: no redemption round during the test (the held conditional vouchers stay held).
  hub = await startHub(hubWallet, ['--fee-base', '10', '--fee-ppm', '1000', '--watch-interval', '3600']);
  contract = hub.info.contract;
  network = hub.info.network;
  const opened = await Promise.all([
    hubWallet.run(['open', shop.address, DEPOSIT.toString(), '--url', `${serve.url}/.well-known/channels`, '--settle-delay', '3600', '--json']),
    payer.run(['open', hub.address, DEPOSIT.toString(), '--settle-delay', '3600', '--json']).then(async (r) => {
      // and a channel of the payer's that does not pay the hub
      const other = await payer.run(['open', shop.address, '100000', '--settle-delay', '3600', '--json']);
      expect(other.code, other.stdout + other.stderr).toBe(0);
      toShopChannel = other.json.channelId;
      return r;
    }),
    payer2.run(['open', hub.address, SMALL.toString(), '--settle-delay', '3600', '--json']),
  ]);
  for (const r of opened) expect(r.code, r.stdout + r.stderr).toBe(0);
  hubToShopChannel = opened[0].json.channelId;
  const toEvil = await hubWallet.run(['open', evilKey.address, DEPOSIT.toString(), '--url', evilUrl, '--settle-delay', '3600', '--json']);
  expect(toEvil.code, toEvil.stdout + toEvil.stderr).toBe(0);
  mainChannel = opened[1].json.channelId;
  smallChannel = opened[2].json.channelId;
  const keys = await Promise.all([payer.run(['keys', 'show', '--reveal', '--json']), payer2.run(['keys', 'show', '--reveal', '--json'])]);
  payerKey = HDNodeWallet.fromPhrase(keys[0].json.mnemonic, undefined, "m/44'/60'/0'/0/0");
  payer2Key = HDNodeWallet.fromPhrase(keys[1].json.mnemonic, undefined, "m/44'/60'/0'/0/0");
  expect(payerKey.address).toBe(payer.address);
  expect(payer2Key.address).toBe(payer2.address);
  shopPubkey = (await getJson(`/payees/${shop.address}`)).pubkey;
  // One real payment: the hub learns the payer's channel (a stored channel row), and lane `usedLane` is used.
  const paid = await payer.run(['pay', '--via', hub.url, shop.address, '5000', '--json']);
  expect(paid.code, paid.stdout + paid.stderr).toBe(0);
  expect(paid.json.channelId).toBe(mainChannel);
  usedLane = BigInt(paid.json.lane);
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await serve?.stop();
  await new Promise((ok) => evil?.close(ok));
  await chain?.stop();
});

describe('POST /lock refuses, with a reason, and changes nothing in the hub', () => {
  it('takes a well-formed request (the control: the refusals below differ from it in one thing)', async () => {
    controlLane = nextLane;
    const { body, secret } = await lockBody();
    const r = await post('/lock', JSON.stringify(body));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.secret).toBe(secret);
    await hubSettled();
    const row = rows(hubWallet.home, "SELECT state, amount, fee FROM locked_payments WHERE hash = ? AND role = 'hub'", body.hash)[0];
    expect(row).toEqual({ state: 'fulfilled', amount: '5000', fee: '15' });
  }, 30_000);

  it('amount 0', async () => {
    const { body } = await lockBody({ amount: 0n, fee: 10n });
    await expectRefused(JSON.stringify(body), 409, 'amount_zero', /above zero/);
  });

  it('a fee below the policy (base 10 + 1000 ppm)', async () => {
    const { body } = await lockBody({ amount: 5000n, fee: 14n });
    await expectRefused(JSON.stringify(body), 409, 'fee_too_low', /fee 14 is below this hub's 15/);
  });

  it('an expired lock (timeLockMax in the past)', async () => {
    const { body } = await lockBody({ lockFor: -60 });
    await expectRefused(JSON.stringify(body), 409, 'lock_expired', /has passed/);
  });

  it('a lock less than --min-lock (600 s) ahead', async () => {
    const { body } = await lockBody({ lockFor: 300 });
    await expectRefused(JSON.stringify(body), 409, 'lock_too_short', /less than 600 s ahead/);
  });

  it('a voucher paying other than the amount plus the fee', async () => {
    const { body } = await lockBody({ amount: 5000n, voucherAmount: 5014n });
    await expectRefused(JSON.stringify(body), 409, 'amount_mismatch');
  });

  it('a voucher locked to another hash', async () => {
    const { body } = await lockBody({ voucherHash: drawSecret().secretHash });
    await expectRefused(JSON.stringify(body), 409, 'hash_mismatch');
  });

  it('the wrong network', async () => {
    const { body } = await lockBody({ network: 'eip155:1' });
    await expectRefused(JSON.stringify(body), 409, 'wrong_network', /eip155:1/);
  });

  it('a voucher not signed by the channel\'s payer', async () => {
    const { body } = await lockBody({ key: HDNodeWallet.createRandom() });
    await expectRefused(JSON.stringify(body), 409, 'wrong_signer', new RegExp(`not by the payer ${payer.address}`));
  });

  it('a voucher on a lane used already: a nonce not above the lane\'s, the lane\'s total not carried, a lane holding a conditional voucher', async () => {
    // usedLane holds the payer's unconditional 5015 at nonce 2 (the payment by pay --via, simplified).
    for (const nonce of [1n, 2n]) {
      const { body } = await lockBody({ lane: usedLane, nonce, voucherAmount: 5015n + 5015n });
      await expectRefused(JSON.stringify(body), 409, 'nonce_too_low', /not above the last accepted 2/);
    }
    const notCarried = await lockBody({ lane: usedLane, nonce: 3n });
    await expectRefused(JSON.stringify(notCarried.body), 409, 'amount_mismatch', /adds 0/);
    const busy = await lockBody({ lane: controlLane, nonce: 2n, voucherAmount: 5015n + 5015n });
    await expectRefused(JSON.stringify(busy.body), 409, 'lane_busy', /conditional voucher not yet replaced/);
  });

  it('a voucher on a channel that does not pay the hub: absent from the chain, the payer\'s to the shop, the hub\'s own', async () => {
    const none = await lockBody({ channelId: hexlify(randomBytes(32)) });
    await expectRefused(JSON.stringify(none.body), 409, 'unknown_channel', /does not exist/);
    const toShop = await lockBody({ channelId: toShopChannel });
    await expectRefused(JSON.stringify(toShop.body), 409, 'wrong_payee', new RegExp(`pays ${shop.address}`));
    const own = await lockBody({ channelId: hubToShopChannel });
    await expectRefused(JSON.stringify(own.body), 409, 'wrong_direction');
  });

  it('a payee the hub has no channel to', async () => {
    const { body } = await lockBody({ payee: Wallet.createRandom().address });
    await expectRefused(JSON.stringify(body), 409, 'no_route');
  });

  it('malformed JSON, a malformed field, an unknown field, and a body over 16 KiB (413)', async () => {
    await expectRefused('{"network": ', 400, 'malformed', /JSON/);
    const { body } = await lockBody();
    await expectRefused(JSON.stringify({ ...body, hash: '0x1234' }), 400, 'malformed', /hash/);
    await expectRefused(JSON.stringify({ ...body, extra: 1 }), 400, 'malformed');
    await expectRefused(JSON.stringify({ ...body, voucher: { ...body.voucher, amount: '-1' } }), 400, 'malformed');
    await expectRefused(JSON.stringify({ ...body, padding: 'x'.repeat(20 * 1024) }), 413, 'too_large');
  });

  it('a replayed request (the same body twice): the second is refused and changes nothing', async () => {
    const { body, secret } = await lockBody();
    const text = JSON.stringify(body);
    const first = await post('/lock', text);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.secret).toBe(secret);
    await expectRefused(text, 409, 'replay', /fresh secret/);
    // The same hash with another voucher, on another lane, is a replay too.
    const again = await lockBody({ voucherHash: body.hash });
    await expectRefused(JSON.stringify({ ...again.body, hash: body.hash }), 409, 'replay');
  }, 30_000);

  it('in-flight conditional lanes that with the new one exceed the payer\'s deposit', async () => {
    // Two locks of 40,000 (+ fee 50) held on payer2's 100,000 channel: 80,100 in flight.
    for (let i = 0; i < 2; i++) {
      const { body } = await lockBody({ channelId: smallChannel, key: payer2Key, amount: 40_000n });
      const r = await post('/lock', JSON.stringify(body));
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    const held = rows(hubWallet.home, 'SELECT amount, secret_hash FROM vouchers WHERE channel_id = ?', smallChannel);
    expect(held.map((v) => v.amount)).toEqual(['40050', '40050']);
    expect(held.every((v) => v.secret_hash !== ZERO)).toBe(true);
    // 80,100 + 20,030 > 100,000: refused.
    const over = await lockBody({ channelId: smallChannel, key: payer2Key, amount: 20_000n });
    await expectRefused(JSON.stringify(over.body), 409, 'above_deposit', /exceeds the deposit 100000/);
    // 80,100 + 19,830 = 99,930 ≤ 100,000: taken (the refusal was the sum's).
    const fits = await lockBody({ channelId: smallChannel, key: payer2Key, amount: 19_800n });
    const r = await post('/lock', JSON.stringify(fits.body));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.secret).toBe(fits.secret);
  }, 30_000);
});

describe('a payee that answers a wrong secret', () => {
  it('the hub refuses the payer (502), marks the payment refused and keeps its own voucher counting', async () => {
    await hubSettled();
    const before = (await getJson('/status')).channels.find((c: any) => c.peer === evilKey.address);
    expect(before).toMatchObject({ conditional: '0', available: DEPOSIT.toString() });
    const { body } = await lockBody({ payee: evilKey.address, pubkey: evilKey.signingKey.compressedPublicKey });
    const r = await post('/lock', JSON.stringify(body));
    expect(r.status, JSON.stringify(r.json)).toBe(502);
    expect(r.json.reason).toBe('payee_refused');
    expect(r.json.error).toMatch(/does not open the lock/);
    expect(r.json.secret).toBeUndefined();
    const row = rows(hubWallet.home, "SELECT state, error, out_channel FROM locked_payments WHERE hash = ? AND role = 'hub'", body.hash)[0];
    expect(row.state).toBe('refused');
    expect(row.error).toMatch(/does not open the lock/);
    // The hub's voucher to the attacker counts against the hub's channel until its lock ends (the attacker cannot redeem it without the secret).
    const after = (await getJson('/status')).channels.find((c: any) => c.peer === evilKey.address);
    expect(after).toMatchObject({ conditional: '5000', available: (DEPOSIT - 5000n).toString() });
    // And the payment can neither be fulfilled later nor replayed.
    await expectRefused(JSON.stringify(body), 409, 'replay');
    expect((await getJson(`/lock/${body.hash}`)).state).toBe('refused');
  }, 30_000);

  it('pay --via fails clearly (and when the hub refuses); the payer keeps only its committed conditional voucher and row; sync frees it after the lock', async () => {
    const dbBefore = JSON.parse(snapshot(payer.home));
    const stBefore = (await payer.run(['status', mainChannel, '--json'])).json;
    const r = await payer.run(['pay', '--via', hub.url, evilKey.address, '5000', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(4); // payment refused
    expect(r.stdout + r.stderr).toMatch(/refused/i);
    expect(r.stdout + r.stderr).toMatch(/does not open the lock/);
    const dbAfter = JSON.parse(snapshot(payer.home));
    // The payer's database changed by its committed conditional voucher (on a lane it took or reused) and the payment's row, nothing else.
    const newVouchers = dbAfter.vouchers.filter((v: any) => !dbBefore.vouchers.some((w: any) => JSON.stringify(w) === JSON.stringify(v)));
    expect(dbAfter.vouchers.length).toBe(dbBefore.vouchers.length + 1);
    expect(newVouchers).toHaveLength(1);
    const nv = newVouchers[0];
    const prev = dbBefore.vouchers.filter((v: any) => v.channel_id === mainChannel && v.lane === nv.lane).at(-1);
    expect(nv).toMatchObject({ channel_id: mainChannel, nonce: String(BigInt(prev?.nonce ?? 0) + 1n), amount: String(BigInt(prev?.amount ?? 0) + 5015n) });
    expect(nv.secret_hash).not.toBe(ZERO);
    const laneSet = (cs: any[]) => cs.map((c) => ({ ...c, updated_at: 0, next_lane: c.id === mainChannel ? 'n' : c.next_lane }));
    expect(laneSet(dbAfter.channels)).toEqual(laneSet(dbBefore.channels));
    const mainRow = (cs: any[]) => cs.find((c) => c.id === mainChannel);
    expect(BigInt(mainRow(dbAfter.channels).next_lane)).toBe([BigInt(mainRow(dbBefore.channels).next_lane), BigInt(nv.lane) + 1n].reduce((a, b) => (a > b ? a : b)));
    expect(dbAfter.locks.length).toBe(dbBefore.locks.length + 1);
    const row = dbAfter.locks.find((l: any) => !dbBefore.locks.some((k: any) => k.hash === l.hash));
    expect(row).toMatchObject({ role: 'payer', payee: evilKey.address, amount: '5000', fee: '15', state: 'refused' });
    // Its status shows the amount as conditional, not available.
    const st = (await payer.run(['status', mainChannel, '--json'])).json;
    expect(BigInt(st.conditional)).toBe(BigInt(stBefore.conditional) + 5015n);
    expect(BigInt(st.available)).toBe(BigInt(stBefore.available) - 5015n);
    // A refusal by the hub itself (a lock shorter than its --min-lock): exit 4, nothing written at the hub,
    // and the payer keeps this conditional voucher too until its (shorter) lock ends.
    await hubSettled();
    const hubBefore = snapshot(hubWallet.home);
    const tooShort = await payer.run(['pay', '--via', hub.url, shop.address, '5000', '--lock-for', '300', '--json']);
    expect(tooShort.code, tooShort.stdout + tooShort.stderr).toBe(4);
    expect(tooShort.stdout + tooShort.stderr).toMatch(/less than 600 s ahead/);
    expect(snapshot(hubWallet.home)).toBe(hubBefore);
    const both = (await payer.run(['status', mainChannel, '--json'])).json;
    expect(BigInt(both.conditional)).toBe(BigInt(stBefore.conditional) + 2n * 5015n);
    expect(rows(payer.home, "SELECT state FROM locked_payments WHERE role = 'payer' AND state = 'refused'")).toHaveLength(2);
    // Once the lock ended (chain time past it), sync frees it: the payer's available is back.
    await increaseTime(chain.anvil.rpcUrl, 1200);
    const synced = await payer.run(['sync', '--json']);
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    const freed = (await payer.run(['status', mainChannel, '--json'])).json;
    expect(BigInt(freed.conditional)).toBe(BigInt(stBefore.conditional));
    expect(freed.available).toBe(stBefore.available);
    const expired = rows(payer.home, "SELECT expired FROM vouchers WHERE channel_id = ? AND secret_hash != ? AND expired = 1", mainChannel, ZERO);
    expect(expired).toHaveLength(2);
    expect(rows(payer.home, 'SELECT expired FROM vouchers WHERE channel_id = ? AND lane = ? AND nonce = ?', mainChannel, nv.lane, nv.nonce)).toEqual([{ expired: '1' }]);
    // The hub's vouchers to the attacker ended too: its sync gives the channel's liquidity back.
    const hubSynced = await hubWallet.run(['sync', '--json']);
    expect(hubSynced.code, hubSynced.stdout + hubSynced.stderr).toBe(0);
    const toEvil = (await getJson('/status')).channels.find((c: any) => c.peer === evilKey.address);
    expect(toEvil).toMatchObject({ conditional: '0', available: DEPOSIT.toString() });
    expect(rows(hubWallet.home, "SELECT state FROM locked_payments WHERE role = 'hub' AND payee = ?", evilKey.address)).toEqual([{ state: 'refused' }, { state: 'refused' }]);
  }, 60_000);
});
