/**
 * Funds that never block (issue 11 §2, DESIGN §13) through the real binary on a real anvil:
 * `reserve` / `release` (the seed's ReserveFunds / ReleaseFunds), vouchers paid from a
 * reservation or refused beside one, top-ups sent without waiting for a block and merged into one
 * deposit while one is pending, a pending deposit resumed after a crash, `lookup` and `lane new`.
 *
 * Deposits are counted on chain: the contract's ChannelFunded events of the channel, and the
 * payer's transactions in the node's pool (pending nonce − mined nonce). The tests that send
 * top-ups turn anvil's automine off (`evm_setAutomine false`, blocks by `evm_mine`), so a command
 * that returned with a hash cannot have waited for its block. They run one at a time, after the
 * others, which need blocks mined at once (`open`) and run concurrently, each with a payer of its own.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Contract, Wallet, id as topicOf } from 'ethers';
import { rpc } from '../helpers/anvil.js';
import { artifact } from '../helpers/deploy.js';
import { makeWallet, startChain, type Chain, type TestWallet } from '../helpers/cli.js';
import { contractAddress } from '../../src/families/evm/deploy.js';

let chain: Chain;
/** The payer of the tests that stop automine (run one at a time, after the others). */
let payer: TestWallet;
/** A payer of its own for each test that runs concurrently with the others (its own nonces, its own channels). */
const own: Record<'help' | 'reserve' | 'voucher' | 'died' | 'lookup' | 'lanes', TestWallet> = {} as never;
/** Payees are plain addresses: nobody on their side runs here. */
const payee = Wallet.createRandom().address;

beforeAll(async () => {
  chain = await startChain();
  const names = ['help', 'reserve', 'voucher', 'died', 'lookup', 'lanes'] as const;
  const made = await Promise.all(['payer', ...names].map((n) => makeWallet(`funds-${n}`, chain.anvil.rpcUrl)));
  payer = made[0]!;
  names.forEach((n, i) => (own[n] = made[i + 1]!));
  await Promise.all(made.map((w) => chain.fund(w.address, '1')));
}, 120_000);
afterAll(async () => {
  await chain?.stop();
});

async function open(w: TestWallet, deposit: string, to = payee): Promise<string> {
  const r = await w.run(['open', to, deposit, '--json']);
  if (r.code !== 0) throw new Error(`open exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.json.channelId;
}

async function status(w: TestWallet, id: string): Promise<Record<string, any>> {
  const s = await w.run(['status', id, '--json']);
  if (s.code !== 0) throw new Error(`status exited ${s.code}: ${s.stdout}${s.stderr}`);
  return s.json;
}

/** ChannelFunded events of `channelId` mined so far: one per deposit transaction. */
async function fundedEvents(channelId: string): Promise<bigint[]> {
  const logs = await chain.provider.getLogs({
    address: contractAddress(), fromBlock: 0, toBlock: 'latest',
    topics: [topicOf('ChannelFunded(bytes32,uint256,uint256)'), channelId],
  });
  const c = new Contract(contractAddress(), artifact('PaymentChannels').abi, chain.provider);
  return logs.map((l) => c.interface.parseLog(l)!.args.amount as bigint);
}

/** The payer's transactions in the node's pool, not yet mined. */
async function inPool(): Promise<number> {
  const [pending, latest] = await Promise.all([
    chain.provider.getTransactionCount(payer.address, 'pending'),
    chain.provider.getTransactionCount(payer.address, 'latest'),
  ]);
  return pending - latest;
}

const automine = (on: boolean) => rpc(chain.anvil.rpcUrl, 'evm_setAutomine', [on]);
const mine = () => rpc(chain.anvil.rpcUrl, 'evm_mine');

describe.concurrent('within the deposit, or with blocks mined at once: a payer of its own per test, all at once', () => {
  it('reserve, release, lookup and lane new: --help shows examples and --json', async ({ expect }) => {
    const w = own.help;
    const cmds = ['reserve', 'release', 'lookup', 'lane new'];
    const helps = await Promise.all(cmds.map((cmd) => w.run([...cmd.split(' '), '--help'])));
    for (const [i, r] of helps.entries()) {
      expect(r.code, cmds[i]).toBe(0);
      expect(r.stdout, cmds[i]).toMatch(/EXAMPLES[\s\S]*--json|--json[\s\S]*EXAMPLES/);
    }
  });

  it('sets funds aside without a transaction; release gives them back; more than reserved is refused', async ({ expect }) => {
    const w = own.reserve;
    const id = await open(w, '10000');
    const r = await w.run(['reserve', id, '4000', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ channelId: id, reserved: '4000', available: '6000', pending: '0', queued: '0', topUp: '0', sent: null, pendingTx: null });
    expect(await status(w, id)).toMatchObject({ confirmed: '10000', reserved: '4000', available: '6000', queued: '0', pending: '0', pendingTx: null });
    const rel = await w.run(['release', id, '1000', '--json']);
    expect(rel.json).toMatchObject({ reserved: '3000', available: '7000' });
    const tooMuch = await w.run(['release', id, '3001', '--json']);
    expect(tooMuch.code).toBe(2);
    expect(tooMuch.json.error.message).toMatch(/has 3000 reserved; cannot release 3001/);
    const text = await w.run(['status', id]);
    expect(text.stdout).toMatch(/^reserved\s+3,000 wei$/m);
    expect(await fundedEvents(id)).toEqual([]); // the open's deposit is not a ChannelFunded; no top-up was sent
  });

  it('a voucher pays from the reservation with --reserved; without it, it may use only what is available (exit 5, nothing stored)', async ({ expect }) => {
    const w = own.voucher;
    const id = await open(w, '10000');
    expect((await w.run(['reserve', id, '6000', '--json'])).json.available).toBe('4000');
    const refused = await w.run(['voucher', 'create', id, '5000', '--json']);
    expect(refused.code).toBe(5);
    expect(refused.json.error.data.shortfall).toBe('1000');
    expect(refused.json.error.message).toMatch(/of which 6000 is reserved/);
    expect((await w.run(['voucher', 'list', id, '--json'])).json.vouchers).toEqual([]);
    expect((await w.run(['voucher', 'create', id, '4000', '--json'])).code).toBe(0); // all that is available
    const fromReserved = await w.run(['voucher', 'create', id, '9000', '--reserved', '--json']);
    expect(fromReserved.code, fromReserved.stdout + fromReserved.stderr).toBe(0);
    expect(await status(w, id)).toMatchObject({ spent: '9000', reserved: '1000', available: '0' });
    // The reservation left (1000) is not another caller's to take…
    const stillRefused = await w.run(['voucher', 'create', id, '9001', '--json']);
    expect(stillRefused.code).toBe(5);
    expect(stillRefused.json.error.data.shortfall).toBe('1');
    // …and a voucher with --reserved takes at most what is reserved.
    const beyond = await w.run(['voucher', 'create', id, '10001', '--reserved', '--json']);
    expect(beyond.code).toBe(5);
    expect(beyond.json.error.data.shortfall).toBe('1');
    expect((await w.run(['voucher', 'list', id, '--json'])).json.vouchers).toHaveLength(2);
  });

  it('a top-up queued by a process that died before sending it goes with the next command, once', async ({ expect }) => {
    const w = own.died;
    const id = await open(w, '10000');
    // As if `reserve` died after committing its reservation and the queue, before it claimed and signed the deposit.
    const db = new Database(join(w.home, 'channels.db'));
    try {
      db.prepare("UPDATE channels SET reserved = '13000', queued = '3000' WHERE id = ?").run(id);
    } finally {
      db.close();
    }
    expect((await w.run(['sync', id, '--json'])).code).toBe(0); // sends it (mined at once: automine is on here)
    expect((await w.run(['sync', id, '--json'])).code).toBe(0); // records it
    expect((await w.run(['sync', id, '--json'])).code).toBe(0); // nothing more to send
    expect(await fundedEvents(id)).toEqual([3000n]);
    expect(await status(w, id)).toMatchObject({ confirmed: '13000', pending: '0', queued: '0', reserved: '13000', pendingTx: null });
  });

  it('lookup prints the channel to the payee with the most available funds; exit 2 when none has enough', async ({ expect }) => {
    const w = own.lookup;
    const to = Wallet.createRandom().address;
    const small = await open(w, '1000', to);
    const big = await open(w, '5000', to);
    const r = await w.run(['lookup', to, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.channelId).toBe(big);
    expect(r.json.channels.map((c: any) => [c.channelId, c.available])).toEqual([[big, '5000'], [small, '1000']]);
    expect((await w.run(['lookup', to])).stdout.trim()).toBe(big);
    // Reserved funds are not free: the other channel has more available now.
    expect((await w.run(['reserve', big, '4500'])).code).toBe(0);
    expect((await w.run(['lookup', to, '--json'])).json.channelId).toBe(small);
    const none = await w.run(['lookup', to, '--min-available', '1001', '--json']);
    expect(none.code).toBe(2);
    expect(none.json.error.name).toBe('NotFoundError');
    expect((await w.run(['lookup', Wallet.createRandom().address, '--json'])).code).toBe(2);
    expect((await w.run(['lookup', 'not-an-address', '--json'])).code).toBe(2);
  });

  it('lane new hands out a new lane each time, above every lane a voucher uses', async ({ expect }) => {
    const w = own.lanes;
    const id = await open(w, '10000');
    const a = await w.run(['lane', 'new', id, '--json']);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.json).toEqual({ channelId: id, lane: '1' });
    expect((await w.run(['lane', 'new', id])).stdout.trim()).toBe('2');
    expect((await w.run(['voucher', 'create', id, '100', '--lane', '7', '--json'])).code).toBe(0);
    expect((await w.run(['lane', 'new', id, '--json'])).json.lane).toBe('8');
    // Concurrent processes never get the same lane.
    const many = await Promise.all(Array.from({ length: 4 }, () => w.run(['lane', 'new', id, '--json'])));
    expect(many.map((r) => r.json.lane).sort()).toEqual(['10', '11', '12', '9']);
  });
});

describe('top-ups that never wait for a block', () => {
  it('reserve beyond the deposit returns the top-up hash while it is still unmined; sync records it once mined', async () => {
    const id = await open(payer, '10000');
    await automine(false);
    try {
      const r = await payer.run(['reserve', id, '15000', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json).toMatchObject({ reserved: '15000', available: '0', pending: '5000', queued: '0', topUp: '5000' });
      expect(r.json.sent).toMatch(/^0x[0-9a-f]{64}$/);
      expect(r.json.pendingTx).toBe(r.json.sent);
      expect(await chain.provider.getTransactionReceipt(r.json.sent)).toBeNull(); // no block was mined: it did not wait
      expect(await inPool()).toBe(1);
      expect(await status(payer, id)).toMatchObject({ confirmed: '10000', pending: '5000', pendingTx: r.json.sent });
      await mine();
      const synced = await payer.run(['sync', id, '--json']);
      expect(synced.code, synced.stdout + synced.stderr).toBe(0);
      expect(await status(payer, id)).toMatchObject({ confirmed: '15000', pending: '0', queued: '0', reserved: '15000', pendingTx: null });
      expect(await fundedEvents(id)).toEqual([5000n]);
    } finally {
      await automine(true);
    }
  });

  it('10 processes reserving at once on a channel lacking funds send ONE deposit while it is pending, then one more at most; the deposits cover every reservation', async () => {
    const id = await open(payer, '10000');
    await automine(false);
    try {
      const runs = await Promise.all(Array.from({ length: 10 }, () => payer.run(['reserve', id, '3000', '--json'])));
      for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);
      const sent = runs.map((r) => r.json.sent).filter(Boolean);
      expect(sent).toHaveLength(1); // one process sent the merged top-up; the others queued behind it
      expect(await inPool()).toBe(1);
      const before = await status(payer, id);
      expect(before).toMatchObject({ reserved: '30000', pendingTx: sent[0] });
      // Every reservation is covered once the pending and the queued deposits land.
      expect(BigInt(before.confirmed) + BigInt(before.pending) + BigInt(before.queued)).toBe(30000n);
      await mine();
      expect(await fundedEvents(id)).toHaveLength(1);
      // One more command: records the mined deposit and sends everything queued meanwhile as one deposit.
      expect((await payer.run(['sync', id, '--json'])).code).toBe(0);
      expect(await inPool()).toBeLessThanOrEqual(1);
      await mine();
      expect((await payer.run(['sync', id, '--json'])).code).toBe(0);
      const events = await fundedEvents(id);
      expect(events.length).toBeGreaterThanOrEqual(1);
      expect(events.length).toBeLessThanOrEqual(2);
      expect(events.reduce((a, b) => a + b, 0n)).toBe(20000n);
      expect(await status(payer, id)).toMatchObject({ confirmed: '30000', pending: '0', queued: '0', reserved: '30000', available: '0', pendingTx: null });
      expect((await chain.provider.getTransactionCount(payer.address, 'pending')) - (await chain.provider.getTransactionCount(payer.address, 'latest'))).toBe(0);
    } finally {
      await automine(true);
    }
  }, 120_000);

  it('a deposit stored but never broadcast (a crash) is sent again by the next command: the same transaction, no second deposit', async () => {
    const id = await open(payer, '10000');
    await automine(false);
    try {
      const r = await payer.run(['reserve', id, '12000', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const hash = r.json.sent;
      // As if the process died between storing the signed deposit and broadcasting it: the node never saw it.
      await rpc(chain.anvil.rpcUrl, 'anvil_dropTransaction', [hash]);
      expect(await chain.provider.getTransaction(hash)).toBeNull();
      expect(await status(payer, id)).toMatchObject({ pending: '2000', pendingTx: hash });
      // The next command (here a reserve of more, which must wait behind it) rebroadcasts the same transaction.
      const next = await payer.run(['reserve', id, '1000', '--json']);
      expect(next.code, next.stdout + next.stderr).toBe(0);
      expect(next.json).toMatchObject({ pendingTx: hash, sent: null, queued: '1000' });
      expect(await chain.provider.getTransaction(hash)).not.toBeNull();
      expect(await inPool()).toBe(1);
      await mine();
      expect((await payer.run(['sync', id, '--json'])).code).toBe(0); // records it, sends the queued 1000
      await mine();
      expect((await payer.run(['sync', id, '--json'])).code).toBe(0);
      expect(await fundedEvents(id)).toEqual([2000n, 1000n]);
      expect(await status(payer, id)).toMatchObject({ confirmed: '13000', pending: '0', queued: '0', reserved: '13000', pendingTx: null });
    } finally {
      await automine(true);
    }
  }, 60_000);
});
