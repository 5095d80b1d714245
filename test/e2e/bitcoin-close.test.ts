/**
 * Issue 9 §4, two1 parity on Bitcoin channels, with the real binary on litecoind regtest:
 * - the payer's `channels close` asks the merchant (`POST <endpoint>/close`, signed with the
 *   payer's channel key); the merchant countersigns and broadcasts the best payment at
 *   once; the payer checks the transaction on its node and marks the channel closed. A
 *   forged request is refused (403) and broadcasts nothing; a refusal or an unreachable
 *   merchant leaves the channel open and exits 8, saying when the refund can be collected.
 * - the merchant offers a fresh payee key per channel (child i of its BIP84 chain): two
 *   buyers get channels paying different keys, both closed with transactions the node
 *   accepts (payer close, then the watcher); a payment naming a key that is not the
 *   channel script's payee is refused and stores nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mnemonic } from 'ethers';
import { describeBitcoin, startBitcoinChain, makeBitcoinWallets, type BitcoinChain, type BitcoinWallet } from '../helpers/bitcoin.js';
import { channelRow, dbSnapshot, startServe, type Serve } from '../helpers/cli.js';
import { decodePaymentRequired, encodePaymentRequired, encodePaymentSignature, type ChannelRequirement } from '../../src/index.js';
import { BitcoinBIP32, keyOutputScript } from '../../src/families/bitcoin/index.js';
import { bitcoinPayment } from '../../src/families/bitcoin/inbound.js';
import { signBitcoinCloseRequest } from '../../src/families/bitcoin/cooperative.js';
import { bitcoinKeyOf } from '../../src/core/keys/wallet.js';

const PRICE = 1000n;
const DEPOSIT = 500_000n;
const MIN_EXPIRY = 3600;
const MARGIN = 600;

describeBitcoin('Bitcoin cooperative close and fresh payee keys', () => {
  let chain: BitcoinChain;
  let alice: BitcoinWallet;
  let bob: BitcoinWallet;
  let payee: BitcoinWallet;
  let serve: Serve;
  /** The payee's BIP84 external chain m/84'/1'/0'/0, from its mnemonic (to check which child each channel pays). */
  let payeeChain: ReturnType<typeof BitcoinBIP32.fromSeed>;
  let aliceKey: Awaited<ReturnType<typeof bitcoinKeyOf>>;
  let bobKey: Awaited<ReturnType<typeof bitcoinKeyOf>>;

  beforeAll(async () => {
    chain = await startBitcoinChain();
    [alice, bob, payee] = await makeBitcoinWallets(chain, ['alice', 'bob', 'shop'], ['alice', 'bob']);
    const reveal = async (w: BitcoinWallet) => (await w.run(['keys', 'show', '--reveal', '--json'])).json.mnemonic as string;
    let phrases: string[];
    [serve, ...phrases] = await Promise.all([
      startServe(payee, ['--price', `${PRICE}sat`, '--min-expiry', String(MIN_EXPIRY), '--close-margin', String(MARGIN), '--watch-interval', '1']),
      reveal(payee), reveal(alice), reveal(bob),
    ]);
    payeeChain = BitcoinBIP32.fromSeed(Buffer.from(Mnemonic.fromPhrase(phrases[0]!).computeSeed().slice(2), 'hex')).derivePath("m/84'/1'/0'/0");
    aliceKey = await bitcoinKeyOf(phrases[1]!, 1);
    bobKey = await bitcoinKeyOf(phrases[2]!, 1);
  }, 180_000);
  afterAll(async () => {
    await serve?.stop();
    await chain?.stop();
  });

  const childKey = (i: number) => Buffer.from(payeeChain.derive(i).publicKey).toString('hex');
  async function offered(): Promise<ChannelRequirement> {
    const res = await fetch(`${serve.url}/weather`);
    expect(res.status).toBe(402);
    return decodePaymentRequired(res.headers.get('payment-required')!).accepts[0]!;
  }
  const buy = (w: BitcoinWallet, first = false) =>
    w.run(['buy', `${serve.url}/weather`, '--max-price', '2000sat', '--json', ...(first ? ['--yes', '--deposit', `${DEPOSIT}sat`] : [])]);
  async function postClose(body: unknown) {
    const res = await fetch(`${serve.url}/.well-known/channels/close`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  }

  let channelA: string;
  let channelB: string;

  describe('a fresh payee key per channel', () => {
    it('two buyers get channels paying different children of the merchant key, neither its base key', async () => {
      // Nothing is stored per 402: two challenges before any channel offer the same key.
      const [e1, e2] = [await offered(), await offered()];
      expect(e1.extra.payeeIndex).toBe(1);
      expect(e2).toEqual(e1);
      expect(e1.payTo).toBe(childKey(1));

      const a = await buy(alice, true);
      expect(a.code, a.stdout + a.stderr).toBe(0);
      channelA = a.json.channelId;
      for (let i = 0; i < 2; i++) expect((await buy(alice)).json).toMatchObject({ status: 200, paid: '1000', channelId: channelA, opened: null });

      // Once a channel pays index 1, the next 402 offers index 2.
      const e3 = await offered();
      expect(e3.extra.payeeIndex).toBe(2);
      expect(e3.payTo).toBe(childKey(2));
      const b = await buy(bob, true);
      expect(b.code, b.stdout + b.stderr).toBe(0);
      channelB = b.json.channelId;
      expect((await buy(bob)).json).toMatchObject({ status: 200, channelId: channelB, opened: null });
      // Alice, paying again after Bob's channel moved the offer on, still pays on her channel (found by its endpoint).
      expect((await buy(alice)).json).toMatchObject({ status: 200, channelId: channelA, opened: null, voucher: { amount: '4000' } });

      const [sa, sb] = [(await alice.run(['status', channelA, '--json'])).json, (await bob.run(['status', channelB, '--json'])).json];
      expect(sa.payee).toBe(childKey(1));
      expect(sb.payee).toBe(childKey(2));
      expect(new Set([sa.payee, sb.payee, payee.pubkey]).size).toBe(3);
      // The merchant stored each channel with the index it countersigns with; the payer kept it to echo.
      expect(channelRow(payee.home, channelA).data.payeeIndex).toBe(1);
      expect(channelRow(payee.home, channelB).data.payeeIndex).toBe(2);
      expect(channelRow(alice.home, channelA).data.payeeIndex).toBe(1);
      expect((await payee.run(['status', channelB, '--json'])).json).toMatchObject({ direction: 'inbound', payee: childKey(2), charged: '2000' });
    }, 180_000);

    describe('a payment naming a payee key that is not its script\'s payee is refused and stores nothing', () => {
      let fresh: { channelId: string; open: { depositTx: string; vout: number; redeemScript: string }; paymentTx: string; amount: bigint };

      beforeAll(async () => {
        // A channel opened by hand to the merchant's base key (index 0), with one payment not delivered.
        const o = await alice.run(['open', payee.pubkey, '100000sat', '--expiry', '7200', '--json']);
        expect(o.code, o.stderr).toBe(0);
        const p = await alice.run(['pay', o.json.channelId, '1000sat', '--no-deliver', '--json']);
        expect(p.code, p.stderr).toBe(0);
        const b = channelRow(alice.home, o.json.channelId).data;
        fresh = { channelId: o.json.channelId, open: { depositTx: b.depositTx, vout: b.depositVout, redeemScript: b.redeemScript }, paymentTx: p.json.voucher.paymentTx, amount: BigInt(p.json.voucher.amount) };
      }, 60_000);

      async function pay(accepted: ChannelRequirement) {
        const header = encodePaymentSignature(accepted, {
          type: 'open', channelId: fresh.channelId, voucher: bitcoinPayment(fresh.channelId, 1n, fresh.amount, fresh.paymentTx), open: fresh.open,
        });
        const res = await fetch(`${serve.url}/weather`, { headers: { 'payment-signature': header } });
        return { status: res.status, body: (await res.json()) as { error: string } };
      }

      const cases: [string, (e: ChannelRequirement) => ChannelRequirement, RegExp][] = [
        ['the key offered now (index 3), not the script\'s payee', (e) => e, /not this merchant's payee key of index 3/],
        ['a key offered before (index 1, channel A\'s)', (e) => ({ ...e, payTo: childKey(1), extra: { ...e.extra, payeeIndex: 1 } }), /not this merchant's payee key of index 1/],
        ['the base key as payTo with another index', (e) => ({ ...e, payTo: payee.pubkey }), /another network, payee or price/],
        ['an index never offered (with its true key)', (e) => ({ ...e, payTo: childKey(9), extra: { ...e.extra, payeeIndex: 9 } }), /another network, payee or price/],
        ['an index that is not an integer', (e) => ({ ...e, extra: { ...e.extra, payeeIndex: 1.5 } }), /another network, payee or price/],
      ];
      it.each(cases)('%s → 402', async (_name, accepted, reason) => {
        const e = await offered();
        expect(e.extra.payeeIndex).toBe(3);
        const before = dbSnapshot(payee.home);
        const r = await pay(accepted(e));
        expect(r.status).toBe(402);
        expect(r.body.error).toMatch(reason);
        expect(dbSnapshot(payee.home)).toBe(before);
      });

      it('the same payment naming the base key (index 0) is accepted: channels to the base key keep working', async () => {
        const e = await offered();
        const r = await pay({ ...e, payTo: payee.pubkey, extra: { ...e.extra, payeeIndex: 0 } });
        expect(r.status).toBe(200);
        expect(channelRow(payee.home, fresh.channelId).data.payeeIndex).toBeUndefined();
        expect(channelRow(payee.home, fresh.channelId).payee).toBe(payee.pubkey);
        // A channel to index 0 does not move the offer.
        expect((await offered()).extra.payeeIndex).toBe(3);
      });
    });
  });

  it('a 402 whose channel endpoint is not a URL is refused before anything is opened (exit 4)', async () => {
    const e = await offered();
    const bad = createServer((_req, res) => {
      res.writeHead(402, { 'payment-required': encodePaymentRequired({ x402Version: 2, resource: { url: '/x' }, accepts: [{ ...e, extra: { ...e.extra, endpoint: 'http://[' } }] }) }).end('{}');
    });
    await new Promise<void>((ok) => bad.listen(0, '127.0.0.1', ok));
    const before = dbSnapshot(bob.home);
    const r = await bob.run(['buy', `http://127.0.0.1:${(bad.address() as AddressInfo).port}/x`, '--max-price', '2000sat', '--yes', '--json']);
    bad.close();
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.json.error.message).toMatch(/channel endpoint "http:\/\/\[" is not a URL/);
    expect(dbSnapshot(bob.home)).toBe(before);
  });

  describe('cooperative close requested by the payer', () => {
    it('a forged close request (another key, garbage, an EVM signature) → 403; nothing stored, nothing broadcast', async () => {
      const before = dbSnapshot(payee.home);
      const forged = [
        signBitcoinCloseRequest(bobKey, chain.node.caip2, channelA), // Bob's key on Alice's channel
        signBitcoinCloseRequest(aliceKey, chain.node.caip2, channelB), // Alice's key, but signing for another channel
        signBitcoinCloseRequest(aliceKey, 'bip122:00000000000000000000000000000000', channelA), // another network's request
        '00'.repeat(64),
        '0x' + 'ab'.repeat(65),
      ];
      for (const signature of forged) {
        const r = await postClose({ channelId: channelA, signature });
        expect(r.status, JSON.stringify(signature)).toBe(403);
        expect(r.body).toMatchObject({ reason: 'bad_signature', error: expect.stringMatching(/not signed by the channel's payer/) });
      }
      expect((await postClose({ channelId: channelA, signature: 42 })).status).toBe(400); // not even a string
      expect(dbSnapshot(payee.home)).toBe(before);
      expect((await chain.backend.outputStatus(channelA.slice(2), 0)).unspent).toBe(true);
    });

    it('an unknown channel → 404', async () => {
      const r = await postClose({ channelId: '0x' + 'ee'.repeat(32), signature: signBitcoinCloseRequest(aliceKey, chain.node.caip2, '0x' + 'ee'.repeat(32)) });
      expect(r.status).toBe(404);
    });

    it('`channels close` by the payer: the merchant countersigns and broadcasts the best payment at once; amounts add up on the node', async () => {
      const closeFee = BigInt(channelRow(alice.home, channelA).data.closeFee);
      const r = await alice.run(['close', channelA.slice(0, 12), '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json).toMatchObject({
        channelId: channelA, result: 'closed', paidToPayee: '4000', refundedToPayer: (DEPOSIT - 4000n - closeFee).toString(), fee: closeFee.toString(),
      });
      await chain.mine(1);
      const tx = await chain.backend.getTransaction(r.json.transaction);
      expect(tx!.confirmations).toBeGreaterThanOrEqual(1);
      const outs = tx!.tx.outs.map((o) => ({ script: Buffer.from(o.script).toString('hex'), value: o.value }));
      expect(outs).toEqual([
        { script: Buffer.from(keyOutputScript(Buffer.from(childKey(1), 'hex'))).toString('hex'), value: 4000n },
        { script: Buffer.from(keyOutputScript(Buffer.from(alice.pubkey, 'hex'))).toString('hex'), value: DEPOSIT - 4000n - closeFee },
      ]);
      expect((await chain.backend.outputStatus(channelA.slice(2), 0)).unspent).toBe(false);
      expect((await alice.run(['status', channelA, '--json'])).json).toMatchObject({ state: 'closed', redeemed: '4000', closeTx: r.json.transaction });
      expect((await payee.run(['status', channelA, '--json'])).json).toMatchObject({ state: 'closed', redeemed: '4000', closeTx: r.json.transaction });
    }, 60_000);

    it('a repeated close request answers 200 with the same close transaction (idempotent); the payer\'s second close exits 8', async () => {
      const closeTx = channelRow(payee.home, channelA).close_tx;
      const r = await postClose({ channelId: channelA, signature: signBitcoinCloseRequest(aliceKey, chain.node.caip2, channelA) });
      expect(r).toEqual({ status: 200, body: { channelId: channelA, transaction: closeTx, redeemed: '4000' } });
      const again = await alice.run(['close', channelA, '--json']);
      expect(again.code).toBe(8);
      expect(again.json.error.message).toMatch(/closed already/);
    });

    it('the merchant refuses (unknown channel), lies (200 with a transaction that does not close the channel) or is unreachable, or no endpoint is bound: exit 8 with the reason, when to collect, and the channel stays open', async () => {
      const endpoint = `${serve.url}/.well-known/channels`;
      // A hostile merchant: answers every close request 200 with the txid of channel A's deposit (on the node, spends nothing of ours).
      const liar = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ transaction: channelA.slice(2), redeemed: '0' })));
      await new Promise<void>((ok) => liar.listen(0, '127.0.0.1', ok));
      const liarUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/.well-known/channels`;
      const unknown = await alice.run(['open', payee.pubkey, '100000sat', '--expiry', '7200', '--url', endpoint, '--json']);
      const lied = await alice.run(['open', payee.pubkey, '100000sat', '--expiry', '7200', '--url', liarUrl, '--json']);
      const dead = await alice.run(['open', payee.pubkey, '100000sat', '--expiry', '7200', '--url', 'http://127.0.0.1:1/.well-known/channels', '--json']);
      const unbound = await alice.run(['open', payee.pubkey, '100000sat', '--expiry', '7200', '--json']);
      for (const o of [unknown, lied, dead, unbound]) expect(o.code, o.stderr).toBe(0);
      const cases: [any, RegExp][] = [
        [unknown, /the merchant answered 404/],
        [lied, new RegExp(`the merchant's transaction ${channelA.slice(2)} does not spend the channel's deposit`)],
        [dead, /Cannot reach the merchant/],
        [unbound, /no merchant endpoint is bound/],
      ];
      for (const [o, reason] of cases) {
        const before = dbSnapshot(alice.home);
        const r = await alice.run(['close', o.json.channelId]);
        expect(r.code, r.stderr).toBe(8);
        expect(r.stderr).toMatch(reason);
        expect(r.stderr).toContain(`wait for the expiry (${new Date(o.json.expiry * 1000).toISOString()})`);
        expect(r.stderr).toContain(`channels collect ${o.json.channelId.slice(0, 10)}`);
        expect(dbSnapshot(alice.home)).toBe(before);
        expect((await chain.backend.outputStatus(o.json.channelId.slice(2), 0)).unspent).toBe(true);
      }
      liar.close();
    }, 180_000);
  });

  describe('the watcher', () => {
    it('closes Bob\'s channel with its own payee key (index 2) before the expiry; the node accepts the transaction', async () => {
      const expiry = channelRow(bob.home, channelB).data.expiry as number;
      // Bob's best payment (his first was raised to Litecoin's dust threshold, 2940 sat, then +1)
      const best = BigInt((await bob.run(['status', channelB, '--json'])).json.spent);
      expect(best).toBe(2941n);
      await chain.warpTo(expiry - MARGIN + 60);
      let state = '';
      for (let i = 0; i < 120 && state !== 'closed'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        state = channelRow(payee.home, channelB).state;
      }
      expect(state, serve.stderr()).toBe('closed');
      const closeTx = channelRow(payee.home, channelB).close_tx;
      await chain.mine(1);
      const tx = await chain.backend.getTransaction(closeTx);
      expect(tx!.confirmations).toBeGreaterThanOrEqual(1);
      expect(Buffer.from(tx!.tx.outs[0]!.script).toString('hex')).toBe(Buffer.from(keyOutputScript(Buffer.from(childKey(2), 'hex'))).toString('hex'));
      expect(tx!.tx.outs[0]!.value).toBe(best);
      expect((await bob.run(['sync', channelB, '--json'])).json.state).toBe('closed');
    }, 120_000);
  });
});
