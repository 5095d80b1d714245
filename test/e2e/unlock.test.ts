/**
 * `buy` and `serve` start unlocking the key (scrypt, off the event loop) before their first
 * network round trips when no prompt is needed (serve also starts its paywall meanwhile,
 * and prints ready only once unlocked). What they report must not change: a
 * resource that costs nothing never reports the key, a wrong passphrase is still exit 7
 * with nothing stored or sent, and no passphrase without a TTY is still exit 7. Real
 * anvil, real `channels serve`, the real binary.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWallet, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';

let chain: Chain;
let shop: TestWallet;
let payer: TestWallet;
let serve: Serve;
/** A free resource that answers after 8 s: long after a wrong passphrase's unlock has failed. */
let slow: Server;
let slowUrl: string;

beforeAll(async () => {
  chain = await startChain();
  [shop, payer] = await Promise.all([makeWallet('shop', chain.anvil.rpcUrl), makeWallet('payer', chain.anvil.rpcUrl)]);
  await chain.fund(shop.address);
  await chain.fund(payer.address);
  // /weather costs 1000 wei; /joke is free
  serve = await startServe(shop, ['--price', '1000', '--route', '/weather']);
  slow = createServer((_req, res) => setTimeout(() => res.end('free, and slow'), 8_000));
  await new Promise<void>((ok) => slow.listen(0, '127.0.0.1', ok));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
}, 120_000);

afterAll(async () => {
  slow?.close();
  await serve?.stop();
  await chain?.stop();
});

const WRONG = { CHANNELS_PASSWORD: 'wrong horse' };
const NO_PASSPHRASE = { CHANNELS_PASSWORD: undefined, CHANNELS_PASSWORD_FILE: undefined };
const channelsOf = async (w: TestWallet, direction: string) => (await w.run(['list', direction, '--json'])).json.channels;

describe('buy unlocks the key early; what it reports does not change', () => {
  it.each([
    ['the paywall\'s free route', () => `${serve.url}/joke`, /./],
    ['a server answering after the unlock failed', () => slowUrl, /^free, and slow$/],
  ])('a free resource with a wrong passphrase (%s): exit 0 and the body, no keystore error', async (_what, url, body) => {
    const r = await payer.run(['buy', url(), '--max-price', '5000', '--yes'], WRONG);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(body);
    expect(r.stderr).not.toMatch(/passphrase|decrypt|Error/i);
  });

  it('a paid resource with a wrong passphrase: exit 7 naming the key file; no channel, nothing sent', async () => {
    const before = await chain.balance(payer.address);
    const r = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json'], WRONG);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.json.error.code).toBe('KEYSTORE');
    expect(r.json.error.message).toMatch(/Cannot decrypt .*payer\.json: wrong passphrase/);
    expect(await chain.balance(payer.address)).toBe(before);
    expect(await channelsOf(payer, '--outbound')).toEqual([]);
    expect(await channelsOf(shop, '--inbound')).toEqual([]);
  });

  it('a paid resource with no passphrase and no TTY: exit 7 "No passphrase", no channel', async () => {
    const r = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json'], NO_PASSPHRASE); // stdin is a pipe
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.json.error.message).toMatch(/No passphrase for key "payer"/);
    expect(await channelsOf(payer, '--outbound')).toEqual([]);
  });

  it('positive control: the right passphrase pays, opening a channel', async () => {
    const r = await payer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.paid).toBe('1000');
    expect(r.json.opened).not.toBeNull();
    expect(await channelsOf(payer, '--outbound')).toHaveLength(1);
  });
});

describe('serve unlocks the key while its paywall starts', () => {
  it.each([
    ['a wrong passphrase (unlocked while the paywall starts)', WRONG, /Cannot decrypt .*shop\.json: wrong passphrase/],
    ['no passphrase and no TTY (nothing starts)', NO_PASSPHRASE, /No passphrase for key "shop"/],
  ])('%s: exit 7 and no ready line', async (_what, env, message) => {
    const r = await shop.run(['serve', '--port', '0', '--json', '--price', '1000'], env);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.stdout).not.toMatch(/"url"/);
    expect(r.json.error.message).toMatch(message);
  });
});
