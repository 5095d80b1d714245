/**
 * Interledger (issue 14, DESIGN §12), end to end: a real anvil, a real `channels btp listen`
 * (the payee) on a real WebSocket on loopback, the payer's real `channels` binary, and the
 * ecosystem's own BTP peer (`ilp-plugin-btp`'s BtpPlugin, a stock subclass overriding only
 * sendMoney/_handleMoney as channel plugins do, and an unmodified one).
 *
 * (a) interop with BtpPlugin: auth right and wrong, ILP Prepares answered (Fulfill to an SPSP
 *     destination, F02/F05/R00/T04 otherwise, credit paid down by a claim), a claim stored and
 *     CLAIM_RECEIVED emitted, an invalid claim surfacing as a BTP Error; `channels btp pay`; the other
 *     direction (`btp send` through a BtpPlugin server: Fulfills from its data handler, our claims at
 *     its money handler); an unmodified BtpPlugin answering our Transfer with F00.
 * (b) a bad-claims table: each refused with a BTP Error, the payee's database byte-identical;
 *     and a differential property: every claim the listener accepts, the contract's `update`
 *     accepts too (eth_call from the payee).
 * (c) a dropped socket: the claim resent after it is answered as a duplicate and counted once.
 * (d) `channels btp send`: packets to the listener's SPSP destination, claims at the settlement threshold.
 * (e) claims pipelined on one connection: one channel's taken in nonce order, each committed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Contract, HDNodeWallet, SigningKey, TypedDataEncoder, Wallet, ethers } from 'ethers';
import BtpPacket from 'btp-packet';
import * as Ilp from 'ilp-packet';
import type { EvmVoucher, UnsignedVoucher } from '../../dist/index.js';
import { signVoucher, voucherMessage, VOUCHER_TYPES } from '../../dist/families/evm/index.js';
import { BtpError, conditionFor, connectBtp, parseSpsp, SPSP_CONTENT_TYPE, type BtpConnection } from '../../dist/core/transports/btp/index.js';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { BIN, dbSnapshot, makeWallet, startChain, type Chain, type TestWallet } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';
import { eventLines, freePort, startListen, until, type Listener } from '../helpers/btp.js';
import { highS } from '../helpers/voucher.js';

const require = createRequire(import.meta.url);
const BtpPlugin: any = require('ilp-plugin-btp').default;

const CHAIN_ID = 31337n;
const SECRET = 's3cret-' + 'x'.repeat(20);
const DEPOSIT = 10n ** 16n; // 0.01 eth
const PROTOCOL = 'payment-channel-claim';
const ZERO = ethers.ZeroHash;

let chain: Chain;
let payer: TestWallet;
let payee: TestWallet;
let payerKey: HDNodeWallet;
let contract: string;
let pc: Contract;
let listener: Listener;
const files = mkdtempSync(join(tmpdir(), 'channels-btp-'));
const eventsFile = join(files, 'events.jsonl');
/** Channels from the payer to the payee: (a) by the CLI, (b) signed by the test, (c) the reconnect. */
let chA: string;
let chB: string;
let chC: string;
/** (a) alice's claims paying its ILP debt; (d) `btp send`. */
let chD: string;
let chE: string;
/** A channel from the payer to another address. */
let chOther: string;

const btpUrl = (name: string, secret = SECRET) => listener.url.replace('btp+ws://', `btp+ws://${name}:${secret}@`);


/** The events `--events` wrote so far. */
const events = (): any[] => eventLines(eventsFile);


/** The payee's stored vouchers of a channel. */
function stored(id: string): { nonce: bigint; amount: string; signature: string }[] {
  const db = new Database(join(payee.home, 'channels.db'), { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare('SELECT nonce, amount, signature FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce').all(id) as any;
  } finally {
    db.close();
  }
}

async function open(to: string): Promise<string> {
  const r = await payer.run(['open', to, '0.01eth', '--settle-delay', '3600', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.channelId as string;
}

/** A plain lane-0 voucher on `channelId`. */
const unsigned = (channelId: string, nonce: bigint, amount: bigint): UnsignedVoucher => ({
  channelId, lane: 0n, nonce, amount, secretHash: ZERO, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [],
});

/**
 * The seed's claim for `v`, computed here independently of the code under test: additionalHash
 * is ethers' EIP-712 hash under (chainId, verifyingContract), publicKey what the signature recovers.
 */
function claimOf(v: EvmVoucher, o: { chainId?: bigint; contract?: string; messageId?: string } = {}): Record<string, unknown> {
  const digest = TypedDataEncoder.hash({ name: 'PaymentChannels', version: '1', chainId: o.chainId ?? CHAIN_ID, verifyingContract: o.contract ?? contract }, VOUCHER_TYPES, voucherMessage(v));
  let publicKey = '0x04' + '11'.repeat(64);
  try {
    publicKey = SigningKey.recoverPublicKey(digest, v.signature);
  } catch {
    /* a malformed signature: any key */
  }
  return {
    version: '1.0', blockchain: 'evm', messageId: o.messageId ?? `m-${v.channelId.slice(2, 10)}-${v.nonce}-${Math.random().toString(36).slice(2)}`,
    timestamp: new Date().toISOString(), senderId: 'payer', channelId: v.channelId, nonce: Number(v.nonce), transferredAmount: v.amount.toString(),
    lockedAmount: '0', locksRoot: ZERO, signature: v.signature, additionalHash: digest, publicKey,
  };
}
const sign = (u: UnsignedVoucher, key: Wallet | HDNodeWallet = payerKey, chainId = CHAIN_ID, at = contract): EvmVoucher => signVoucher(u, key as any, chainId, at);
const entry = (claim: unknown, contentType = 2) => ({ protocolName: PROTOCOL, contentType, data: Buffer.from(typeof claim === 'string' ? claim : JSON.stringify(claim)) });

beforeAll(async () => {
  chain = await startChain();
  [payer, payee] = await Promise.all([makeWallet('btp-payer', chain.anvil.rpcUrl), makeWallet('btp-payee', chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(payer.address, '10'), chain.fund(payee.address, '1')]);
  const shown = await payer.run(['keys', 'show', '--reveal', '--json']);
  payerKey = HDNodeWallet.fromPhrase(shown.json.mnemonic, undefined, "m/44'/60'/0'/0/0");
  writeFileSync(join(files, 'secret'), SECRET + '\n', { mode: 0o600 });
  listener = await startListen(payee, 0, ['--secret-file', join(files, 'secret'), '--events', eventsFile]);
  contract = listener.contract;
  pc = new Contract(contract, artifact('PaymentChannels').abi, chain.provider);
  chA = await open(payee.address);
  chB = await open(payee.address);
  chC = await open(payee.address);
  chD = await open(payee.address);
  chE = await open(payee.address);
  chOther = await open(Wallet.createRandom().address);
}, 300_000);

afterAll(async () => {
  await listener?.stop();
  await chain?.stop();
});

/**
 * A channel plugin as the ecosystem writes them: a stock BtpPlugin whose sendMoney sends a
 * claim (built from `channels voucher create` output) in a BTP Transfer, and whose _handleMoney
 * records what the peer sends.
 */
class ClaimPlugin extends BtpPlugin {
  received: any[] = [];
  /** The claim the next sendMoney sends (set by the test). */
  next?: Record<string, unknown>;
  constructor(opts: Record<string, unknown>) {
    super(opts);
  }
  async sendMoney(amount: string): Promise<void> {
    await this._call('', {
      type: BtpPacket.TYPE_TRANSFER,
      requestId: Math.floor(Math.random() * 2 ** 31),
      data: { amount, protocolData: [entry(this.next)] },
    });
  }
  async _handleMoney(_from: string, packet: any): Promise<any[]> {
    this.received.push(packet);
    return [];
  }
}

/** `channels voucher create <id> <total>` in the payer's home: the voucher it printed. */
async function cliVoucher(id: string, total: bigint): Promise<EvmVoucher> {
  const r = await payer.run(['voucher', 'create', id, total.toString(), '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const w = r.json;
  return {
    family: 'evm', channelId: w.channelId, lane: BigInt(w.lane), nonce: BigInt(w.nonce), amount: BigInt(w.amount), secretHash: w.secretHash ?? ZERO,
    timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [], signature: w.signature,
  };
}

describe('(a) interop with ilp-plugin-btp', () => {
  let plugin: any;

  afterAll(async () => {
    await plugin?.disconnect();
  });

  it('a stock BtpPlugin subclass connects with the right secret and is refused with a wrong one', async () => {
    const wrong = new ClaimPlugin({ server: btpUrl('mallory', 'not-the-secret'), reconnectInterval: 60_000 });
    await expect(wrong.connect()).rejects.toThrow(/connection aborted|invalid auth/);
    await wrong.disconnect().catch(() => {});
    expect(wrong.isConnected()).toBe(false);
    await until(() => events().some((e) => e.type === 'PEER_REFUSED' && e.peer === 'mallory'), 'PEER_REFUSED');

    plugin = new ClaimPlugin({ server: btpUrl('alice') });
    await plugin.connect();
    expect(plugin.isConnected()).toBe(true);
    await until(() => events().some((e) => e.type === 'PEER_CONNECTED' && e.peer === 'alice'), 'PEER_CONNECTED');
  });

  it('answers an ILP Prepare from it with a Reject F02 (no routes)', async () => {
    const prepare = Ilp.serializeIlpPrepare({
      amount: '100', destination: 'g.somewhere.bob', executionCondition: Buffer.alloc(32, 7), expiresAt: new Date(Date.now() + 30_000), data: Buffer.from('hi'),
    });
    const reply = Ilp.deserializeIlpReply(await plugin.sendData(prepare)) as Ilp.IlpReject;
    expect(reply.code).toBe('F02');
    expect(reply.triggeredBy).toBe('private.channels');
  });

  it('serves SPSP (RFC 9): a fresh destination under its ILP address and a 32-byte shared secret each time', async () => {
    const get = async () => {
      const res = await fetch(listener.spsp, { headers: { accept: SPSP_CONTENT_TYPE } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SPSP_CONTENT_TYPE);
      return (await res.json()) as any;
    };
    const [a, b] = [await get(), await get()];
    expect(a.destination_account).toMatch(/^private\.channels\.[A-Za-z0-9_-]{16,64}$/);
    expect(a.destination_account).not.toBe(b.destination_account);
    expect(Buffer.from(a.shared_secret, 'base64')).toHaveLength(32);
    expect((await fetch(listener.spsp.replace('/.well-known/pay', '/other'))).status).toBe(404);
  });

  it('fulfills a Prepare to an SPSP destination with a fulfillment that hashes to the condition; refuses a wrong condition (F05) and an expired one (R00)', async () => {
    const { destination, sharedSecret } = parseSpsp(await (await fetch(listener.spsp)).json());
    const data = Buffer.from('one packet');
    const prepare = (o: Partial<Ilp.IlpPrepare> = {}) => Ilp.serializeIlpPrepare({
      amount: '0', destination, executionCondition: conditionFor(sharedSecret, data), expiresAt: new Date(Date.now() + 30_000), data, ...o,
    });
    const ok = Ilp.deserializeIlpReply(await plugin.sendData(prepare())) as Ilp.IlpFulfill;
    expect(createHash('sha256').update(ok.fulfillment).digest()).toEqual(conditionFor(sharedSecret, data));
    const wrong = Ilp.deserializeIlpReply(await plugin.sendData(prepare({ executionCondition: conditionFor(Buffer.alloc(32, 1), data) }))) as Ilp.IlpReject;
    expect(wrong).toMatchObject({ code: 'F05', triggeredBy: 'private.channels' });
    const other = Ilp.deserializeIlpReply(await plugin.sendData(prepare({ data: Buffer.from('other data') }))) as Ilp.IlpReject;
    expect(other.code).toBe('F05');
    const late = Ilp.deserializeIlpReply(await plugin.sendData(prepare({ expiresAt: new Date(Date.now() - 1000) }))) as Ilp.IlpReject;
    expect(late.code).toBe('R00');
  });

  it('extends a peer credit up to --max-owed (T04 above it); the peer\'s claim pays the debt down', async () => {
    const { destination, sharedSecret } = parseSpsp(await (await fetch(listener.spsp)).json());
    const send = async (amount: bigint) => {
      const data = Buffer.from(`packet ${amount} ${Math.random()}`);
      return Ilp.deserializeIlpReply(await plugin.sendData(Ilp.serializeIlpPrepare({
        amount: amount.toString(), destination, executionCondition: conditionFor(sharedSecret, data), expiresAt: new Date(Date.now() + 30_000), data,
      }))) as any;
    };
    const part = 6n * 10n ** 14n; // the default --max-owed is 0.001 ETH = 10^15 wei
    expect((await send(part)).fulfillment).toBeDefined();
    const refused = await send(part);
    expect(refused.code).toBe('T04');
    expect(refused.message).toMatch(/owes 600000000000000/);
    // alice pays 6·10^14 with a claim on chD: the debt is 0 again, the next packet is fulfilled
    const v = sign(unsigned(chD, 1n, part));
    plugin.next = claimOf(v, { messageId: 'alice-pays-debt' });
    await plugin.sendMoney(part.toString());
    await until(() => events().find((x) => x.type === 'CLAIM_RECEIVED' && x.messageId === 'alice-pays-debt'), 'CLAIM_RECEIVED of the debt');
    expect((await send(part)).fulfillment).toBeDefined();
    plugin.next = claimOf(sign(unsigned(chD, 2n, 2n * part)), { messageId: 'alice-pays-debt-2' });
    await plugin.sendMoney(part.toString());
  });

  it('takes its claim (sendMoney): stored in the payee\'s database, CLAIM_RECEIVED emitted', async () => {
    const v = await cliVoucher(chA, 5000n);
    plugin.next = claimOf(v, { messageId: 'plugin-claim-1' });
    await plugin.sendMoney('5000');
    expect(stored(chA).map((x) => [x.nonce, x.signature])).toEqual([[v.nonce, v.signature]]);
    const e = await until(() => events().find((x) => x.type === 'CLAIM_RECEIVED' && x.messageId === 'plugin-claim-1'), 'CLAIM_RECEIVED');
    expect(e).toMatchObject({ peer: 'alice', senderId: 'payer', channelId: chA, nonce: v.nonce.toString(), transferredAmount: '5000', credited: '5000', charged: '5000' });
  });

  it('surfaces an invalid claim to it as a BTP Error, and stores nothing', async () => {
    const before = dbSnapshot(payee.home);
    const v = await cliVoucher(chA, 6000n);
    plugin.next = { ...claimOf(v), signature: highS(v.signature) };
    const err = await plugin.sendMoney('1000').then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const body = JSON.parse(err.message);
    expect(body).toMatchObject({ code: 'F00', name: 'NotAcceptedError' });
    expect(JSON.parse(body.data)).toMatchObject({ reason: 'bad_signature' });
    expect(dbSnapshot(payee.home)).toBe(before);
  });

  it('`channels btp pay` commits the voucher, sends it as a claim, prints the receipt', async () => {
    const r = await payer.run(['btp', 'pay', btpUrl('payer'), '2000', '--channel', chA, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.receipt).toMatchObject({ channelId: chA, credited: '2000', duplicate: false, transferredAmount: r.json.amount });
    expect(r.json.claim).toMatchObject({ version: '1.0', blockchain: 'evm', lockedAmount: '0', channelId: chA });
    // 5000 + the 6000 voucher the refused claim carried (committed by `voucher create`) + 2000
    expect(r.json.amount).toBe('8000');
    expect(stored(chA).at(-1)).toMatchObject({ nonce: BigInt(r.json.nonce), signature: r.json.claim.signature });
    await until(() => events().find((x) => x.type === 'CLAIM_RECEIVED' && x.messageId === r.json.claim.messageId), 'CLAIM_RECEIVED of btp pay');
  });

  it('the other direction: `channels btp send` through a BtpPlugin server — its data handler fulfills, our claim reaches its money handler', async () => {
    const port = await freePort();
    const secret = Buffer.alloc(32, 3);
    const shop = new ClaimPlugin({ listener: { port, secret: SECRET } });
    // The receiver behind the plugin: fulfills STREAM conditions under `secret` (RFC 29), computed here with node:crypto.
    shop.registerDataHandler(async (raw: Buffer) => {
      const p = Ilp.deserializeIlpPrepare(raw);
      const fulfillment = require('node:crypto').createHmac('sha256', require('node:crypto').createHmac('sha256', secret).update('ilp_stream_fulfillment').digest()).update(p.data).digest();
      return Ilp.serializeIlpFulfill({ fulfillment, data: Buffer.alloc(0) });
    });
    const spsp = createServer((_req, res) => res.writeHead(200, { 'content-type': SPSP_CONTENT_TYPE }).end(JSON.stringify({ destination_account: 'test.shop.token0123456789abcdef', shared_secret: secret.toString('base64') })));
    await new Promise<void>((ok) => spsp.listen(0, '127.0.0.1', ok));
    const connecting = shop.connect();
    try {
      const r = await payer.run(['btp', 'send', `btp+ws://payer:${SECRET}@127.0.0.1:${port}`, '3000', '--to', `http://127.0.0.1:${(spsp.address() as any).port}/`, '--channel', chA, '--packet', '1000', '--settle-threshold', '2000', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json).toMatchObject({ packets: 3, delivered: '3000', paid: '3000' });
      await connecting;
      // Two claims (2000 at the threshold, 1000 at the end) reached _handleMoney as Transfers of those amounts, each signed by the payer.
      expect(shop.received.map((t: any) => t.data.amount)).toEqual(['2000', '1000']);
      for (const t of shop.received) {
        const claim = JSON.parse(t.data.protocolData.find((d: any) => d.protocolName === PROTOCOL).data.toString());
        expect(claim).toMatchObject({ channelId: chA, blockchain: 'evm', lockedAmount: '0' });
        expect(ethers.recoverAddress(claim.additionalHash, claim.signature)).toBe(payer.address);
        expect(ethers.computeAddress(claim.publicKey)).toBe(payer.address);
      }
    } finally {
      spsp.close();
      await shop.disconnect();
    }
  });

  it('an unmodified BtpPlugin answers our Transfer with F00', async () => {
    // BtpPlugin listens on the port given.
    const port = await freePort();
    const plain = new BtpPlugin({ listener: { port, secret: SECRET } });
    const connecting = plain.connect();
    try {
      const r = await payer.run(['btp', 'pay', `btp+ws://payer:${SECRET}@127.0.0.1:${port}`, '100', '--channel', chA, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.json.error).toMatchObject({ code: 'BTP_ERROR', data: { code: 'F00', name: 'Error' } });
      expect(r.stdout + r.stderr).toMatch(/F00 .*No sendMoney functionality/);
      await connecting;
    } finally {
      await plain.disconnect();
    }
  });
});

/** One claim sent over `c` in a Transfer of `amount` (Message when amount is undefined); the Response's claim entry or the BtpError. */
async function send(c: BtpConnection, claim: unknown, o: { amount?: bigint; contentType?: number } = {}): Promise<any> {
  const data = [entry(claim, o.contentType)];
  try {
    const answer = o.amount === undefined ? await c.message(data) : await c.transfer(o.amount, data);
    return JSON.parse(answer.find((d: any) => d.protocolName === PROTOCOL)!.data.toString());
  } catch (err) {
    if (err instanceof BtpError) return err;
    throw err;
  }
}

describe('(b) bad claims and the contract', () => {
  let c: BtpConnection;
  let good: EvmVoucher;
  const stranger = Wallet.createRandom();
  const next = (fields: Partial<UnsignedVoucher> = {}) => ({ ...unsigned(chB, good.nonce + 1n, good.amount + 10n), ...fields });

  beforeAll(async () => {
    c = await connectBtp(btpUrl('table'));
    good = sign(unsigned(chB, 1n, 100n));
    const ok = await send(c, claimOf(good, { messageId: 'table-good' }), { amount: 100n });
    expect(ok).toMatchObject({ duplicate: false, credited: '100' });
  });
  afterAll(() => c?.close());

  const cases: { name: string; code: string; reason?: string; run: () => Promise<any> }[] = [
    { name: 'wrong signer', code: 'F00', reason: 'wrong_signer', run: () => send(c, claimOf(sign(next(), stranger)), { amount: 10n }) },
    { name: 'channel to another payee', code: 'F00', reason: 'wrong_payee', run: () => send(c, claimOf(sign(next({ channelId: chOther }))), { amount: 10n }) },
    { name: 'unknown channel', code: 'F00', reason: 'unknown_channel', run: () => send(c, claimOf(sign(next({ channelId: ethers.hexlify(ethers.randomBytes(32)) }))), { amount: 10n }) },
    { name: 'signed for another contract', code: 'F00', reason: 'bad_hash', run: () => { const o = Wallet.createRandom().address; return send(c, claimOf(sign(next(), payerKey, CHAIN_ID, o), { contract: o }), { amount: 10n }); } },
    { name: 'signed for another chain', code: 'F00', reason: 'bad_hash', run: () => send(c, claimOf(sign(next(), payerKey, 1n), { chainId: 1n }), { amount: 10n }) },
    { name: 'additionalHash of another voucher', code: 'F00', reason: 'bad_hash', run: () => send(c, { ...claimOf(sign(next())), additionalHash: claimOf(good).additionalHash }, { amount: 10n }) },
    { name: 'publicKey of another key', code: 'F00', reason: 'bad_public_key', run: () => send(c, { ...claimOf(sign(next())), publicKey: stranger.signingKey.publicKey }, { amount: 10n }) },
    { name: 'the held voucher\'s signature over another amount', code: 'F00', reason: 'wrong_signer', run: () => send(c, claimOf({ ...good, amount: good.amount + 1000n }), { amount: 10n }) },
    { name: 'high-s signature', code: 'F00', reason: 'bad_signature', run: () => { const v = sign(next()); return send(c, { ...claimOf(v), signature: highS(v.signature) }, { amount: 10n }); } },
    { name: 'nonce not higher', code: 'F00', reason: 'nonce_too_low', run: () => send(c, claimOf(sign(next({ nonce: good.nonce }))), { amount: 10n }) },
    { name: 'amount above the deposit', code: 'F00', reason: 'above_deposit', run: () => send(c, claimOf(sign(next({ amount: DEPOSIT + 1n }))), { amount: 10n }) },
    { name: 'Transfer above what the claim adds', code: 'F00', reason: 'amount_too_low', run: () => send(c, claimOf(sign(next())), { amount: 1000n }) },
    { name: 'duplicate messageId, other claim', code: 'F00', reason: 'duplicate_message', run: () => send(c, claimOf(sign(next()), { messageId: 'table-good' }), { amount: 10n }) },
    { name: 'Transfer without a claim', code: 'F00', run: () => c.transfer(10n, [{ protocolName: 'other', contentType: 0, data: Buffer.alloc(1) }]).catch((e: unknown) => e) },
    { name: 'malformed JSON', code: 'F01', run: () => send(c, '{"version":"1.0",', { amount: 10n }) },
    { name: 'not UTF-8', code: 'F01', run: () => c.transfer(10n, [{ protocolName: PROTOCOL, contentType: 2, data: Buffer.from([0xff, 0xfe, 0x7b]) }]).catch((e: unknown) => e) },
    { name: 'wrong contentType (0, octet stream)', code: 'F01', run: () => send(c, claimOf(sign(next())), { amount: 10n, contentType: 0 }) },
    { name: 'oversized claim (5 KB)', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), senderId: 'x'.repeat(5000) }, { amount: 10n }) },
    { name: 'oversized frame (100 KB)', code: 'F01', run: () => send(c, 'x'.repeat(100_000), { amount: 10n }) },
    { name: 'negative amount', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), transferredAmount: '-5' }, { amount: 10n }) },
    { name: 'overlong amount (79 digits)', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), transferredAmount: '1' + '0'.repeat(78) }, { amount: 10n }) },
    { name: 'amount above 2^256 − 1', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), transferredAmount: (2n ** 256n).toString() }, { amount: 10n }) },
    { name: 'amount with leading zero', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), transferredAmount: '0110' }, { amount: 10n }) },
    { name: 'nonce as a float', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), nonce: 2.5 }, { amount: 10n }) },
    { name: 'bad hex signature (64 bytes)', code: 'F01', run: () => { const v = sign(next()); return send(c, { ...claimOf(v), signature: v.signature.slice(0, 130) }, { amount: 10n }); } },
    { name: 'bad hex channelId', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), channelId: '0x' + 'zz'.repeat(32) }, { amount: 10n }) },
    { name: 'lockedAmount not 0', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), lockedAmount: '5' }, { amount: 10n }) },
    { name: 'locksRoot not zero', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), locksRoot: '0x' + '11'.repeat(32) }, { amount: 10n }) },
    { name: 'unknown blockchain', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), blockchain: 'xrp' }, { amount: 10n }) },
    { name: 'other version', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), version: '2.0' }, { amount: 10n }) },
    { name: 'unknown field', code: 'F01', run: () => send(c, { ...claimOf(sign(next())), lane: '1' }, { amount: 10n }) },
    { name: 'missing signature', code: 'F01', run: () => { const { signature: _, ...rest } = claimOf(sign(next())); return send(c, rest, { amount: 10n }); } },
    { name: 'unreadable BTP packet', code: 'F01', run: () => c.request((id: number) => Buffer.concat([Buffer.from([7]), Buffer.from([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), Buffer.from([0xff, 0xff])])).catch((e: unknown) => e) },
  ];

  it.each(cases)('refuses $name with a BTP Error $code and changes nothing', async (k) => {
    const before = dbSnapshot(payee.home);
    const r = await k.run();
    expect(r).toBeInstanceOf(BtpError);
    expect(r.btpCode).toBe(k.code);
    if (k.reason) expect(r.reason).toBe(k.reason);
    expect(dbSnapshot(payee.home)).toBe(before);
  });

  it('accepts contentType 1 (text, as the seed shows) in a Message, crediting nothing', async () => {
    const last = stored(chB).at(-1)!;
    const v = sign(unsigned(chB, last.nonce + 1n, BigInt(last.amount) + 5n));
    expect(await send(c, claimOf(v), { contentType: 1 })).toMatchObject({ duplicate: false, credited: '0', nonce: v.nonce.toString() });
    expect(stored(chB).at(-1)!.signature).toBe(v.signature);
  });

  it('differential: every claim the listener accepts, the contract\'s update accepts (eth_call)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          nonceStep: fc.integer({ min: -1, max: 3 }),
          amountStep: fc.oneof(fc.bigInt({ min: -50n, max: 1000n }), fc.bigInt({ min: DEPOSIT - 2000n, max: DEPOSIT + 10n })),
          byPayer: fc.boolean(),
          transfer: fc.option(fc.bigInt({ min: 0n, max: 200n }), { nil: undefined }),
        }),
        async (g) => {
          const last = stored(chB).at(-1)!;
          const amount = BigInt(last.amount) + g.amountStep;
          if (amount < 0n) return;
          const v = sign(unsigned(chB, last.nonce + BigInt(g.nonceStep), amount), g.byPayer ? payerKey : stranger);
          if (v.nonce < 0n) return;
          const r = await send(c, claimOf(v), { amount: g.transfer });
          if (r instanceof BtpError) return;
          accepted++;
          // The contract, as the payee would call it now: nothing redeemed yet, so every accepted claim must redeem.
          await pc.update.staticCall(voucherMessage(v), v.signature, '0x', { from: payee.address });
        },
      ),
      { numRuns: 30 },
    );
    expect(accepted).toBeGreaterThan(0);
  }, 300_000);
});

describe('(d) channels btp send: ILP packets settled with claims at a threshold', () => {
  it('delivers in packets and pays the peer with a claim each time --settle-threshold is owed, and for the rest at the end', async () => {
    const r = await payer.run(['btp', 'send', btpUrl('sender'), '10000', '--to', listener.spsp, '--channel', chE, '--packet', '1000', '--settle-threshold', '3000', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({ packets: 10, delivered: '10000', paid: '10000', channelId: chE });
    expect(r.json.claims.map((k: any) => [k.paid, k.transferredAmount])).toEqual([['3000', '3000'], ['3000', '6000'], ['3000', '9000'], ['1000', '10000']]);
    // The listener committed each claim and credited its Transfer's amount to this peer.
    expect(stored(chE).map((x) => x.amount)).toEqual(['3000', '6000', '9000', '10000']);
    const mine = await until(() => {
      const got = events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.peer === 'sender');
      return got.length === 4 ? got : undefined;
    }, 'four CLAIM_RECEIVED of btp send');
    expect(mine.reduce((n, e) => n + BigInt(e.credited), 0n)).toBe(10000n);
  });

  it('stops at a Reject (a receiver whose secret the listener does not hold: F05), exit 4, no voucher signed', async () => {
    const fake = createServer((_req, res) => res.writeHead(200, { 'content-type': SPSP_CONTENT_TYPE }).end(JSON.stringify({
      destination_account: 'private.channels.' + 'A'.repeat(24), shared_secret: Buffer.alloc(32, 9).toString('base64'),
    })));
    await new Promise<void>((ok) => fake.listen(0, '127.0.0.1', ok));
    try {
      const before = dbSnapshot(payer.home);
      const r = await payer.run(['btp', 'send', btpUrl('sender'), '5000', '--to', `http://127.0.0.1:${(fake.address() as any).port}/.well-known/pay`, '--channel', chE, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stdout + r.stderr).toMatch(/F05/);
      expect(dbSnapshot(payer.home)).toBe(before);
    } finally {
      fake.close();
    }
  });
});

describe('channels btp connect', () => {
  it('stays connected until SIGTERM with the right secret; exits 4 on a wrong one', async () => {
    const wrong = await payer.run(['btp', 'connect', btpUrl('carol', 'wrong'), '--json']);
    expect(wrong.code, wrong.stdout + wrong.stderr).toBe(4);
    expect(wrong.json.error).toMatchObject({ code: 'BTP_ERROR', data: { code: 'F00' } });
    const child = spawn(process.execPath, [BIN, 'btp', 'connect', btpUrl('carol'), '--json'], { env: payer.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    await until(() => out.includes('"CONNECTED"'), 'CONNECTED line');
    await until(() => events().some((e) => e.type === 'PEER_CONNECTED' && e.peer === 'carol'), 'PEER_CONNECTED carol');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/"DISCONNECTED"/);
    await until(() => events().some((e) => e.type === 'PEER_DISCONNECTED' && e.peer === 'carol'), 'PEER_DISCONNECTED carol');
  });
});

describe('(c) a dropped socket', () => {
  let claim3: Record<string, unknown>;
  it('resumes after a reconnect; the claim resent after the drop is counted once', async () => {
    const c1 = await connectBtp(btpUrl('bob'));
    const v1 = sign(unsigned(chC, 1n, 300n));
    const claim1 = claimOf(v1, { messageId: 'bob-1' });
    expect(await send(c1, claim1, { amount: 300n })).toMatchObject({ duplicate: false, credited: '300' });
    const v2 = sign(unsigned(chC, 2n, 700n));
    const claim2 = claimOf(v2, { messageId: 'bob-2' });
    // The sender sends claim 2 and the socket drops before it reads the answer.
    const lost = send(c1, claim2, { amount: 400n }).catch((e: unknown) => e);
    c1.ws.terminate();
    await lost;
    const c2 = await connectBtp(btpUrl('bob'));
    try {
      // Resent with the same messageId, then with a fresh one: answered, never counted twice.
      const again = await send(c2, claim2, { amount: 400n });
      const fresh = await send(c2, { ...claim2, messageId: 'bob-2-retry' }, { amount: 400n });
      // Whether or not the lost Transfer reached the listener, the resend answers for nonce 2 and the fresh id is a duplicate.
      expect(again).toMatchObject({ nonce: '2', transferredAmount: '700' });
      expect(fresh).toMatchObject({ nonce: '2', duplicate: true, credited: '0' });
      expect(stored(chC).map((x) => x.nonce)).toEqual([1n, 2n]);
      const row = new Database(join(payee.home, 'channels.db'), { readonly: true }).prepare('SELECT charged FROM channels WHERE id = ?').get(chC) as { charged: string };
      expect(String(row.charged)).toBe('700');
      // The next claim goes through on the new connection.
      claim3 = claimOf(sign(unsigned(chC, 3n, 900n)), { messageId: 'bob-3' });
      expect(await send(c2, claim3, { amount: 200n })).toMatchObject({ duplicate: false, credited: '200' });
      await until(() => events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === chC).length === 3 || undefined, 'three CLAIM_RECEIVED on chC');
    } finally {
      c2.close();
    }
  });

  it('a listener restarted (its messageIds forgotten) answers the resent claim as a duplicate and counts it once', async () => {
    await listener.stop();
    listener = await startListen(payee, 0, ['--secret-file', join(files, 'secret'), '--events', eventsFile]);
    const before = dbSnapshot(payee.home);
    const c = await connectBtp(btpUrl('bob'));
    try {
      expect(await send(c, claim3, { amount: 200n })).toMatchObject({ nonce: '3', duplicate: true, credited: '0' });
    } finally {
      c.close();
    }
    expect(dbSnapshot(payee.home)).toBe(before);
  }, 120_000);
});

describe('(e) claims pipelined on one connection', () => {
  it('takes one channel\'s claims in nonce order: all committed, answered in order, a resend in flight counted once', async () => {
    const ch = await open(payee.address);
    const c = await connectBtp(btpUrl('pipe'));
    try {
      const N = 40;
      const claims = Array.from({ length: N }, (_, i) => claimOf(sign(unsigned(ch, BigInt(i + 1), BigInt(i + 1) * 100n)), { messageId: `pipe-${i + 1}` }));
      const order: string[] = [];
      const sent = (claim: Record<string, unknown>, tag: string) => send(c, claim, { amount: 100n }).then((r) => (order.push(tag), r));
      // All sent at once, none awaited; the first claim's channel is not stored yet (the listener reads it from the chain).
      const answers = claims.map((claim, i) => sent(claim, String(i + 1)));
      const resend = sent(claims[4], 'resend-5');
      const got = await Promise.all(answers);
      got.forEach((r, i) => expect(r).toMatchObject({ nonce: String(i + 1), credited: '100', duplicate: false }));
      expect(await resend).toMatchObject({ nonce: '5', duplicate: true });
      expect(order.filter((t) => !t.startsWith('resend'))).toEqual(claims.map((_, i) => String(i + 1)));
      expect(stored(ch).map((x) => x.nonce)).toEqual(claims.map((_, i) => BigInt(i + 1)));
      const row = new Database(join(payee.home, 'channels.db'), { readonly: true }).prepare('SELECT charged FROM channels WHERE id = ?').get(ch) as { charged: string };
      expect(String(row.charged)).toBe(String(N * 100));
      await until(() => events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === ch).length === N || undefined, `${N} CLAIM_RECEIVED on the pipelined channel`);
    } finally {
      c.close();
    }
  }, 120_000);
});
