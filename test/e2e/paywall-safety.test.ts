/**
 * The paywall's money-safety fixes of issue 9, end to end on a real anvil with the real
 * `channels serve` and `channels` binary:
 * - a voucher the paywall refuses is one the contract refuses (nonce 0 on a new lane),
 *   and the one it accepts next on that lane is redeemable (eth_call of `update`);
 * - a refusal leaves the merchant's database files byte-identical;
 * - a hostile Host header is a 400 with no stack trace;
 * - the cooperative-close endpoint answers ordinary refusals with 409 and a reason, and
 *   the payer's `close` says it fell back to a settle and when it can collect;
 * - a multi-lane channel closes cooperatively (every lane redeemed);
 * - `voucher submit` repeated on a redeemed channel succeeds and says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Contract, HDNodeWallet, ethers } from 'ethers';
import { closeRequestMessage, encodePaymentSignature, encodeVoucher, voucherFromWire, type ChannelRequirement, type PaymentRequired, type UnsignedVoucher, type EvmVoucher as Voucher } from '../../dist/index.js';
import { signVoucher, voucherMessage } from '../../dist/families/evm/index.js';
import { channelRow, makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';

const PRICE = 1000n;
const CHAIN_ID = 31337n;

let chain: Chain;
let shop: TestWallet;
let payer: TestWallet;
let serve: Serve;
let payerKey: HDNodeWallet;
let accepted: ChannelRequirement;
let contract: string;
let pc: Contract;
let channelId: string;
let last: Voucher;

const decode64 = (h: string) => JSON.parse(Buffer.from(h, 'base64').toString('utf8'));
const sign = (v: UnsignedVoucher): Voucher => signVoucher(v, payerKey, CHAIN_ID, contract);
const plain = (fields: Partial<UnsignedVoucher>): UnsignedVoucher => ({
  channelId, lane: 0n, nonce: 1n, amount: PRICE, secretHash: ethers.ZeroHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], ...fields,
});
const pay = (v: Voucher, s: Serve = serve, entry: ChannelRequirement = accepted) =>
  fetch(`${s.url}/weather`, { headers: { 'payment-signature': encodePaymentSignature(entry, { type: 'voucher', channelId: v.channelId, voucher: v }) } });

/** The contract's answer to `update(v)` sent by `from`: undefined when it would redeem it, else its custom error. */
async function updateRefusal(v: Voucher, from: string): Promise<string | undefined> {
  try {
    await pc.update.staticCall(voucherMessage(v), v.signature, '0x', { from });
    return undefined;
  } catch (err) {
    return (err as { revert?: { name: string } }).revert?.name ?? (err as Error).message;
  }
}

/** sha256 of the database files (the WAL included; not the shared-memory index, which readers touch). */
function dbFiles(home: string): string {
  const h = createHash('sha256');
  for (const f of ['channels.db', 'channels.db-wal']) {
    const p = join(home, f);
    h.update(f).update(existsSync(p) ? readFileSync(p) : Buffer.alloc(0));
  }
  return h.digest('hex');
}

/** Sends raw bytes to the paywall and returns the status line and the rest. */
function raw(s: Serve, request: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(s.url);
  return new Promise((ok, fail) => {
    const sock = connect(Number(port), hostname, () => sock.end(request));
    let text = '';
    sock.on('data', (d) => (text += d));
    sock.on('error', fail);
    sock.on('close', () => ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
}

beforeAll(async () => {
  chain = await startChain();
  [shop, payer] = await Promise.all([makeWallet('shop', chain.anvil.rpcUrl), makeWallet('payer', chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(shop.address), chain.fund(payer.address)]);
  serve = await startServe(shop, ['--price', PRICE.toString()]);
  const bought = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json']);
  expect(bought.code, bought.stdout + bought.stderr).toBe(0);
  channelId = bought.json.channelId;
  last = voucherFromWire(bought.json.voucher);
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

describe('a voucher on a new lane (issue 9, bug 1)', () => {
  it('nonce 0 is refused by the paywall and by the contract; nonce 1 is accepted by both and redeemed', async () => {
    const zero = sign(plain({ lane: 3n, nonce: 0n, amount: PRICE }));
    expect(await updateRefusal(zero, shop.address)).toBe('NonceTooLow');
    const before = dbFiles(shop.home);
    const refused = await pay(zero);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: string }).error).toMatch(/nonce 0 on lane 3 is not above 0/);
    expect(dbFiles(shop.home)).toBe(before);

    const one = sign(plain({ lane: 3n, nonce: 1n, amount: PRICE }));
    expect(await updateRefusal(one, shop.address)).toBeUndefined();
    const ok = await pay(one);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(decode64(ok.headers.get('payment-response')!).extra).toMatchObject({ lane: '3', nonce: '1', charged: (2n * PRICE).toString() });
  });
});

describe('a refused voucher leaves the database byte-identical (issue 9, bug 3)', () => {
  it('another key\'s voucher on a real channel the merchant has not seen: files unchanged, no row to watch', async () => {
    const opened = await payer.run(['open', shop.address, '0.01eth', '--settle-delay', '3600', '--json']);
    expect(opened.code, opened.stdout + opened.stderr).toBe(0);
    const stranger = HDNodeWallet.createRandom();
    const forged = signVoucher(plain({ channelId: opened.json.channelId, nonce: 1n, amount: PRICE }), stranger, CHAIN_ID, contract);
    const before = dbFiles(shop.home);
    const res = await pay(forged);
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: string }).error).toMatch(/not by the payer/);
    expect(dbFiles(shop.home)).toBe(before);
    expect(channelRow(shop.home, opened.json.channelId)).toBeUndefined();
  });
});

describe('a hostile Host header (issue 9, bug 4)', () => {
  it.each(['[', 'a b', 'x:99999999', 'x:-1', '[::1'])('Host %j → 400, nothing logged', async (host) => {
    const logged = serve.stderr().length;
    const r = await raw(serve, `GET /weather HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(r.status, r.text).toBe(400);
    expect(r.text).toMatch(/Invalid Host header/);
    expect(serve.stderr().slice(logged)).toBe('');
  });

  it('a valid Host still gets its 402', async () => {
    const r = await raw(serve, 'GET /weather HTTP/1.1\r\nHost: shop.example:8080\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(402);
    const required = /payment-required: (\S+)/i.exec(r.text)![1];
    expect(decode64(required).resource.url).toBe('http://shop.example:8080/weather');
  });
});

describe('cooperative close (issue 9, bug 5)', () => {
  it('a multi-lane channel closes: every lane redeemed, the rest refunded, in the merchant\'s transactions', async () => {
    const r = await payer.run(['close', channelId, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.result).toBe('closed');
    // lane 0 (the purchase) + lane 3 (one paid request): 2 × price
    expect(r.json.paidToPayee).toBe((last.amount + PRICE).toString());
    expect((await pc.getChannel(channelId)).payer).toBe(ethers.ZeroAddress);
    const submit = await shop.run(['voucher', 'submit', channelId, '--json']);
    expect(submit.code, submit.stdout + submit.stderr).toBe(0);
    expect(submit.json.transactions).toEqual([]);
    expect(submit.json.alreadyRedeemed.map((a: { lane: string }) => a.lane).sort()).toEqual(['0', '3']);
  });

  it('a merchant that cannot pay gas answers 409 with a reason; the payer falls back to a settle and says when to collect', async () => {
    const poor = await makeWallet('poor-shop', chain.anvil.rpcUrl); // never funded
    const poorServe = await startServe(poor, ['--price', PRICE.toString()]);
    try {
      const bought = await payer.run(['buy', `${poorServe.url}/joke`, '--max-price', '5000', '--deposit', '0.001eth', '--settle-delay', '3600', '--yes', '--json']);
      expect(bought.code, bought.stdout + bought.stderr).toBe(0);
      const id = bought.json.channelId;
      const signature = payerKey.signMessageSync(closeRequestMessage('eip155:31337', id));
      const direct = await fetch(`${poorServe.url}/.well-known/channels/close`, { method: 'POST', body: JSON.stringify({ channelId: id, signature }) });
      expect(direct.status).toBe(409);
      expect(await direct.json()).toMatchObject({ reason: 'payee_cannot_pay_gas', error: expect.stringMatching(/cannot pay the gas/) });
      expect(poorServe.stderr()).not.toMatch(/at .*\.js:\d+/); // no stack trace

      const human = await payer.run(['close', id]);
      expect(human.code, human.stdout + human.stderr).toBe(0);
      expect(human.stdout).toMatch(/did not close the channel: the merchant refused \(HTTP 409, payee_cannot_pay_gas\)/);
      expect(human.stdout).toMatch(/Fell back to a settle/);
      expect(human.stdout).toMatch(/collect what is left after \d{4}-\d\d-\d\dT.* \(in about 1 h\) with `channels collect 0x/);
      const status = await payer.run(['status', id, '--json']);
      expect(status.json.state).toBe('settling');
    } finally {
      await poorServe.stop();
    }
  });
});

describe('a lane merged by a held voucher (review of issue 9)', () => {
  it('after voucher add stores a voucher merging lane 8, the paywall refuses a voucher on lane 8 (the contract could redeem only one of them); files unchanged', async () => {
    const opened = await payer.run(['open', shop.address, '0.01eth', '--json']); // a channel of its own: the close tests count lanes
    expect(opened.code, opened.stdout + opened.stderr).toBe(0);
    const id = opened.json.channelId as string;
    const merging = sign(plain({ channelId: id, lane: 7n, nonce: 1n, amount: PRICE, merges: [{ lane: 8n, nonce: 1n }] }));
    const add = await shop.run(['voucher', 'add', id, encodeVoucher(merging), '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const onMerged = sign(plain({ channelId: id, lane: 8n, nonce: 1n, amount: 5n * PRICE }));
    expect(await updateRefusal(onMerged, shop.address)).toBeUndefined(); // alone, the contract would take it…
    const before = dbFiles(shop.home);
    const refused = await pay(onMerged);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: string }).error).toMatch(/lane 8 of channel .* is merged by the held voucher on lane 7/i);
    expect(dbFiles(shop.home)).toBe(before);
  });
});
