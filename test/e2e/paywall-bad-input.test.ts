/**
 * The paywall against bad and hostile PAYMENT-SIGNATURE headers (DESIGN §6), end to
 * end: a real anvil, a real `channels serve` (price 1000 wei) and a payer that has
 * bought once with the real binary. The table runs twice: against a paywall that checks
 * headers on a worker thread (`--verify-threads 1`) and against one that checks them on
 * its event loop (`--verify-threads 0`), both on the payee's one database. Every case is one request to `/weather`; each
 * asserts the documented HTTP status and that neither wallet's database changed.
 * A positive control at the end proves the same request path does write when the
 * voucher is right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDNodeWallet, Wallet, ethers } from 'ethers';
import { encodePaymentSignature, voucherFromWire, voucherToWire, type ChannelRequirement, type PaymentRequired, type UnsignedVoucher, type EvmVoucher as Voucher } from '../../dist/index.js';
import { recoverVoucherSigner, signVoucher } from '../../dist/families/evm/index.js';
import { dbSnapshot, makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { highS } from '../helpers/voucher.js';

const PRICE = 1000n;
const CHAIN_ID = 31337n;
const PATH = '/weather';

let chain: Chain;
let payee: TestWallet;
let payer: TestWallet;
let serve: Serve;
/** The paywalls by verify threads (1: worker thread, 0: event loop); `serve` is the one under test. */
const serves: Record<number, Serve> = {};
/** The payer's signing key, from its own mnemonic. */
let payerKey: HDNodeWallet;
/** The `accepts[0]` entry of a fresh 402. */
let accepted: ChannelRequirement;
let contract: string;
/** The channel opened by the first `channels buy`. */
let channelId: string;
/** The voucher the payee accepted for that buy. */
let last: Voucher;
/** A channel from the payer to a third address (not this payee). */
let otherChannelId: string;
/** A channel from the payer to this payee with a deposit of 1,000 wei (below the paywall's minimum). */
let smallChannelId: string;
/** A channel from the payer to this payee that the paywall has never seen a voucher for. */
let unseenChannelId: string;

const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64');
const decode64 = (h: string) => JSON.parse(Buffer.from(h, 'base64').toString('utf8'));

function get(header?: string) {
  return fetch(serve.url + PATH, { headers: header === undefined ? {} : { 'payment-signature': header } });
}

/** A voucher on `channelId`, plain, with `fields` overridden. */
function unsigned(fields: Partial<UnsignedVoucher>): UnsignedVoucher {
  return {
    channelId, lane: 0n, nonce: last.nonce + 1n, amount: last.amount + PRICE, secretHash: ethers.ZeroHash,
    timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], ...fields,
  };
}
const sign = (v: UnsignedVoucher, key: HDNodeWallet = payerKey): Voucher => signVoucher(v, key, CHAIN_ID, contract);
const header = (v: Voucher, entry: ChannelRequirement = accepted) => encodePaymentSignature(entry, { type: 'voucher', channelId: v.channelId, voucher: v });
/** A valid x402 v2 envelope for `v`, as an object to tamper with. */
const envelope = (v: Voucher) => ({ x402Version: 2, accepted, payload: { type: 'voucher', channelId: v.channelId, voucher: voucherToWire(v) } });

interface Case {
  name: string;
  header: () => string | undefined;
  status: number;
  /** Matches the JSON body's `error`. */
  error: RegExp;
  /** A corrective 402: checks `accepts[0].extra.channelState`. */
  corrective?: (state: any) => void;
  /** Further checks of the 402 challenge. */
  challenge?: (pr: PaymentRequired) => void;
}

const CASES: Case[] = [
  {
    name: 'missing header',
    header: () => undefined,
    status: 402,
    error: /^Payment required\.$/,
    challenge: (pr) => {
      expect(pr.x402Version).toBe(2);
      expect(pr.accepts).toHaveLength(1);
      expect(pr.accepts[0]).toMatchObject({
        scheme: 'channel', network: 'eip155:31337', amount: '1000', asset: ethers.ZeroAddress, payTo: serve.payTo,
        extra: { contract, minSettleDelay: 60, endpoint: '/.well-known/channels' },
      });
      expect(pr.accepts[0].extra.channelState).toBeUndefined();
    },
  },
  { name: 'malformed JSON inside base64', header: () => b64('{"x402Version":2,"accepted":'), status: 400, error: /not base64-encoded JSON/ },
  { name: 'not base64 at all', header: () => '%%% not base64 %%%', status: 400, error: /not base64-encoded JSON/ },
  { name: 'base64 of a JSON string, not an object', header: () => b64('"hello"'), status: 400, error: /not an x402 version 2 payload/ },
  { name: 'oversized (> 8 KiB)', header: () => 'A'.repeat(8193), status: 431, error: /larger than 8192 bytes/ },
  { name: 'oversized valid-looking envelope', header: () => b64({ ...envelope(sign(unsigned({}))), pad: 'x'.repeat(8192) }), status: 431, error: /larger than 8192 bytes/ },
  { name: 'x402Version 1', header: () => b64({ ...envelope(sign(unsigned({}))), x402Version: 1 }), status: 400, error: /not an x402 version 2 payload/ },
  { name: 'wrong scheme', header: () => b64({ ...envelope(sign(unsigned({}))), accepted: { ...accepted, scheme: 'exact' } }), status: 400, error: /Unsupported scheme "exact"/ },
  {
    name: 'malformed voucher field (amount as a number)',
    header: () => {
      const e = envelope(sign(unsigned({})));
      return b64({ ...e, payload: { ...e.payload, voucher: { ...e.payload.voucher, amount: 2000 } } });
    },
    status: 400,
    error: /Malformed voucher: amount/,
  },
  {
    name: 'payload channelId differs from the voucher',
    header: () => {
      const e = envelope(sign(unsigned({})));
      return b64({ ...e, payload: { ...e.payload, channelId: otherChannelId } });
    },
    status: 400,
    error: /channelId differs/,
  },
  {
    name: 'accepted entry with another price',
    header: () => header(sign(unsigned({})), { ...accepted, amount: '1' }),
    status: 402,
    error: /another network, payee or price/,
  },
  { name: 'voucher for an unknown channel id', header: () => header(sign(unsigned({ channelId: ethers.id('no such channel'), nonce: 1n, amount: PRICE }))), status: 402, error: /does not exist on eip155:31337/ },
  { name: 'voucher for a channel to another payee', header: () => header(sign(unsigned({ channelId: otherChannelId, nonce: 1n, amount: PRICE }))), status: 402, error: /pays 0x[0-9a-fA-F]{40}, not this merchant/ },
  {
    name: 'replay of the last accepted voucher',
    header: () => header(last),
    status: 402,
    error: /Nonce \d+ on lane 0 is not above the last accepted \d+/,
    corrective: (state) => {
      expect(state.lane).toBe('0');
      expect(state.nonce).toBe(last.nonce.toString());
      expect(state.amount).toBe(last.amount.toString());
      expect(state.voucher).toEqual(voucherToWire(last));
    },
  },
  {
    name: 'reused nonce with a higher amount',
    header: () => header(sign(unsigned({ nonce: last.nonce, amount: last.amount + 5n * PRICE }))),
    status: 402,
    error: /is not above the last accepted/,
    corrective: (state) => expect(state).toMatchObject({ lane: '0', nonce: last.nonce.toString(), voucher: voucherToWire(last) }),
  },
  {
    name: 'lower nonce',
    header: () => header(sign(unsigned({ nonce: last.nonce - 1n, amount: last.amount + PRICE }))),
    status: 402,
    error: /is not above the last accepted/,
    corrective: (state) => expect(state).toMatchObject({ lane: '0', nonce: last.nonce.toString(), voucher: voucherToWire(last) }),
  },
  {
    name: 'too low an amount (higher nonce, amount < charged + price)',
    header: () => header(sign(unsigned({ amount: last.amount + PRICE - 1n }))),
    status: 402,
    error: /covers \d+; \d+ is due/,
    corrective: (state) => expect(state).toMatchObject({ lane: '0', nonce: last.nonce.toString(), voucher: voucherToWire(last) }),
  },
  {
    name: 'amount below the lane\'s last (higher nonce)',
    header: () => header(sign(unsigned({ amount: last.amount - 1n }))),
    status: 402,
    error: /is below the lane's last/,
    corrective: (state) => expect(state).toMatchObject({ lane: '0', amount: last.amount.toString(), voucher: voucherToWire(last) }),
  },
  {
    name: 'new lane whose amount leaves the channel total below charged + price',
    // lane 1 adds 500 to lane 0's 1000: total 1500 < charged 1000 + price 1000
    header: () => header(sign(unsigned({ lane: 1n, nonce: 1n, amount: PRICE / 2n }))),
    status: 402,
    error: /covers 1500; 2000 is due/,
    corrective: (state) => {
      expect(state).toMatchObject({ lane: '1', nonce: '0', amount: '0' });
      expect(state.voucher).toBeUndefined();
    },
  },
  {
    name: 'amount above the deposit',
    header: () => header(sign(unsigned({ amount: ethers.parseEther('1') + 1n }))),
    status: 402,
    error: /exceeds the deposit/,
  },
  { name: 'signed by another key', header: () => header(sign(unsigned({}), HDNodeWallet.createRandom())), status: 402, error: /Voucher signed by 0x[0-9a-fA-F]{40}, not by the payer/ },
  {
    name: 'signature of the right key over other fields',
    header: () => {
      const v = sign(unsigned({}));
      return header({ ...v, amount: v.amount + 1n });
    },
    status: 402,
    error: /not by the payer/,
  },
  {
    name: 'high-s twin of a valid signature',
    header: () => {
      const v = sign(unsigned({}));
      return header({ ...v, signature: highS(v.signature) });
    },
    // the envelope is well-formed; recoverVoucherSigner refuses the twin → VoucherRefusedError → 402
    status: 402,
    error: /high s value \(malleable twin\); refused/,
  },
  {
    // Issue 9 bug 1: the contract refuses nonce ≤ the lane's on-chain nonce (0 for a new lane), so this could never be redeemed.
    name: 'nonce 0 on a lane the paywall has not seen (free service)',
    header: () => header(sign(unsigned({ lane: 5n, nonce: 0n, amount: PRICE }))),
    status: 402,
    error: /nonce 0 on lane 5 is not above 0/,
    corrective: (state) => expect(state).toMatchObject({ lane: '5', nonce: '0', amount: '0' }),
  },
  {
    // Issue 9 bug 2: the 402 asks for a deposit of at least 100 × price; a 1,000-wei channel is not served.
    name: 'a channel whose deposit is below the 402\'s minDeposit',
    header: () => header(sign(unsigned({ channelId: smallChannelId, nonce: 1n, amount: PRICE }))),
    status: 402,
    error: /deposit of 1000; this merchant needs at least 100000/,
  },
  {
    // Issue 9 bug 3: a real channel to this payee, never seen, and a voucher signed by another key: no row is learned.
    name: 'another key\'s voucher on a real channel the paywall has not seen',
    header: () => header(sign(unsigned({ channelId: unseenChannelId, nonce: 1n, amount: PRICE }), HDNodeWallet.createRandom())),
    status: 402,
    error: /Voucher signed by 0x[0-9a-fA-F]{40}, not by the payer/,
  },
  {
    name: 'conditional voucher (hash lock)',
    header: () => header(sign(unsigned({ secretHash: ethers.sha256('0x01') }))),
    status: 402,
    error: /plain vouchers only/,
  },
];

beforeAll(async () => {
  chain = await startChain(); // throws (fails the file) when anvil is missing
  [payee, payer] = await Promise.all([makeWallet('payee', chain.anvil.rpcUrl), makeWallet('payer', chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(payee.address), chain.fund(payer.address)]);
  serves[1] = await startServe(payee, ['--price', PRICE.toString(), '--verify-threads', '1']);
  serves[0] = await startServe(payee, ['--price', PRICE.toString(), '--verify-threads', '0']);
  serve = serves[1];

  const bought = await payer.run(['buy', serve.url + PATH, '--max-price', '5000', '--deposit', '1eth', '--yes', '--json']);
  expect(bought.code, bought.stdout + bought.stderr).toBe(0);
  expect(bought.json.status).toBe(200);
  expect(bought.json.paid).toBe('1000');
  channelId = bought.json.channelId;
  last = voucherFromWire(bought.json.voucher);

  const shown = await payer.run(['keys', 'show', '--reveal', '--json']);
  expect(shown.code, shown.stdout + shown.stderr).toBe(0);
  payerKey = HDNodeWallet.fromPhrase(shown.json.mnemonic, undefined, "m/44'/60'/0'/0/0");
  expect(payerKey.address).toBe(payer.address);

  const res = await get();
  expect(res.status).toBe(402);
  const pr = decode64(res.headers.get('payment-required')!) as PaymentRequired;
  accepted = pr.accepts[0];
  contract = accepted.extra.contract!;
  expect(recoverVoucherSigner(last, CHAIN_ID, contract)).toBe(payer.address);

  // A channel from the same payer to someone else (changes the payer DB: done before any snapshot).
  const third = Wallet.createRandom().address;
  const opened = await payer.run(['open', third, '0.1eth', '--json']);
  expect(opened.code, opened.stdout + opened.stderr).toBe(0);
  expect(opened.json).toMatchObject({ payer: payer.address, payee: third, state: 'open' });
  otherChannelId = opened.json.channelId;
  expect(otherChannelId).toMatch(/^0x[0-9a-f]{64}$/);
  expect(otherChannelId).not.toBe(channelId);
  const small = await payer.run(['open', payee.address, '1000', '--settle-delay', '3600', '--json']);
  expect(small.code, small.stdout + small.stderr).toBe(0);
  smallChannelId = small.json.channelId;
  const unseen = await payer.run(['open', payee.address, '0.01eth', '--settle-delay', '3600', '--json']);
  expect(unseen.code, unseen.stdout + unseen.stderr).toBe(0);
  unseenChannelId = unseen.json.channelId;
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(serves).map((s) => s.stop()));
  await chain?.stop();
});

describe.each([1, 0])('paywall with %i verify threads: bad PAYMENT-SIGNATURE headers change nothing', (threads) => {
  beforeAll(() => {
    serve = serves[threads];
  });

  it('setup left one accepted voucher in each database', () => {
    const payeeDb = JSON.parse(dbSnapshot(payee.home));
    const payerDb = JSON.parse(dbSnapshot(payer.home));
    expect(payeeDb.vouchers).toHaveLength(1);
    expect(payerDb.vouchers).toHaveLength(1);
    expect(payeeDb.channels).toHaveLength(1);
    expect(payerDb.channels).toHaveLength(4);
  });

  it.each(CASES)('$name → $status', async (c) => {
    const before = { payer: dbSnapshot(payer.home), payee: dbSnapshot(payee.home) };
    const res = await get(c.header());
    const body = (await res.json()) as { error: string };
    expect(res.status, JSON.stringify(body)).toBe(c.status);
    expect(body.error).toMatch(c.error);
    expect(res.headers.get('payment-response')).toBeNull();
    if (c.status === 402) {
      const pr = decode64(res.headers.get('payment-required')!) as PaymentRequired;
      expect(pr.error).toBe(body.error);
      expect(pr.accepts[0].scheme).toBe('channel');
      c.challenge?.(pr);
      const state = pr.accepts[0].extra.channelState as any;
      if (c.corrective) {
        expect(state).toMatchObject({ channelId, charged: '1000' });
        // the corrective carries the payer's own last voucher on the lane, which the payer can verify
        if (state.voucher) expect(recoverVoucherSigner(voucherFromWire(state.voucher), CHAIN_ID, contract)).toBe(payer.address);
        c.corrective(state);
      } else {
        expect(state).toBeUndefined();
      }
    } else {
      expect(c.corrective).toBeUndefined();
      expect(res.headers.get('payment-required')).toBeNull();
    }
    expect(dbSnapshot(payer.home)).toBe(before.payer);
    expect(dbSnapshot(payee.home)).toBe(before.payee);
  });

  it('channels buy with --max-price below the price exits 3 (PRICE_ABOVE_MAX) and changes nothing', async () => {
    const before = { payer: dbSnapshot(payer.home), payee: dbSnapshot(payee.home) };
    const r = await payer.run(['buy', serve.url + PATH, '--max-price', '999', '--deposit', '1eth', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json.error.code).toBe('PRICE_ABOVE_MAX');
    expect(r.json.error.message).toMatch(/price 1,000 wei is above --max-price 999 wei/);
    expect(dbSnapshot(payer.home)).toBe(before.payer);
    expect(dbSnapshot(payee.home)).toBe(before.payee);
  });
});

describe('paywall: positive control', () => {
  it.each([1, 0])('with %i verify threads: the correct next voucher → 200 and exactly one new voucher row at the payee', async (threads) => {
    serve = serves[threads];
    const before = JSON.parse(dbSnapshot(payee.home));
    const charged = BigInt(before.channels[0].charged) + PRICE;
    const v = sign(unsigned({}));
    const res = await get(header(v));
    expect(res.status, await res.clone().text()).toBe(200);
    const receipt = decode64(res.headers.get('payment-response')!);
    expect(receipt).toMatchObject({
      success: true, network: 'eip155:31337', payer: payer.address,
      extra: { channelId, lane: '0', nonce: v.nonce.toString(), amount: v.amount.toString(), charged: charged.toString() },
    });
    const after = JSON.parse(dbSnapshot(payee.home));
    expect(after.vouchers).toHaveLength(before.vouchers.length + 1);
    const added = after.vouchers.filter((a: any) => !before.vouchers.some((b: any) => JSON.stringify(a) === JSON.stringify(b)));
    expect(added).toHaveLength(1);
    expect(String(added[0].nonce)).toBe(v.nonce.toString());
    // and replaying it now, at either paywall, is refused with a corrective 402 naming it
    for (const s of Object.values(serves)) {
      const again = await fetch(s.url + PATH, { headers: { 'payment-signature': header(v) } });
      expect(again.status).toBe(402);
      const state = decode64(again.headers.get('payment-required')!).accepts[0].extra.channelState;
      expect(state.nonce).toBe(v.nonce.toString());
      expect(state.charged).toBe(charged.toString());
    }
    last = v;
  });
});
