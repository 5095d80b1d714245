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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes, createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Contract, Wallet } from 'ethers';
import * as Ilp from 'ilp-packet';
import { conditionFor, parseSpsp } from '../../dist/core/transports/btp/index.js';
import { PaymentChannelManager } from '../../dist/index.js';
import { BIN, makeWallet, startChain, type Chain, type TestWallet } from '../helpers/cli.js';
import { artifact } from '../helpers/deploy.js';

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
let listener: { url: string; spsp: string; contract: string; child: ChildProcess; stop(): Promise<void>; stderr(): string };
const files = mkdtempSync(join(tmpdir(), 'channels-ilpc-'));
const eventsFile = join(files, 'events.jsonl');
const connectorKey = Wallet.createRandom();
const storePath = join(files, 'connector', 'channels.db');
let channel: string;
let app: any;
let deps: any;
let client: any;
let pc: Contract;
const listenArgs = ['--secret-file', join(files, 'secret'), '--events', eventsFile, '--ilp-address', 'test.merchant', '--max-owed', '0.001eth', '--watch-interval', '1'];

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as any).port;
      s.close(() => ok(p));
    });
  });
}

function startListen(w: TestWallet, port: number, args: string[]): Promise<typeof listener> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'btp', 'listen', '--port', String(port), '--json', '--min-settle-delay', '60', ...args], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`btp listen did not start: ${out}${err}`)), 60_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      const info = JSON.parse(out.split('\n')[0]);
      resolve({
        url: info.url, spsp: info.spsp, contract: info.contract, child, stderr: () => err,
        stop: () => new Promise((ok) => {
          if (child.exitCode !== null) return ok();
          child.once('exit', () => ok());
          child.kill('SIGTERM');
        }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`btp listen exited with ${code}: ${out}${err}`));
    });
  });
}

const events = (): any[] => (existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const claimsReceived = () => events().filter((e) => e.type === 'CLAIM_RECEIVED' && e.channelId === channel);

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The listener's stored vouchers of the channel. */
function stored(): { nonce: bigint; amount: string; signature: string }[] {
  const db = new Database(join(payee.home, 'channels.db'), { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare('SELECT nonce, amount, signature FROM vouchers WHERE channel_id = ? ORDER BY lane, nonce').all(channel) as any;
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
  const net = { kind: 'evm' as const, caip2: `eip155:${chain.anvil.chainId}`, rpcUrl: chain.anvil.rpcUrl, contract: listener.contract };
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
  it('loads the plugin by module name: require(\'channels/ilp\') is the constructor (version 2) the connector instantiated', () => {
    const Plugin = require('channels/ilp');
    expect(typeof Plugin).toBe('function');
    expect(Plugin.version).toBe(2);
    expect(app.getPlugin('merchant')).toBeInstanceOf(Plugin);
    expect(events().some((e) => e.type === 'PEER_CONNECTED' && e.peer === 'connector')).toBe(true);
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
    const port = Number(new URL(listener.url.replace('btp+ws:', 'http:')).port);
    await listener.stop();
    await until(() => !plugin.isConnected() || undefined, 'the plugin to see the socket drop', 30_000);
    listener = await startListen(payee, port, listenArgs);
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
  }, 180_000);
});
