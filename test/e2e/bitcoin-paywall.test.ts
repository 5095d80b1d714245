/**
 * Issue 4 point 4 and the watcher of point 3: the real `channels serve` on a
 * litecoind regtest network offers a bip122 entry; the real `channels buy` opens a
 * Bitcoin channel and pays with half-signed payments; every payee refusal is a row of
 * a table (documented status, reason, no stored change); and the payee's watcher
 * closes with the best payment once the chain's time comes within the close margin
 * of the expiry while the payer is silent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction, script as bscript } from 'bitcoinjs-lib';
import { describeBitcoin, startBitcoinChain, makeBitcoinWallets, type BitcoinChain, type BitcoinWallet } from '../helpers/bitcoin.js';
import { channelRow, dbSnapshot, startServe, type Serve } from '../helpers/cli.js';
import { decodePaymentRequired, encodePaymentSignature, type ChannelRequirement } from '../../src/index.js';
import { BitcoinBIP32, buildRedeemScript, keyOutputScript } from '../../src/families/bitcoin/index.js';
import { IF_BRANCH, SEQUENCE_FINAL, txidToHash } from '../../src/families/bitcoin/spend.js';
import { bitcoinPayment } from '../../src/families/bitcoin/inbound.js';
import { bitcoinKeyOf } from '../../src/core/keys/wallet.js';

describeBitcoin('paywall, buy and watcher over Bitcoin channels', () => {
  const PRICE = 1000n;
  const DEPOSIT = 2_000_000n;
  const MIN_EXPIRY = 3600;
  const MARGIN = 600;

  let chain: BitcoinChain;
  let payer: BitcoinWallet;
  let payee: BitcoinWallet;
  let serve: Serve;

  beforeAll(async () => {
    chain = await startBitcoinChain();
    [payer, payee] = await makeBitcoinWallets(chain, ['payer', 'payee'], ['payer']);
    serve = await startServe(payee, ['--price', `${PRICE}sat`, '--min-expiry', String(MIN_EXPIRY), '--close-margin', String(MARGIN), '--watch-interval', '1']);
  }, 120_000);
  afterAll(async () => {
    await serve?.stop();
    await chain?.stop();
  });

  let entry: ChannelRequirement;
  let channelId: string;

  describe('paywall and buy over a Bitcoin channel', () => {
    it('the 402 offers a bip122 entry paid to a fresh payee pubkey (index 1 of the key\'s chain) in satoshis', async () => {
      const res = await fetch(`${serve.url}/weather`);
      expect(res.status).toBe(402);
      const challenge = decodePaymentRequired(res.headers.get('payment-required')!);
      expect(challenge.accepts).toHaveLength(1);
      entry = challenge.accepts[0]!;
      expect(entry).toMatchObject({ scheme: 'channel', network: chain.node.caip2, asset: 'sat', amount: '1000' });
      expect(entry.payTo).toMatch(/^0[23][0-9a-f]{64}$/);
      expect(entry.payTo).not.toBe(payee.pubkey);
      expect(entry.network).toMatch(/^bip122:[0-9a-f]{32}$/);
      expect(entry.extra).toMatchObject({ minExpirySeconds: MIN_EXPIRY, closeMargin: MARGIN, p2sh: false, payeeIndex: 1 });
      expect(entry.extra.contract).toBeUndefined();
    });

    it('buy opens a channel (deposit confirmed) and pays 6 requests with half-signed payments', async () => {
      const first = await payer.run(['buy', `${serve.url}/weather`, '--yes', '--max-price', '2000sat', '--deposit', `${DEPOSIT}sat`, '--json']);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      expect(first.json).toMatchObject({ status: 200, paid: '1000' });
      expect(first.json.opened.channelId).toBe(first.json.channelId);
      channelId = first.json.channelId;
      // The first payment is raised to litecoind's dust threshold for its P2WPKH output (2940 sat); the
      // second must still pay more (2941); from the third on the amount is charged + price again.
      expect(first.json.voucher).toMatchObject({ nonce: '1', amount: '2940' });
      for (let i = 2; i <= 6; i++) {
        const r = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '2000sat', '--json']);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.json).toMatchObject({ status: 200, paid: '1000', channelId, opened: null });
        expect(r.json.voucher).toMatchObject({ nonce: String(i), amount: String(i === 2 ? 2941 : 1000 * i) });
      }
      const inbound = await payee.run(['status', channelId, '--json']);
      expect(inbound.json).toMatchObject({ direction: 'inbound', state: 'open', charged: '6000', spent: '6000', deposit: DEPOSIT.toString() });
      const outbound = await payer.run(['status', channelId, '--json']);
      expect(outbound.json).toMatchObject({ charged: '6000', spent: '6000', reserved: '0' });
      // A price above --max-price is refused before anything is signed (exit 3).
      const dear = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '999sat', '--json']);
      expect(dear.code).toBe(3);
    }, 120_000);
  });

  // ---- the payee's refusals ------------------------------------------------------------------------

  interface Craft {
    key?: 'payer' | 'stranger';
    redeem?: 'channel' | 'other-expiry';
    outpoint?: 'deposit' | 'other';
    extraInput?: boolean;
    payee: bigint;
    change?: bigint;
    fee?: bigint;
    locktime?: number;
    sequence?: number;
    sighash?: number;
  }

  describe('refusals: each a documented status, and nothing stored', () => {
    const stranger = BitcoinBIP32.fromSeed(Buffer.alloc(32, 5)).derivePath("m/84'/1'/0'/0/0");
    let channel: any;
    let payerKey: any;

    beforeAll(async () => {
      channel = channelRow(payer.home, channelId);
      const show = await payer.run(['keys', 'show', '--reveal', '--json']);
      payerKey = await bitcoinKeyOf(show.json.mnemonic, 1);
    });

    /** A payment built by hand (no builder checks), so each rule can be broken alone. */
    function craft(c: Craft, on: any = channel): string {
      const b = on.data;
      const redeem = Buffer.from(b.redeemScript, 'hex');
      const payeeKey = Buffer.from(on.payee, 'hex');
      const signRedeem = c.redeem === 'other-expiry' ? buildRedeemScript({ payeePubkey: payeeKey, payerPubkey: payerKey.publicKey, expiry: on.data.expiry + 1 }) : redeem;
      const tx = new Transaction();
      tx.version = 2;
      tx.locktime = c.locktime ?? 0;
      tx.addInput(txidToHash(c.outpoint === 'other' ? 'ab'.repeat(32) : on.id.slice(2)), b.depositVout, c.sequence ?? SEQUENCE_FINAL);
      if (c.extraInput) tx.addInput(txidToHash('cd'.repeat(32)), 0, SEQUENCE_FINAL);
      tx.addOutput(keyOutputScript(payeeKey), c.payee);
      const change = c.change ?? DEPOSIT - c.payee - (c.fee ?? 2000n);
      if (change > 0n) tx.addOutput(keyOutputScript(payerKey.publicKey), change);
      const sighash = c.sighash ?? Transaction.SIGHASH_ALL;
      const key = c.key === 'stranger' ? stranger : payerKey;
      const sig = bscript.signature.encode(Buffer.from(key.sign(tx.hashForWitnessV0(0, signRedeem, DEPOSIT, sighash))), sighash);
      tx.setWitness(0, [sig, IF_BRANCH, signRedeem]);
      return tx.toHex();
    }

    /** The 402 entry naming the merchant's base key (index 0), which `open <payee.pubkey>` pays. */
    const baseEntry = (): ChannelRequirement => ({ ...entry, payTo: payee.pubkey, extra: { ...entry.extra, payeeIndex: 0 } });

    async function post(paymentTx: string, nonce: bigint, amount: bigint, o: { open?: any; entry?: ChannelRequirement; raw?: string } = {}) {
      const header = o.raw ?? encodePaymentSignature(o.entry ?? entry, {
        type: o.open ? 'open' : 'voucher', channelId: o.open?.channelId ?? channelId, voucher: bitcoinPayment(o.open?.channelId ?? channelId, nonce, amount, paymentTx),
        ...(o.open ? { open: o.open.open } : {}),
      });
      const res = await fetch(`${serve.url}/weather`, { headers: { 'payment-signature': header } });
      return { status: res.status, body: (await res.json()) as { error: string } };
    }

    const cases: [string, Craft, RegExp][] = [
      ['a signature by another key', { key: 'stranger', payee: 7000n }, /not the payer/],
      ['a wrong script (another expiry)', { redeem: 'other-expiry', payee: 7000n }, /another witness script/],
      ['a wrong outpoint', { outpoint: 'other', payee: 7000n }, /another outpoint/],
      ['a transaction that spends something else too', { extraInput: true, payee: 7000n }, /2 inputs/],
      ['an amount not above the last one', { payee: 6000n }, /not above the last one/],
      ['a payee output below the price', { payee: 6500n }, /7000 is due/],
      ['a change output below dust', { payee: 7000n, change: 100n, fee: DEPOSIT - 7100n }, /below the dust threshold/],
      ['a fee below the floor', { payee: 7000n, fee: 10n }, /below the floor/],
      ['a fee above the cap', { payee: 7000n, fee: 1_500_000n }, /above the cap/],
      ['a time-locked payment (nLockTime)', { payee: 7000n, locktime: 500 }, /time-locked/],
      ['a non-final payment (sequence)', { payee: 7000n, sequence: 0xfffffffe }, /not final/],
      ['a signature that is not SIGHASH_ALL', { payee: 7000n, sighash: Transaction.SIGHASH_SINGLE }, /not SIGHASH_ALL/],
    ];

    it.each(cases)('%s → 402', async (_name, c, reason) => {
      const before = dbSnapshot(payee.home);
      const r = await post(craft(c), 7n, c.payee);
      expect(r.status).toBe(402);
      expect(r.body.error).toMatch(reason);
      expect(dbSnapshot(payee.home)).toBe(before);
    });

    it('a correct payment crafted the same way is accepted (the table is not refusing everything)', async () => {
      const r = await post(craft({ payee: 7000n }), 7n, 7000n);
      expect(r.status).toBe(200);
      const st = await payee.run(['status', channelId, '--json']);
      expect(st.json.charged).toBe('7000');
    });

    it('a stated amount that differs from the transaction → 402; malformed hex → 400; both store nothing', async () => {
      const before = dbSnapshot(payee.home);
      const lie = await post(craft({ payee: 9000n }), 8n, 10_000n);
      expect(lie.status).toBe(402);
      expect(lie.body.error).toMatch(/not the 10000 it states/);
      const bad = await post('zz', 8n, 9000n);
      expect(bad.status).toBe(400);
      expect(dbSnapshot(payee.home)).toBe(before);
    });

    it('a payee output below dust (the first payment of a new channel) → 402, nothing stored', async () => {
      const o = await payer.run(['open', payee.pubkey, `${DEPOSIT}sat`, '--expiry', '7200', '--json']);
      expect(o.code, o.stderr).toBe(0);
      const fresh = channelRow(payer.home, o.json.channelId);
      const b = fresh.data;
      const before = dbSnapshot(payee.home);
      const r = await post(craft({ payee: 200n }, fresh), 1n, 200n, {
        open: { channelId: o.json.channelId, open: { depositTx: b.depositTx, vout: b.depositVout, redeemScript: b.redeemScript } }, entry: baseEntry(),
      });
      expect(r.status).toBe(402);
      // litecoind's dust relay fee is 30 sat/vB (Bitcoin's 3): a P2WPKH output relays from 2940 sat.
      expect(r.body.error).toMatch(/payee output \(200 sat\) is below the dust threshold \(2940 sat\)/);
      expect(dbSnapshot(payee.home)).toBe(before);
    });

    it('a new channel whose expiry is too soon → 402, nothing stored', async () => {
      const o = await payer.run(['open', payee.pubkey, '100000sat', '--expiry', '600', '--json']);
      expect(o.code, o.stderr).toBe(0);
      const p = await payer.run(['pay', o.json.channelId, '1000sat', '--no-deliver', '--json']);
      const b = channelRow(payer.home, o.json.channelId).data;
      const before = dbSnapshot(payee.home);
      const r = await post(p.json.voucher.paymentTx, 1n, 1000n, {
        open: { channelId: o.json.channelId, open: { depositTx: b.depositTx, vout: b.depositVout, redeemScript: b.redeemScript } }, entry: baseEntry(),
      });
      expect(r.status).toBe(402);
      expect(r.body.error).toMatch(/expires in \d+ s; this merchant needs at least 3600 s/);
      expect(dbSnapshot(payee.home)).toBe(before);
    });
  });

  describe('the watcher', () => {
    it('closes with the best payment once the chain time is within the margin of the expiry, while the payer is silent', async () => {
      const expiry = channelRow(payer.home, channelId).data.expiry as number;
      await chain.warpTo(expiry - MARGIN + 60);
      let state = '';
      for (let i = 0; i < 60 && state !== 'closed'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        state = (await payee.run(['status', channelId, '--json'])).json.state;
      }
      expect(state).toBe('closed');
      expect(serve.stderr()).toMatch(/closed with 7000 sat before the expiry/);
      const closeTx = (await payee.run(['status', channelId, '--json'])).json.closeTx;
      await chain.mine(1);
      const tx = await chain.backend.getTransaction(closeTx);
      expect(tx!.confirmations).toBeGreaterThanOrEqual(1);
      expect(tx!.tx.outs[0]!.value).toBe(7000n);
      const sync = await payer.run(['sync', channelId, '--json']);
      expect(sync.json.state).toBe('closed');
      expect((await payer.run(['status', channelId, '--json'])).json.redeemed).toBe('7000');
    }, 60_000);
  });
});
