/**
 * Lanes, merges and reconciliation (issue 11 §3), end to end on a real anvil with the real
 * `channels` binary and `channels serve`:
 * - `voucher create --lane N` on three lanes, `voucher merge` of them into one voucher, the
 *   payee stores it, and redeems the channel with ONE update worth exactly the lanes' sum;
 * - a merged lane's old voucher is refused on chain (NonceTooLow), by the paywall and by
 *   `voucher add`, and the payer signs nothing more on it;
 * - a voucher on the merging lane after the merge was redeemed needs no merge (the chain did
 *   it) and the payee's close pays it exactly;
 * - reconciliation: refused below the payer's `reconcile.minDiscount` (Failure, exit 4,
 *   nothing stored on either side), granted at it (one merged voucher, one update);
 * - in-band reconciliation through `channels serve` and `channels buy`: with vouchers on two
 *   lanes the receipt asks for a merge, the buyer's next payment carries it, the paywall
 *   accepts it and the channel is redeemed with one update.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, HDNodeWallet } from 'ethers';
import { encodePaymentSignature, encodeVoucher, voucherFromWire, type ChannelRequirement, type PaymentRequired, type UnsignedVoucher, type EvmVoucher as Voucher } from '../../dist/index.js';
import { signVoucher, voucherMessage } from '../../dist/families/evm/index.js';
import { dbSnapshot, makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';

const CHAIN_ID = 31337n;
const PRICE = 1000n;

let chain: Chain;
/** The shop of the paywall tests: `channels serve` runs on its home. */
let shop: TestWallet;
let payer: TestWallet;
let serve: Serve;
let payerKey: HDNodeWallet;
let accepted: ChannelRequirement;
let contract: string;
let pc: Contract;
const files = mkdtempSync(join(tmpdir(), 'channels-lanes-'));

const decode64 = (h: string) => JSON.parse(Buffer.from(h, 'base64').toString('utf8'));
const pay = (v: Voucher) =>
  fetch(`${serve.url}/weather`, { headers: { 'payment-signature': encodePaymentSignature(accepted, { type: 'voucher', channelId: v.channelId, voucher: v }) } });

/** The contract's answer to `update(v)` sent by `from`: undefined when it would redeem it, else its custom error. */
async function updateRefusal(v: Voucher, from: string): Promise<string | undefined> {
  try {
    await pc.update.staticCall(voucherMessage(v), v.signature, '0x', { from });
    return undefined;
  } catch (err) {
    return (err as { revert?: { name: string } }).revert?.name ?? (err as Error).message;
  }
}

/** The ChannelUpdated events of a transaction. */
async function updates(tx: string): Promise<{ lane: bigint; nonce: bigint; redeemed: bigint }[]> {
  const receipt = await chain.provider.getTransactionReceipt(tx);
  return receipt!.logs
    .map((l) => pc.interface.parseLog(l))
    .filter((p) => p?.name === 'ChannelUpdated')
    .map((p) => ({ lane: p!.args.lane, nonce: p!.args.nonce, redeemed: p!.args.redeemed }));
}

/** The voucher of a command's `--json` output (its wire fields; not the bookkeeping). */
function fromJson(json: Record<string, unknown>): Voucher {
  const { encoded: _e, sum: _s, delivered: _d, submittedTx: _t, price: _p, ...wire } = json;
  return voucherFromWire(wire);
}

/** A payer and a shop of their own (funded), so that the tests of this file run at once without sharing a key's transaction nonces. */
interface Pair { payer: TestWallet; shop: TestWallet }
async function pair(name: string): Promise<Pair> {
  const [p, s] = await Promise.all([makeWallet(`${name}-payer`, chain.anvil.rpcUrl), makeWallet(`${name}-shop`, chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(p.address), chain.fund(s.address)]);
  return { payer: p, shop: s };
}

async function open(w: Pair): Promise<string> {
  const r = await w.payer.run(['open', w.shop.address, '0.01eth', '--settle-delay', '3600', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.channelId as string;
}

/** `voucher create` on a lane, then `voucher add` by the shop; the voucher. */
async function paidOnLane(w: Pair, id: string, lane: number, amount: bigint): Promise<Voucher> {
  const made = await w.payer.run(['voucher', 'create', id, amount.toString(), '--lane', String(lane), '--json']);
  expect(made.code, made.stdout + made.stderr).toBe(0);
  expect(made.json).toMatchObject({ lane: String(lane), amount: amount.toString() });
  const added = await w.shop.run(['voucher', 'add', id, made.json.encoded, '--json']);
  expect(added.code, added.stdout + added.stderr).toBe(0);
  return fromJson(made.json);
}

beforeAll(async () => {
  chain = await startChain();
  ({ payer, shop } = await pair('paywall'));
  serve = await startServe(shop, ['--price', PRICE.toString()]);
  const shown = await payer.run(['keys', 'show', '--reveal', '--json']);
  payerKey = HDNodeWallet.fromPhrase(shown.json.mnemonic, undefined, "m/44'/60'/0'/0/0");
  const res = await fetch(`${serve.url}/weather`);
  accepted = (decode64(res.headers.get('payment-required')!) as PaymentRequired).accepts[0];
  contract = accepted.extra.contract!;
  pc = new Contract(contract, artifact('PaymentChannels').abi, chain.provider);
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await chain?.stop();
});

// The four stories use keys of their own (`pair`), so they run at once (the file stays under a minute).
describe.concurrent('lanes, merges and reconciliation', () => {
  it('three lanes paid, merged, redeemed once; the merged lanes\' old vouchers refused on chain, by the paywall and by voucher add', async () => {
    const w = { payer, shop };
    const id = await open(w);
    // voucher create --lane pays three lanes; voucher merge signs one voucher worth their sum.
    await paidOnLane(w, id, 1, 1000n);
    const lane2 = await paidOnLane(w, id, 2, 2000n);
    await paidOnLane(w, id, 3, 3000n);
    expect((await payer.run(['status', id, '--json'])).json.spent).toBe('6000');
    const m = await payer.run(['voucher', 'merge', id, '--lanes', '1,2,3', '--json']);
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(m.json).toMatchObject({ lane: '0', nonce: '1', amount: '6000', sum: '6000', merges: [{ lane: '1', nonce: '2' }, { lane: '2', nonce: '2' }, { lane: '3', nonce: '2' }] });
    const merged = fromJson(m.json);
    // The merged lanes are not counted twice, and take no new voucher.
    expect((await payer.run(['status', id, '--json'])).json.spent).toBe('6000');
    const again = await payer.run(['voucher', 'create', id, '5000', '--lane', '2', '--json']);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/lane 2 .* is merged into lane 0/i);
    const added = await shop.run(['voucher', 'add', id, m.json.encoded, '--json']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(added.json.delta).toBe('0'); // it pays what the three did, no more
    expect((await shop.run(['status', id, '--json'])).json.spent).toBe('6000');

    // A merged lane's old voucher (or a newer one on it) is refused by voucher add and by the paywall; files unchanged.
    const before = dbSnapshot(shop.home);
    const add = await shop.run(['voucher', 'add', id, encodeVoucher(lane2), '--json']);
    expect(add.code).toBe(2);
    expect(add.stdout).toMatch(/lane 2 is merged into lane 0/);
    const newer = signVoucher({ ...lane2, nonce: 5n, amount: 9000n } as UnsignedVoucher, payerKey, CHAIN_ID, contract);
    const refused = await pay(newer);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: string }).error).toMatch(/lane 2 of channel .* is merged by the held voucher on lane 0/i);
    expect(dbSnapshot(shop.home)).toBe(before);

    // voucher submit redeems the channel with ONE update worth the sum; the old lane voucher then reverts on chain.
    const sub = await shop.run(['voucher', 'submit', id, '--json']);
    expect(sub.code, sub.stdout + sub.stderr).toBe(0);
    expect(sub.json.transactions).toHaveLength(1);
    expect(await updates(sub.json.transactions[0])).toEqual([{ lane: 0n, nonce: 1n, redeemed: 6000n }]);
    expect((await pc.getChannel(id)).redeemed).toBe(6000n);
    expect(await updateRefusal(lane2, shop.address)).toBe('NonceTooLow');
    const remerge = signVoucher({ ...merged, nonce: 2n, amount: 7000n, merges: [{ lane: 2n, nonce: 2n }] } as UnsignedVoucher, payerKey, CHAIN_ID, contract);
    expect(await updateRefusal(remerge, shop.address)).toBe('MergeNonceTooLow');

    // A later voucher on the merging lane drops the merge the chain applied; the payee's close pays exactly the sum.
    const v = await payer.run(['voucher', 'create', id, '7000', '--lane', '0', '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.json).toMatchObject({ lane: '0', nonce: '2', amount: '7000', merges: [] });
    const later = await shop.run(['voucher', 'add', id, v.json.encoded, '--json']);
    expect(later.code, later.stdout + later.stderr).toBe(0);
    expect(later.json.delta).toBe('1000');
    const balance = await chain.balance(shop.address);
    const closed = await shop.run(['close', id, '--json']);
    expect(closed.code, closed.stdout + closed.stderr).toBe(0);
    expect(closed.json.paidToPayee).toBe('7000');
    const receipt = await chain.provider.getTransactionReceipt(closed.json.transaction);
    expect((await chain.balance(shop.address)) - balance + receipt!.gasUsed * receipt!.gasPrice).toBe(7000n);
    expect(await updates(closed.json.transaction)).toHaveLength(1);
  });

  it('a voucher after an unredeemed merge carries its merges; several lanes are redeemed in ONE updateMany, the merge last', async () => {
    const w = await pair('carry');
    const id = await open(w);
    await paidOnLane(w, id, 1, 1000n);
    await paidOnLane(w, id, 2, 2000n);
    const m = await w.payer.run(['voucher', 'merge', id, '--lanes', '2', '--into', '1', '--json']);
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(m.json).toMatchObject({ lane: '1', nonce: '2', amount: '3000', merges: [{ lane: '2', nonce: '2' }] });
    expect((await w.shop.run(['voucher', 'add', id, m.json.encoded, '--json'])).code).toBe(0);
    const next = await w.payer.run(['voucher', 'create', id, '4000', '--lane', '1', '--json']);
    expect(next.json).toMatchObject({ lane: '1', nonce: '3', amount: '4000', merges: [{ lane: '2', nonce: '2' }] });
    const added = await w.shop.run(['voucher', 'add', id, next.json.encoded, '--json']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(added.json.delta).toBe('1000');
    await paidOnLane(w, id, 5, 500n);
    const sub = await w.shop.run(['voucher', 'submit', id, '--json']);
    expect(sub.code, sub.stdout + sub.stderr).toBe(0);
    expect(sub.json.transactions).toHaveLength(1);
    expect(await updates(sub.json.transactions[0])).toEqual([{ lane: 5n, nonce: 1n, redeemed: 500n }, { lane: 1n, nonce: 3n, redeemed: 4500n }]);
  });

  it('reconciliation: below the payer\'s reconcile.minDiscount a Failure (exit 4, nothing stored on either side); at it one merged voucher, one update', async () => {
    const w = await pair('reconcile');
    const id = await open(w);
    await paidOnLane(w, id, 0, 3000n);
    await paidOnLane(w, id, 1, 4000n);
    const set = await w.payer.run(['config', 'set', 'reconcile.minDiscount', '1000']);
    expect(set.code, set.stdout + set.stderr).toBe(0);

    const low = await w.shop.run(['reconcile', 'request', id, '--req-val', '6500']);
    expect(low.code, low.stdout + low.stderr).toBe(0);
    expect(JSON.parse(low.stdout)).toMatchObject({ channelId: id, reqVal: '6500' });
    expect(JSON.parse(low.stdout).vouchers).toHaveLength(2);
    writeFileSync(join(files, 'low.json'), low.stdout);
    const payerBefore = dbSnapshot(w.payer.home);
    const shopBefore = dbSnapshot(w.shop.home);
    const refused = await w.payer.run(['reconcile', 'answer', join(files, 'low.json')]);
    expect(refused.code).toBe(4);
    expect(refused.json).toMatchObject({ status: 'Failure' });
    expect(refused.json.message).toMatch(/discount 500 is below .* minimum 1000/);
    expect(dbSnapshot(w.payer.home)).toBe(payerBefore);
    writeFileSync(join(files, 'refused.json'), refused.stdout);
    const accept = await w.shop.run(['reconcile', 'accept', join(files, 'refused.json'), '--request', join(files, 'low.json')]);
    expect(accept.code).toBe(2);
    expect(dbSnapshot(w.shop.home)).toBe(shopBefore);

    // A forged voucher in the request is never adopted.
    const forged = JSON.parse(low.stdout);
    forged.vouchers[1].amount = '9000';
    forged.reqVal = '8000';
    writeFileSync(join(files, 'forged.json'), JSON.stringify(forged));
    const foreign = await w.payer.run(['reconcile', 'answer', join(files, 'forged.json'), '--json']);
    expect(foreign.code).toBe(4);
    expect(foreign.json.message).toMatch(/not one this wallet signed/);
    expect(dbSnapshot(w.payer.home)).toBe(payerBefore);

    const ok = await w.shop.run(['reconcile', 'request', id, '--req-val', '6000']);
    writeFileSync(join(files, 'ok.json'), ok.stdout);
    const granted = await w.payer.run(['reconcile', 'answer', join(files, 'ok.json')]);
    expect(granted.code, granted.stdout + granted.stderr).toBe(0);
    expect(granted.json).toMatchObject({ status: 'Success', combined: { lane: '0', nonce: '2', amount: '6000', merges: [{ lane: '1', nonce: '2' }] } });
    writeFileSync(join(files, 'granted.json'), granted.stdout);
    const stored = await w.shop.run(['reconcile', 'accept', join(files, 'granted.json'), '--request', join(files, 'ok.json'), '--json']);
    expect(stored.code, stored.stdout + stored.stderr).toBe(0);
    expect(stored.json.delta).toBe('-1000');
    // Both sides now count the merged voucher only.
    expect((await w.shop.run(['status', id, '--json'])).json.spent).toBe('6000');
    expect((await w.payer.run(['status', id, '--json'])).json.spent).toBe('6000');
    const sub = await w.shop.run(['voucher', 'submit', id, '--json']);
    expect(sub.code, sub.stdout + sub.stderr).toBe(0);
    expect(await updates(sub.json.transactions[0])).toEqual([{ lane: 0n, nonce: 2n, redeemed: 6000n }]);
  });

  it('in-band: vouchers on two lanes, the receipt asks to merge (extra.reconcile), the next buy carries the merged voucher, one update redeems both lanes', async () => {
    const w = await pair('inband');
    const own = await startServe(w.shop, ['--price', PRICE.toString()]);
    try {
      const url = `${own.url}/weather`;
      const first = await w.payer.run(['buy', url, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json']);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const id = first.json.channelId as string;
      const top = await w.payer.run(['pay', id, '2000', '--lane', '1', '--json']);
      expect(top.code, top.stdout + top.stderr).toBe(0);
      expect(top.json).toMatchObject({ delivered: true });

      // Two lanes held: the receipt carries the request, the buyer signs the merge (not sent yet).
      const second = await w.payer.run(['buy', url, '--max-price', '5000']);
      expect(second.code, second.stdout + second.stderr).toBe(0);
      expect(second.stderr).toMatch(/The merchant asks to merge lanes: lanes 1 merged into lane 0: 4000 of 4000/);
      const mine = await w.payer.run(['voucher', 'list', id, '--json']);
      expect(mine.code, mine.stdout + mine.stderr).toBe(0);
      expect(mine.json.vouchers.find((v: { lane: string; nonce: string }) => v.lane === '0' && v.nonce === '3'))
        .toMatchObject({ amount: '4000', merges: [{ lane: '1', nonce: '2' }], delivered: false });

      // The next payment supersedes it and carries its merge; the paywall takes it.
      const third = await w.payer.run(['buy', url, '--max-price', '5000', '--json']);
      expect(third.code, third.stdout + third.stderr).toBe(0);
      expect(third.json.voucher).toMatchObject({ lane: '0', nonce: '4', amount: '4000', merges: [{ lane: '1', nonce: '2' }] });
      expect((await w.shop.run(['status', id, '--json'])).json).toMatchObject({ spent: '4000', charged: '3000' });

      const sub = await w.shop.run(['voucher', 'submit', id, '--json']);
      expect(sub.code, sub.stdout + sub.stderr).toBe(0);
      expect(sub.json.transactions).toHaveLength(1);
      expect(await updates(sub.json.transactions[0])).toEqual([{ lane: 0n, nonce: 4n, redeemed: 4000n }]);
    } finally {
      await own.stop();
    }
  });
});
