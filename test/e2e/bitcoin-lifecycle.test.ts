/**
 * Issue 4 point 3 and point 6: the lifecycle of a Bitcoin channel through the real
 * `channels` binary on a real litecoind regtest node, P2WSH and P2SH — open (deposit
 * confirmed, refund stored), payments delivered as tokens and added by the payee,
 * the payee's close (countersigned payment mined, amounts exact), the payer's refund
 * (`collect` exits 8 before the expiry and says when; accepted after it, time moved
 * with setmocktime + blocks), and status/list/sync/settle/voucher list|check|best on
 * Bitcoin channels with the EVM JSON shapes.
 *
 * One litecoind and one payer serve both script forms. Everything that spends or signs
 * the deposit output (open, payments and their check, close, refund) runs for each form;
 * what does not depend on the script form runs once: 20 payments on the P2WSH channel and
 * 3 on the P2SH one (the first, a later one, a replay), the commands that do not apply to
 * Bitcoin, and one clock warp for both refunds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { describeBitcoin, startBitcoinChain, makeBitcoinWallet, type BitcoinChain, type BitcoinWallet } from '../helpers/bitcoin.js';
import { channelRow as row, dbSnapshot } from '../helpers/cli.js';

const DEPOSIT = 1_000_000n;
// Above litecoind's dust threshold for a P2WPKH output (2940 sat at its 30 sat/vB dust relay fee), so every
// payment, the first included, is exactly PRICE × its nonce (a smaller first payment is raised to 2940).
const PRICE = 3000n;

/** One script form: its flags, how many payments it makes, and the channel it opens. */
interface Form {
  name: 'P2WSH' | 'P2SH';
  p2sh: boolean;
  flags: string[];
  payments: number;
  payee: BitcoinWallet;
  channel: string;
  closeFee: bigint;
}

const FORMS: Form[] = [
  { name: 'P2WSH', p2sh: false, flags: [], payments: 20 } as Partial<Form> as Form, // payee, channel, closeFee: set in beforeAll and the open test
  { name: 'P2SH', p2sh: true, flags: ['--p2sh'], payments: 3 } as Partial<Form> as Form,
];

describeBitcoin('Bitcoin channel lifecycle on litecoind regtest (P2WSH and P2SH)', () => {
  let chain: BitcoinChain;
  let payer: BitcoinWallet;
  /** A second node, with a relay fee minimum above what the wallet pays (started alongside the first). */
  let refusing: BitcoinChain;

  beforeAll(async () => {
    const started = await Promise.allSettled([startBitcoinChain(), startBitcoinChain({ extraArgs: ['-minrelaytxfee=0.001'] })]); // 100 sat/vB; the wallet pays 2
    if (started[0].status === 'fulfilled') chain = started[0].value;
    if (started[1].status === 'fulfilled') refusing = started[1].value;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    // A payee per form, so each payee's `list --inbound` holds exactly its own channel.
    [payer, FORMS[0]!.payee, FORMS[1]!.payee] = await Promise.all([
      makeBitcoinWallet('payer', chain),
      makeBitcoinWallet('payee-wsh', chain, { fund: false }),
      makeBitcoinWallet('payee-sh', chain, { fund: false }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([chain?.stop(), refusing?.stop()]);
  });

  describe.each(FORMS)('$name', (form) => {
    it('opens: the deposit is confirmed and the signed refund is stored with the channel', async () => {
      const r = await payer.run(['open', form.payee.pubkey, `${DEPOSIT}sat`, '--expiry', '7200', ...form.flags, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.state).toBe('open');
      expect(r.json.asset).toBe('sat');
      expect(r.json.deposit).toBe(DEPOSIT.toString());
      expect(r.json.payee).toBe(form.payee.pubkey);
      form.channel = r.json.channelId;
      const txid = form.channel.slice(2);
      const deposit = await chain.backend.getTransaction(txid);
      expect(deposit!.confirmations).toBeGreaterThanOrEqual(1);
      expect(deposit!.tx.outs[0]!.value).toBe(DEPOSIT);
      expect(deposit!.tx.outs[0]!.script.length).toBe(form.p2sh ? 23 : 34);
      const b = row(payer.home, form.channel).data;
      const refund = Transaction.fromHex(b.refundTx);
      expect(Buffer.from(refund.ins[0]!.hash).reverse().toString('hex')).toBe(txid);
      expect(refund.locktime).toBe(r.json.expiry);
      expect(refund.ins[0]!.sequence).toBe(0xfffffffe);
      expect(b.p2sh).toBe(form.p2sh);
      form.closeFee = BigInt(b.closeFee);
      expect(BigInt(r.json.available)).toBe(DEPOSIT - form.closeFee);
    });

    it(`${form.payments} payments: each token is added by the payee, which learns the channel from the first`, async () => {
      const { channel, payee, payments, closeFee } = form;
      const total = PRICE * BigInt(payments);
      // The payer makes payment i + 1 while the payee adds payment i (two wallets, two
      // databases): the payee still adds them one by one, in order, as they were made.
      const made: Promise<any>[] = [];
      let paid = Promise.resolve();
      for (let i = 1; i <= payments; i++) {
        const p = paid.then(async () => {
          const r = await payer.run(['pay', channel, `${PRICE}sat`, '--json']);
          expect(r.code, r.stderr).toBe(0);
          expect(r.json.nonce).toBe(String(i));
          expect(r.json.amount).toBe(String(PRICE * BigInt(i)));
          expect(r.json.voucher.paymentTx).toMatch(/^[0-9a-f]+$/);
          return r.json;
        });
        p.catch(() => {}); // a failed payment fails the test where the payee awaits it
        paid = p.then(() => undefined);
        made.push(p);
      }
      let last: any;
      for (const p of made) {
        last = await p;
        const a = await payee.run(['voucher', 'add', channel.slice(0, 12), last.encoded, '--json']);
        expect(a.code, a.stdout + a.stderr).toBe(0);
        expect(a.json.delta).toBe(String(PRICE));
      }
      await paid;
      // A replay of an older payment is refused on the payee's side, and nothing changes.
      const before = dbSnapshot(payee.home);
      const replay = await payee.run(['voucher', 'add', channel, last.encoded, '--json']);
      expect(replay.code).toBe(2);
      expect(replay.json.error.message).toMatch(/not above the stored payment/);
      expect(dbSnapshot(payee.home)).toBe(before);

      const best = await payee.run(['voucher', 'best', channel, '--json']);
      expect(best.json.vouchers).toHaveLength(1);
      expect(best.json.vouchers[0]).toMatchObject({ lane: '0', nonce: String(payments), amount: String(total) });
      const list = await payer.run(['voucher', 'list', channel, '--json']);
      expect(list.json.vouchers).toHaveLength(payments);
      const check = await payer.run(['voucher', 'check', channel, last.encoded, '--json']);
      expect(check.code).toBe(0);
      expect(check.json).toMatchObject({ valid: true, own: true, redeemable: String(total) });
      const st = await payer.run(['status', channel, '--json']);
      expect(st.json).toMatchObject({ direction: 'outbound', state: 'open', spent: String(total), available: String(DEPOSIT - closeFee - total) });
      // litecoin (SLIP-44 coin type 2) on the regtest chain: the CAIP-19 id of what the channel holds (issue 10)
      expect(st.json).toMatchObject({ asset: 'sat', assetId: `${st.json.network}/slip44:2` });
      expect(st.json.network).toMatch(/^bip122:[0-9a-f]{32}$/);
      const ls = await payee.run(['list', '--inbound', '--json']);
      expect(ls.json.channels.map((c: any) => [c.channelId, c.assetId])).toEqual([[channel, st.json.assetId]]);
    }, 240_000);

    if (!form.p2sh) {
      it('settle and fund are not applicable on Bitcoin and say what to do instead (exit 2); keys show gives the funding address', async () => {
        const r = await payer.run(['settle', form.channel, '--json']);
        expect(r.code).toBe(2);
        expect(r.json.error.message).toMatch(/no settlement period.*close.*collect/s);
        const f = await payer.run(['fund', form.channel, '1000sat', '--json']);
        expect(f.code).toBe(2);
        expect(f.json.error.message).toMatch(/EVM networks only; "regtest" is a Bitcoin-family network/);
        const eth = await payer.run(['pay', form.channel, '0.1eth', '--json']);
        expect(eth.code).toBe(2);
        expect(eth.json.error.message).toMatch(/eth is not a unit of this Bitcoin-family network/);
        const k = await payer.run(['keys', 'show', '--json']);
        expect(k.json.fundingAddress).toMatch(/^rltc1q[0-9a-z]{38}$/);
      });

      it('reserve and release work within the fixed deposit (no top-up: exit 5 with the shortfall); lookup finds the channel; lane new is not applicable (issue 11 §2)', async () => {
        const { channel, closeFee } = form;
        const total = PRICE * BigInt(form.payments);
        const free = DEPOSIT - closeFee - total;
        const over = await payer.run(['reserve', channel, String(free + 1n), '--json']);
        expect(over.code).toBe(5);
        expect(over.json.error.data.shortfall).toBe('1');
        expect(over.json.error.message).toMatch(/Bitcoin deposits are fixed at open/);
        const r = await payer.run(['reserve', channel, '1000sat', '--json']);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.json).toMatchObject({ reserved: '1000', available: String(free - 1000n), pending: '0', queued: '0', pendingTx: null, sent: null });
        // A payment without the reservation may not use it.
        const pay = await payer.run(['voucher', 'create', channel, String(total + free - 999n), '--json']);
        expect(pay.code).toBe(5);
        expect(pay.json.error.data.shortfall).toBe('1');
        const st = await payer.run(['status', channel, '--json']);
        const found = await payer.run(['lookup', st.json.payee, '--json']);
        expect(found.code, found.stdout + found.stderr).toBe(0);
        expect(found.json.channelId).toBe(channel);
        const rel = await payer.run(['release', channel, '1000', '--json']);
        expect(rel.json).toMatchObject({ reserved: '0', available: String(free) });
        const lane = await payer.run(['lane', 'new', channel, '--json']);
        expect(lane.code).toBe(2);
        expect(lane.json.error.message).toMatch(/one lane \(0\)/);
      });
    }

    it('the payer cannot close early; the payee closes: the countersigned payment is mined with exact amounts', async () => {
      const { channel, payee, closeFee } = form;
      const total = PRICE * BigInt(form.payments);
      const early = await payer.run(['close', channel, '--json']);
      expect(early.code).toBe(8);
      const r = await payee.run(['close', channel, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json).toMatchObject({ result: 'closed', paidToPayee: String(total) });
      await chain.mine(1);
      const tx = await chain.backend.getTransaction(r.json.transaction);
      expect(tx!.confirmations).toBeGreaterThanOrEqual(1);
      expect(tx!.tx.outs[0]!.value).toBe(total);
      expect(tx!.tx.outs[1]!.value).toBe(DEPOSIT - total - closeFee);
      const sync = await payer.run(['sync', channel, '--json']);
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.json.state).toBe('closed');
      const st = await payer.run(['status', channel, '--json']);
      expect(st.json).toMatchObject({ state: 'closed', redeemed: String(total), closeTx: r.json.transaction });
      const again = await payer.run(['collect', channel, '--json']);
      expect(again.code).toBe(8);
    });
  });

  // Both refunds wait for one clock warp: the node's clock only moves forward.
  it('the payer takes the refund only after the expiry (exit 8 before, saying when), P2WSH and P2SH', async () => {
    const refunds: { form: string; id: string; expiry: number }[] = [];
    for (const form of FORMS) {
      const o = await payer.run(['open', form.payee.pubkey, '200000sat', '--expiry', '3600', ...form.flags, '--json']);
      expect(o.code, `${form.name}: ${o.stderr}`).toBe(0);
      expect(row(payer.home, o.json.channelId).data.p2sh).toBe(form.p2sh);
      refunds.push({ form: form.name, id: o.json.channelId, expiry: o.json.expiry });
    }
    for (const { form, id, expiry } of refunds) {
      const early = await payer.run(['collect', id, '--json']);
      expect(early.code, form).toBe(8);
      expect(early.json.error.message).toMatch(/cannot be refunded yet; possible once .*median time past reaches \d{4}-\d\d-\d\dT/);
      expect(early.json.error.data.expiry).toBe(expiry);
    }
    await chain.warpTo(Math.max(...refunds.map((r) => r.expiry)) + 600);
    for (const { form, id } of refunds) {
      const r = await payer.run(['collect', id, '--json']);
      expect(r.code, `${form}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(BigInt(r.json.refundedToPayer) + BigInt(r.json.fee)).toBe(200000n);
      await chain.mine(1);
      const tx = await chain.backend.getTransaction(r.json.transaction);
      expect(tx!.confirmations, form).toBeGreaterThanOrEqual(1);
      const st = await payer.run(['status', id, '--json']);
      expect(st.json.state, form).toBe('closed');
      expect(st.json.redeemed, form).toBe('0');
    }
  }, 240_000);

  describe('open stores the refund before broadcasting the deposit', () => {
    it('a deposit the node refuses (fee below its relay minimum) leaves the channel failed, with its refund stored', async () => {
      const chain = refusing;
      const payer = await makeBitcoinWallet('payer', chain);
      // The payee is only a pubkey here: the open fails before any payee could see the channel.
      const r = await payer.run(['open', FORMS[0]!.payee.pubkey, '100000sat', '--expiry', '3600', '--json']);
      expect(r.code).toBe(8);
      expect(r.json.error.message).toMatch(/The node refused transaction [0-9a-f]{64}: .*min relay fee not met/);
      const list = await payer.run(['list', '--json']);
      expect(list.json.channels).toHaveLength(1);
      const c = list.json.channels[0];
      expect(c.state).toBe('failed');
      expect(await chain.backend.getTransaction(c.channelId.slice(2))).toBeUndefined();
      const b = row(payer.home, c.channelId).data;
      expect(Buffer.from(Transaction.fromHex(b.refundTx).ins[0]!.hash).reverse().toString('hex')).toBe(c.channelId.slice(2));
    }, 60_000);
  });
});
