/**
 * The ILP plugin `channels/ilp` under an unmodified `ilp-connector` (issue 14 §1 last bullet,
 * §2 second bullet), end to end: a real anvil, a real `channels btp listen` (the merchant: the
 * payee, SPSP receiver and redemption service), the connector from npm (`createApp`, backend
 * one-to-one, memory store) with two accounts —
 *   `sender`: a child on a stock `ilp-plugin-btp` server, which this test's BtpPlugin client
 *     sends ILP Prepares through;
 *   `merchant`: a peer on OUR plugin, loaded by the connector as a config names a plugin
 *     (`require(<module>)`, `new Plugin(options, api)`), with a low balance `settleThreshold`,
 *     so the connector's balance middleware calls our `sendMoney`, which sends claims.
 * Asserted: the Prepares are fulfilled through the connector; the connector settles by calling
 * `sendMoney` with what its threshold implies; the claims reach the listener (CLAIM_RECEIVED,
 * vouchers in its database); the listener's redemption service puts the claimed total on chain
 * (ChannelCollected's paidToPayee); a wrong-condition Prepare comes back rejected with nothing
 * paid; `require('channels/ilp')` is the constructor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes, createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Contract, SigningKey, TypedDataEncoder, Wallet, ZeroHash } from 'ethers';
import * as Ilp from 'ilp-packet';
import BtpPacket from 'btp-packet';
import { claimFromVoucher, conditionFor, parseSpsp } from '../../dist/core/transports/btp/index.js';
import { signVoucher, voucherMessage, VOUCHER_TYPES } from '../../dist/families/evm/index.js';
import type { EvmVoucher } from '../../dist/index.js';
import { PaymentChannelManager } from '../../dist/index.js';
import { makeWallet, startChain, type Chain, type TestWallet } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';
import { eventLines, freePort, startListen, until, type Listener } from '../helpers/btp.js';

const require = createRequire(import.meta.url);
const BtpPlugin: any = require('ilp-plugin-btp');
const createApp: any = require('ilp-connector').createApp;
const reduct: any = require('reduct');
const MiddlewareManager: any = require('ilp-connector/dist/services/middleware-manager').default;

const SECRET = 's3cret-' + 'y'.repeat(20);
const SENDER_SECRET = 'sender-' + 'z'.repeat(20);
const DEPOSIT = 10n ** 16n; // 0.01 ETH
const PACKET = 10n ** 14n; // 0.0001 ETH per Prepare
const PACKETS = 6;
/** The connector settles once it owes the merchant more than 2.5 packets: after every third. */
const SETTLE_THRESHOLD = -(25n * 10n ** 13n);
/** Larger than anything here: the redemption service leaves the channel alone until the test lowers it. */
const NO_REDEEM = (10n ** 24n).toString();

let chain: Chain;
let payee: TestWallet;
let listener: Listener;
const files = mkdtempSync(join(tmpdir(), 'channels-ilpc-'));
const eventsFile = join(files, 'events.jsonl');
const connectorKey = Wallet.createRandom();
const storePath = join(files, 'connector', 'channels.db');
let channel: string;
let app: any;
let deps: any;
let client: any;
let pc: Contract;
let net: { kind: 'evm'; caip2: string; rpcUrl: string; contract: string };
const listenArgs = ['--secret-file', join(files, 'secret'), '--events', eventsFile, '--ilp-address', 'test.merchant', '--max-owed', '0.001eth', '--watch-interval', '1'];



const events = (): any[] => eventLines(eventsFile);
const claimsReceived = () => events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === channel);


/** Starts the listener again on its port (after `listener.stop()`): same home, same events file. */
async function restartListener(): Promise<void> {
  const port = Number(new URL(listener.url.replace('btp+ws:', 'http:')).port);
  listener = await startListen(payee, port, listenArgs);
}

/** The stored vouchers of a channel: in the listener's database, or another. */
function stored(id = channel, path = join(payee.home, 'channels.db')): { nonce: bigint; amount: string; signature: string }[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare('SELECT nonce, amount, signature FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce').all(id) as any;
  } finally {
    db.close();
  }
}

/** The connector's balance of the merchant account (negative: it owes the merchant), base units. */
const connectorBalance = (): bigint => BigInt(deps(MiddlewareManager).getMiddleware('balance').getBalance('merchant').getValue().toFixed());

/** Sends one Prepare through the connector to `destination`; the connector's answer, parsed. */
async function sendPrepare(destination: string, amount: bigint, condition: (data: Buffer) => Buffer): Promise<any> {
  const data = randomBytes(32);
  const reply = await client.sendData(Ilp.serializeIlpPrepare({
    amount: amount.toString(), destination, executionCondition: condition(data), expiresAt: new Date(Date.now() + 60_000), data,
  }));
  return { ...Ilp.deserializeIlpReply(reply), condition: condition(data) };
}

beforeAll(async () => {
  chain = await startChain();
  payee = await makeWallet('ilpc-payee', chain.anvil.rpcUrl);
  await Promise.all([chain.fund(payee.address, '1'), chain.fund(connectorKey.address, '1')]);
  const set = await payee.run(['config', 'set', 'redeem.minProfit', NO_REDEEM]);
  expect(set.code, set.stdout + set.stderr).toBe(0);
  writeFileSync(join(files, 'secret'), SECRET + '\n', { mode: 0o600 });
  listener = await startListen(payee, 0, listenArgs);
  pc = new Contract(listener.contract, artifact('PaymentChannels').abi, chain.provider);

  // The connector operator's wallet opens its channel to the merchant with the library, in the store the plugin will use.
  net = { kind: 'evm' as const, caip2: `eip155:${chain.anvil.chainId}`, rpcUrl: chain.anvil.rpcUrl, contract: listener.contract };
  const pcm = new PaymentChannelManager({ chain: net, wallet: { name: 'connector', privateKey: connectorKey.privateKey }, store: storePath });
  try {
    channel = (await pcm.create(payee.address, DEPOSIT, { settleDelay: 3600 })).channel;
  } finally {
    pcm.close();
  }

  const senderPort = await freePort();
  deps = reduct();
  app = createApp({
    ilpAddress: 'test.connector', backend: 'one-to-one', spread: 0, store: 'memory', initialConnectTimeout: 60_000,
    accounts: {
      sender: { relation: 'child', plugin: 'ilp-plugin-btp', assetCode: 'ETH', assetScale: 18, sendRoutes: false, receiveRoutes: false, options: { listener: { port: senderPort, secret: SENDER_SECRET } } },
      merchant: {
        relation: 'peer', plugin: require.resolve('channels/ilp'), assetCode: 'ETH', assetScale: 18, sendRoutes: false, receiveRoutes: false,
        balance: { minimum: '-Infinity', maximum: (10n ** 18n).toString(), settleThreshold: SETTLE_THRESHOLD.toString(), settleTo: '0' },
        options: {
          server: listener.url.replace('btp+ws://', `btp+ws://connector:${SECRET}@`), channel,
          chain: net, wallet: { name: 'connector', privateKey: connectorKey.privateKey }, store: storePath,
        },
      },
    },
    // A static route (the route broadcaster loads it; no CCP is exchanged: sendRoutes/receiveRoutes false).
    routes: [{ targetPrefix: 'test.merchant', peerId: 'merchant' }],
  }, deps);
  // The BTP server account's connect() resolves once its client is in: start listening, then connect the client.
  const listening = app.listen();
  client = new BtpPlugin({ server: `btp+ws://:${SENDER_SECRET}@127.0.0.1:${senderPort}` });
  await until(() => client.connect().then(() => true, () => false), 'the sender client to connect');
  await listening;
  await until(() => app.getPlugin('merchant').isConnected(), 'our plugin to connect to the listener');
}, 300_000);

afterAll(async () => {
  await client?.disconnect().catch(() => {});
  await app?.shutdown().catch(() => {});
  await listener?.stop();
  await chain?.stop();
});

describe('ilp-connector settles an account over our channel', () => {
  it('loads the plugin by module name: require(\'channels/ilp\') is the constructor (version 2) the connector instantiated', async () => {
    const Plugin = require('channels/ilp');
    expect(typeof Plugin).toBe('function');
    expect(Plugin.version).toBe(2);
    expect(app.getPlugin('merchant')).toBeInstanceOf(Plugin);
    await until(() => events().some((e) => e.type === 'PEER_CONNECTED' && e.peer === 'connector') || undefined, 'PEER_CONNECTED of the connector');
  });

  it('routes Prepares to the listener\'s SPSP destination (each fulfilled); its balance middleware calls our sendMoney at the threshold and the claims arrive', async () => {
    const { destination, sharedSecret } = parseSpsp(await (await fetch(listener.spsp)).json());
    expect(destination.startsWith('test.merchant.')).toBe(true);
    for (let i = 0; i < PACKETS; i++) {
      const r = await sendPrepare(destination, PACKET, (d) => conditionFor(sharedSecret, d));
      expect(r.fulfillment, JSON.stringify(r)).toBeDefined();
      expect(createHash('sha256').update(r.fulfillment).digest()).toEqual(r.condition);
    }
    // After every third packet the connector owes 3 × PACKET < SETTLE_THRESHOLD and settles to 0: two claims of 3 packets.
    const got = await until(() => {
      const c = claimsReceived();
      return c.length >= 2 ? c : undefined;
    }, 'two CLAIM_RECEIVED');
    expect(got.map((e) => [e.peer, e.credited, e.transferredAmount])).toEqual([
      ['connector', (3n * PACKET).toString(), (3n * PACKET).toString()],
      ['connector', (3n * PACKET).toString(), (6n * PACKET).toString()],
    ]);
    expect(await until(() => connectorBalance() === 0n || undefined, 'the connector\'s balance settled to 0', 30_000)).toBe(true);
    // The listener committed both vouchers; the last is worth everything sent.
    const v = stored();
    expect(v.map((x) => [x.nonce, x.amount])).toEqual([[1n, (3n * PACKET).toString()], [2n, (6n * PACKET).toString()]]);
    // The sender's own store holds the same voucher (committed before it left).
    const db = new Database(storePath, { readonly: true });
    try {
      const mine = db.prepare('SELECT signature FROM vouchers WHERE channel_id = ? ORDER BY nonce DESC LIMIT 1').get(channel) as any;
      expect(mine.signature).toBe(v[1].signature);
    } finally {
      db.close();
    }
    // Nothing is redeemed yet (redeem.minProfit is above the claims).
    expect((await pc.getChannel(channel)).redeemed).toBe(0n);
  }, 180_000);

  it('a Prepare with a wrong condition comes back rejected (F05 from the listener), nothing paid', async () => {
    const { destination } = parseSpsp(await (await fetch(listener.spsp)).json());
    const before = { claims: claimsReceived().length, vouchers: stored().length, balance: connectorBalance() };
    const r = await sendPrepare(destination, PACKET, (d) => conditionFor(Buffer.alloc(32, 7), d));
    expect(r.fulfillment).toBeUndefined();
    expect(r.code).toBe('F05');
    expect(r.triggeredBy).toBe('test.merchant');
    await new Promise((ok) => setTimeout(ok, 1500)); // a claim, were one sent, would be in by now
    expect({ claims: claimsReceived().length, vouchers: stored().length, balance: connectorBalance() }).toEqual(before);
  });

  it('reconnects after the listener restarts: the next packets are fulfilled over a new socket and settled on the same channel', async () => {
    const plugin = app.getPlugin('merchant');
    const seen: string[] = [];
    plugin.on('connect', () => seen.push('connect'));
    plugin.on('disconnect', () => seen.push('disconnect'));
    await listener.stop();
    await until(() => !plugin.isConnected() || undefined, 'the plugin to see the socket drop', 30_000);
    await restartListener();
    // The connector sends only to a connected account: the plugin's backoff brings it back by itself.
    await until(() => plugin.isConnected() || undefined, 'the plugin to reconnect', 60_000);
    // A restarted listener hands out new SPSP secrets (its receive secret is per process).
    const { destination, sharedSecret } = parseSpsp(await (await fetch(listener.spsp)).json());
    for (let i = 0; i < 3; i++) {
      const r = await sendPrepare(destination, PACKET, (d) => conditionFor(sharedSecret, d));
      expect(r.fulfillment, JSON.stringify(r)).toBeDefined();
    }
    expect(seen.slice(0, 2)).toEqual(['disconnect', 'connect']);
    const got = await until(() => {
      const c = claimsReceived();
      return c.length >= 3 ? c : undefined;
    }, 'the third CLAIM_RECEIVED');
    expect(got[2]).toMatchObject({ peer: 'connector', nonce: '3', credited: (3n * PACKET).toString(), transferredAmount: (9n * PACKET).toString() });
    expect(stored().map((x) => x.nonce)).toEqual([1n, 2n, 3n]);
    expect(await until(() => connectorBalance() === 0n || undefined, 'the connector\'s balance settled to 0', 30_000)).toBe(true);
  }, 180_000);

  it('the claims redeem on anvil: the listener\'s redemption service closes the channel paying the claimed total', async () => {
    const set = await payee.run(['config', 'set', 'redeem.minProfit', '0']);
    expect(set.code, set.stdout + set.stderr).toBe(0);
    const log = await until(async () => {
      const logs = await pc.queryFilter(pc.filters.ChannelCollected(channel));
      return logs[0] as any;
    }, 'ChannelCollected of the channel', 120_000);
    expect(log.args.paidToPayee).toBe(9n * PACKET);
    expect(log.args.refundedToPayer).toBe(DEPOSIT - 9n * PACKET);
    // The payee's balance moved by what it was paid less the gas of its close.
    const receipt = await chain.provider.getTransactionReceipt(log.transactionHash);
    const gas = receipt!.gasUsed * receipt!.gasPrice;
    const before = await chain.provider.getBalance(payee.address, receipt!.blockNumber - 1);
    const after = await chain.provider.getBalance(payee.address, receipt!.blockNumber);
    expect(after - before).toBe(9n * PACKET - gas);
    expect(listener.stderr()).toMatch(/closed|redeemed/);
    // Later tests' channels are left alone again.
    expect((await payee.run(['config', 'set', 'redeem.minProfit', NO_REDEEM])).code).toBe(0);
  }, 180_000);
});

describe('the plugin on its own (what the connector does not exercise)', () => {
  const Plugin = require('channels/ilp');
  const wallet = () => ({ name: 'connector', privateKey: connectorKey.privateKey });

  it('with settleThreshold it sends a claim by itself each time that much is owed for fulfilled Prepares', async () => {
    const pcm = new PaymentChannelManager({ chain: net, wallet: wallet(), store: storePath });
    let direct: string;
    try {
      direct = (await pcm.create(payee.address, DEPOSIT, { settleDelay: 3600 })).channel;
    } finally {
      pcm.close();
    }
    const plugin = new Plugin({ server: listener.url.replace('btp+ws://', `btp+ws://direct:${SECRET}@`), channel: direct, settleThreshold: (2n * PACKET).toString(), payee: false, chain: net, wallet: wallet(), store: storePath });
    const failures: Error[] = [];
    plugin.on('settlementError', (e: Error) => failures.push(e));
    await plugin.connect();
    try {
      const { destination, sharedSecret } = parseSpsp(await (await fetch(listener.spsp)).json());
      for (let i = 0; i < 5; i++) {
        const data = randomBytes(32);
        const reply = Ilp.deserializeIlpReply(await plugin.sendData(Ilp.serializeIlpPrepare({
          amount: PACKET.toString(), destination, executionCondition: conditionFor(sharedSecret, data), expiresAt: new Date(Date.now() + 60_000), data,
        })));
        expect('fulfillment' in reply, JSON.stringify(reply)).toBe(true);
      }
      const got = await until(() => {
        const c = events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === direct);
        return c.length >= 2 ? c : undefined;
      }, 'two CLAIM_RECEIVED of the plugin\'s own threshold');
      expect(got.map((e) => [e.peer, e.credited, e.transferredAmount])).toEqual([
        ['direct', (2n * PACKET).toString(), (2n * PACKET).toString()],
        ['direct', (2n * PACKET).toString(), (4n * PACKET).toString()],
      ]);
      expect(plugin.owed).toBe(PACKET); // the fifth packet: below the threshold, not paid yet
      expect(failures).toEqual([]);
      // A Reject counts nothing.
      const data = randomBytes(32);
      const rejected = Ilp.deserializeIlpReply(await plugin.sendData(Ilp.serializeIlpPrepare({
        amount: (5n * PACKET).toString(), destination, executionCondition: conditionFor(Buffer.alloc(32, 1), data), expiresAt: new Date(Date.now() + 60_000), data,
      }))) as Ilp.IlpReject;
      expect(rejected.code).toBe('F05');
      expect(plugin.owed).toBe(PACKET);
    } finally {
      await plugin.disconnect();
    }
    expect(plugin.isConnected()).toBe(false);
  }, 120_000);

  it('a sendMoney made while the peer is down is kept owed (T01) and paid by itself once the plugin reconnects', async () => {
    const pcm = new PaymentChannelManager({ chain: net, wallet: wallet(), store: storePath });
    let ch: string;
    try {
      ch = (await pcm.create(payee.address, DEPOSIT, { settleDelay: 3600 })).channel;
    } finally {
      pcm.close();
    }
    const plugin = new Plugin({ server: listener.url.replace('btp+ws://', `btp+ws://later:${SECRET}@`), channel: ch, chain: net, wallet: wallet(), store: storePath });
    await plugin.connect();
    try {
      await plugin.sendMoney('1000');
      await listener.stop();
      await until(() => !plugin.isConnected() || undefined, 'the plugin to see the socket drop', 30_000);
      const err = await plugin.sendMoney('2000').then(() => undefined, (e: any) => e);
      expect(err?.ilpErrorCode).toBe('T01');
      expect(plugin.owed).toBe(2000n);
      expect(stored(ch, storePath).map((x) => x.amount)).toEqual(['1000']); // no voucher made for it
      await restartListener();
      const got = await until(() => {
        const c = events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === ch);
        return c.length >= 2 ? c : undefined;
      }, 'the claim owed since the drop', 90_000);
      expect(got.map((e) => [e.peer, e.credited, e.transferredAmount])).toEqual([['later', '1000', '1000'], ['later', '2000', '3000']]);
      expect(plugin.owed).toBe(0n);
    } finally {
      await plugin.disconnect();
    }
  }, 180_000);

  it('takes a program\'s PaymentChannelManager instead of a wallet in its options; refuses bad options', async () => {
    const pcm = new PaymentChannelManager({ chain: net, wallet: wallet(), store: storePath });
    try {
      const ch = (await pcm.create(payee.address, DEPOSIT, { settleDelay: 3600 })).channel;
      const plugin = new Plugin({ server: listener.url.replace('btp+ws://', `btp+ws://program:${SECRET}@`), channel: ch, manager: pcm });
      await plugin.connect();
      try {
        await plugin.sendMoney('500');
      } finally {
        await plugin.disconnect();
      }
      await until(() => events().find((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === ch && e.peer === 'program' && e.credited === '500'), 'the program\'s claim');
      expect(stored(ch, storePath).map((x) => x.amount)).toEqual(['500']);
    } finally {
      pcm.close();
    }
    const base = { server: 'btp+ws://a:b@127.0.0.1:1', chain: net, wallet: wallet(), store: storePath };
    expect(() => new Plugin({ ...base, server: 'http://127.0.0.1:1' })).toThrow(/server: expected btp\+ws/);
    expect(() => new Plugin({ ...base, settleThreshold: '-5' })).toThrow(/settleThreshold/);
    expect(() => new Plugin({ server: base.server })).toThrow(/needs a wallet/);
    const idle = new Plugin(base);
    await expect(idle.sendMoney('12.5')).rejects.toThrow(/decimal string/);
    await expect(idle.sendMoney('5')).rejects.toThrow(/options\.channel/);
    await expect(idle.sendData(Buffer.from('not a prepare'))).rejects.toMatchObject({ ilpErrorCode: 'F01' });
  }, 120_000);

  describe('against a stock ilp-plugin-btp server: its Prepares reach our data handler, its claims our money handler', () => {
    const serverSecret = 'stock-' + 'w'.repeat(20);
    let server: any;
    let port: number;
    let plugin: any;
    let inbound: string;
    const payerKey = Wallet.createRandom();
    const money: string[] = [];
    const prepares: Buffer[] = [];

    /** The claim of `v`, its digest and key computed here with ethers (not by the code under test). */
    const claimOf = (v: EvmVoucher, messageId: string) => {
      const digest = TypedDataEncoder.hash({ name: 'PaymentChannels', version: '1', chainId: BigInt(chain.anvil.chainId), verifyingContract: listener.contract }, VOUCHER_TYPES, voucherMessage(v));
      return { ...claimFromVoucher(v, { digest, publicKey: SigningKey.recoverPublicKey(digest, v.signature) }, { senderId: 'stock', messageId }) };
    };
    const voucher = (nonce: bigint, amount: bigint, key: { privateKey: string } = payerKey) => signVoucher({
      channelId: inbound, lane: 0n, nonce, amount, secretHash: ZeroHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [],
    }, key as any, BigInt(chain.anvil.chainId), listener.contract);
    /** The stock server sends a Transfer of `amount` carrying `claim`, as a channel plugin's sendMoney does. */
    const transfer = (amount: bigint, claim: unknown) => server._call('', {
      type: BtpPacket.TYPE_TRANSFER, requestId: Math.floor(Math.random() * 2 ** 31),
      data: { amount: amount.toString(), protocolData: [{ protocolName: 'payment-channel-claim', contentType: 2, data: Buffer.from(JSON.stringify(claim)) }] },
    });
    const connectTo = async (o: Record<string, unknown>) => {
      const p = new Plugin({ server: `btp+ws://stock:${serverSecret}@127.0.0.1:${port}`, chain: net, wallet: wallet(), store: storePath, ...o });
      const serverSide = server.connect();
      await p.connect();
      await serverSide;
      return p;
    };

    beforeAll(async () => {
      await chain.fund(payerKey.address, '1');
      const payerStore = join(files, 'payer', 'channels.db');
      const pcm = new PaymentChannelManager({ chain: net, wallet: { name: 'payer', privateKey: payerKey.privateKey }, store: payerStore });
      try {
        inbound = (await pcm.create(connectorKey.address, DEPOSIT, { settleDelay: 3600 })).channel;
      } finally {
        pcm.close();
      }
      port = await freePort();
      server = new BtpPlugin({ listener: { port, secret: serverSecret } });
      plugin = await connectTo({ payee: { minSettleDelay: 60 } });
      plugin.registerMoneyHandler(async (amount: string) => void money.push(amount));
    }, 120_000);
    afterAll(async () => {
      await plugin?.disconnect();
      await server?.disconnect();
    });

    it('a Prepare from the server reaches the registered data handler byte for byte, and its answer goes back; none registered: F02', async () => {
      const fulfill = Ilp.serializeIlpFulfill({ fulfillment: Buffer.alloc(32, 3), data: Buffer.from('ok') });
      plugin.registerDataHandler(async (d: Buffer) => {
        prepares.push(d);
        return fulfill;
      });
      expect(() => plugin.registerDataHandler(async (d: Buffer) => d)).toThrow(/registered already/);
      const prepare = Ilp.serializeIlpPrepare({ amount: '7', destination: 'test.somewhere', executionCondition: createHash('sha256').update(Buffer.alloc(32, 3)).digest(), expiresAt: new Date(Date.now() + 30_000), data: Buffer.from('hello') });
      expect(await server.sendData(prepare)).toEqual(fulfill);
      expect(prepares).toEqual([prepare]);
      plugin.deregisterDataHandler();
      const reject = Ilp.deserializeIlpReply(await server.sendData(prepare)) as Ilp.IlpReject;
      expect(reject).toMatchObject({ code: 'F02', triggeredBy: 'private.channels' });
      expect(prepares).toHaveLength(1);
    });

    it('a claim in a Transfer is committed to the wallet\'s store, then the money handler gets the Transfer\'s amount; a resend is a duplicate and pays nothing', async () => {
      const v = voucher(1n, 5000n);
      const claim = claimOf(v, 'stock-1');
      const answer = await transfer(5000n, claim);
      const receipt = JSON.parse(answer.protocolData.find((d: any) => d.protocolName === 'payment-channel-claim').data.toString());
      expect(receipt).toMatchObject({ channelId: inbound, nonce: '1', credited: '5000', duplicate: false });
      expect(stored(inbound, storePath).map((x) => [x.nonce, x.signature])).toEqual([[1n, v.signature]]);
      expect(money).toEqual(['5000']);
      const again = await transfer(5000n, claim);
      expect(JSON.parse(again.protocolData[0].data.toString())).toMatchObject({ duplicate: true });
      expect(money).toEqual(['5000']);
    });

    it('a bad claim (signed by another key) is refused with a BTP Error F00; nothing stored, the money handler not called', async () => {
      const err = await transfer(1000n, claimOf(voucher(2n, 6000n, Wallet.createRandom()), 'stock-bad')).then(() => undefined, (e: Error) => e);
      expect(JSON.parse(err.message)).toMatchObject({ code: 'F00', name: 'NotAcceptedError' });
      expect(stored(inbound, storePath)).toHaveLength(1);
      expect(money).toEqual(['5000']);
    });

    it('a claim whose answer the drop lost is resent (same messageId) before the next, after the plugin reconnects', async () => {
      // A stock server whose money handler (as a channel plugin's) records each claim and, the first time, drops the socket unanswered.
      class Dropping extends BtpPlugin {
        claims: { amount: string; claim: any }[] = [];
        constructor(opts: Record<string, unknown>) {
          super(opts);
        }
        async _handleMoney(_from: string, packet: any): Promise<any[]> {
          const claim = JSON.parse(packet.data.protocolData.find((d: any) => d.protocolName === 'payment-channel-claim').data.toString());
          this.claims.push({ amount: packet.data.amount, claim });
          if (this.claims.length === 1) {
            this._incomingWs.terminate();
            await new Promise(() => {}); // never answered
          }
          return [];
        }
      }
      const pcm = new PaymentChannelManager({ chain: net, wallet: wallet(), store: storePath });
      let ch: string;
      try {
        ch = (await pcm.create(Wallet.createRandom().address, DEPOSIT, { settleDelay: 3600 })).channel;
      } finally {
        pcm.close();
      }
      const dropPort = await freePort();
      const dropping = new Dropping({ listener: { port: dropPort, secret: serverSecret } });
      const serverSide = dropping.connect();
      const payer = new Plugin({ server: `btp+ws://resend:${serverSecret}@127.0.0.1:${dropPort}`, channel: ch, payee: false, chain: net, wallet: wallet(), store: storePath });
      await payer.connect();
      await serverSide;
      try {
        const lost = await payer.sendMoney('1000').then(() => undefined, (e: any) => e);
        expect(lost?.ilpErrorCode).toBe('T01');
        expect(stored(ch, storePath).map((x) => x.amount)).toEqual(['1000']); // committed before it left: paid, not owed
        expect(payer.owed).toBe(0n);
        await until(() => payer.isConnected() || undefined, 'the plugin to reconnect');
        await payer.sendMoney('500');
        expect(dropping.claims.map((c) => [c.amount, c.claim.nonce, c.claim.transferredAmount])).toEqual([['1000', 1, '1000'], ['1000', 1, '1000'], ['500', 2, '1500']]);
        expect(dropping.claims[1].claim.messageId).toBe(dropping.claims[0].claim.messageId);
      } finally {
        await payer.disconnect();
        await dropping.disconnect();
      }
    }, 120_000);

    it('with payee: false it takes no claims (F00)', async () => {
      await plugin.disconnect();
      const refusing = await connectTo({ payee: false });
      try {
        const err = await transfer(1000n, claimOf(voucher(2n, 6000n), 'stock-2')).then(() => undefined, (e: Error) => e);
        expect(JSON.parse(err.message)).toMatchObject({ code: 'F00' });
        expect(stored(inbound, storePath)).toHaveLength(1);
      } finally {
        await refusing.disconnect();
      }
    });
  });
});
