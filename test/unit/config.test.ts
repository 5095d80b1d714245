/**
 * config.json (src/core/config.ts, the families' chains/{evm,bitcoin}/config.ts, settings.ts,
 * network-import.ts): one zod schema reads it, checks every write, and backs `config set`
 * and `config import`. Real files in temporary homes, no mocks.
 *
 * - a config.json written by the release before the schema moved to zod (commit 6e001c3:
 *   EVM and Bitcoin networks, every buy setting, a key) loads, reads as it was written, and
 *   a write keeps everything else in it;
 * - hand-edited files the schema refuses, table-driven, with the message naming the field;
 * - a refused write leaves config.json byte-identical.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { UsageError } from '../../src/core/errors.js';
import { getSetting, listSettings, setNetwork, setSetting } from '../../src/core/settings.js';
import { parseNetworks } from '../../src/core/network-import.js';
import { REPO_ROOT } from '../helpers/anvil.js';

const RELEASE = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'config-6e001c3.json'), 'utf8');

/** A wallet home whose config.json holds `text`. */
function home(text?: string): string {
  const h = mkdtempSync(join(tmpdir(), 'channels-config-'));
  if (text !== undefined) writeFileSync(join(h, 'config.json'), text, { mode: 0o600 });
  return h;
}

describe('a config.json written by the release before zod (6e001c3)', () => {
  it('loads, with every network, key and buy setting as written', () => {
    const c = new Config(home(RELEASE));
    const stored = JSON.parse(RELEASE);
    expect(c.all()).toEqual(stored);
    expect(c.network('sepolia')).toEqual({ name: 'sepolia', kind: 'evm', caip2: 'eip155:11155111', rpcUrl: 'https://rpc.sepolia.example', contract: '0x4e59b44847b379578588920cA78FbF26c0B4956C' });
    const ltc = c.network();
    expect(ltc.kind === 'bitcoin' && ltc.bitcoin).toEqual({ bech32: 'rltc', pubKeyHash: 111, scriptHash: 58, wif: 239, dustRelayFee: 30, coinType: 1 });
    const cookie = c.network('cookie');
    expect(cookie.kind === 'bitcoin' && [cookie.rpcCookieFile, cookie.fallbackFeeRate]).toEqual(['/var/lib/bitcoind/regtest/.cookie', 5]);
    expect(c.get('buy')).toEqual({
      autoOpen: true, depositRequests: 50, deposit: '200000000000000000', maxPrice: '5000000000', settleDelay: 3600,
      bitcoinDeposit: '100000', bitcoinMaxPrice: '500', bitcoinExpiry: 345600,
    });
    expect(c.key().bitcoinPubkeys?.['1']).toBe(stored.keys.alice.bitcoinPubkeys['1']);
  });

  it('reads through config get/list as before: amounts in base units, networks with their fields', () => {
    const c = new Config(home(RELEASE));
    expect(getSetting(c, 'buy.bitcoinDeposit')).toBe('100000');
    expect(getSetting(c, 'networks.doge.kind')).toBe('bitcoin');
    const list = Object.fromEntries(listSettings(c).map((s) => [s.key, s.value]));
    expect(list).toMatchObject({ 'buy.deposit': '200000000000000000', 'buy.bitcoinExpiry': 345600, 'networks.sepolia.contract': '0x4e59b44847b379578588920cA78FbF26c0B4956C', 'networks.ltc.rpcUrl': 'http://user:pass@127.0.0.1:19443' });
    expect(list).not.toHaveProperty('networks.ltc.contract'); // a Bitcoin network has no contract
  });

  it('a write changes one field and keeps the rest of the file, mode 0600', () => {
    const h = home(RELEASE);
    const c = new Config(h);
    setSetting(c, 'buy.bitcoinMaxPrice', '600sat');
    const after = JSON.parse(readFileSync(join(h, 'config.json'), 'utf8'));
    expect(after).toEqual({ ...JSON.parse(RELEASE), buy: { ...JSON.parse(RELEASE).buy, bitcoinMaxPrice: '600' } });
    expect(statSync(join(h, 'config.json')).mode & 0o777).toBe(0o600);
    setSetting(c, 'buy.bitcoinDeposit', 'auto');
    expect(new Config(h).get('buy')).not.toHaveProperty('bitcoinDeposit');
  });

  it('fields this version does not know are kept by a write, and ignored', () => {
    const h = home(JSON.stringify({ ...JSON.parse(RELEASE), future: { x: 1 } }));
    const c = new Config(h);
    expect(c.all()).not.toHaveProperty('future');
    setSetting(c, 'buy.autoOpen', 'false');
    expect(JSON.parse(readFileSync(join(h, 'config.json'), 'utf8')).future).toEqual({ x: 1 });
  });
});

describe('a new home', () => {
  it('gets config.json with the defaults, mode 0600', () => {
    const h = home();
    const c = new Config(h);
    expect(JSON.parse(readFileSync(join(h, 'config.json'), 'utf8'))).toEqual({
      defaultNetwork: 'devnet', keystore: 'keychain', networks: {}, keys: {},
      buy: { autoOpen: false, depositRequests: 1000, maxPrice: '10000000000000', settleDelay: 86400, bitcoinMaxPrice: '10000', bitcoinExpiry: 604800 },
    });
    expect(statSync(join(h, 'config.json')).mode & 0o777).toBe(0o600);
    expect(c.network().caip2).toBe('eip155:31337');
  });
});

const net = (o: object) => JSON.stringify({ networks: { x: { kind: 'bitcoin', caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', rpcUrl: 'http://u:p@127.0.0.1:1', ...o } } });
const INVALID: { name: string; text: string; details: string }[] = [
  { name: 'not JSON', text: '{"buy":', details: 'Unexpected end of JSON input' },
  { name: 'an array', text: '[]', details: 'config.json must hold a JSON object' },
  { name: 'an amount with an exponent', text: '{"buy":{"maxPrice":"1e5"}}', details: 'buy.maxPrice: must be a whole number of base units in decimal digits, e.g. "10000"' },
  { name: 'seconds as a string', text: '{"buy":{"settleDelay":"10"}}', details: 'buy.settleDelay: must be a number, not string' },
  { name: 'a Bitcoin expiry under a minute', text: '{"buy":{"bitcoinExpiry":59}}', details: 'buy.bitcoinExpiry: must be at least 60 seconds' },
  { name: 'an unknown keystore', text: '{"keystore":"paper"}', details: 'keystore: must be one of "keychain", "file", not "paper"' },
  { name: 'an unknown kind of network', text: net({ kind: 'tron' }), details: 'networks.x.kind: must be one of "evm", "bitcoin"' },
  { name: 'a network without rpcUrl', text: net({ rpcUrl: undefined }), details: 'networks.x.rpcUrl: missing (a string is required)' },
  { name: 'an ftp rpcUrl', text: net({ rpcUrl: 'ftp://a' }), details: 'networks.x.rpcUrl: Invalid URL "ftp://a": use http(s) or ws(s).' },
  { name: 'an EVM id on a Bitcoin network', text: net({ caip2: 'eip155:1' }), details: 'networks.x.caip2: must be bip122:<first 32 hex digits of the genesis hash>' },
  { name: 'Bitcoin parameters without coinType', text: net({ bitcoin: { bech32: 'rltc', pubKeyHash: 111, scriptHash: 58, wif: 239 } }), details: 'networks.x.bitcoin.coinType: must be a BIP44 coin type, an integer 0–2147483647' },
  { name: 'a version byte over 255', text: net({ bitcoin: { bech32: 'rltc', pubKeyHash: 256, scriptHash: 58, wif: 239, coinType: 1 } }), details: 'networks.x.bitcoin.pubKeyHash: must be an integer 0–255 (the P2PKH address version byte)' },
  { name: 'a short contract address', text: JSON.stringify({ networks: { e: { kind: 'evm', caip2: 'eip155:1', rpcUrl: 'http://a', contract: '0x12' } } }), details: 'networks.e.contract: must be an address: 0x and 40 hex digits' },
];

describe('a config.json the schema refuses', () => {
  it.each(INVALID)('$name: UsageError (exit 2) naming the field', ({ text, details }) => {
    const h = home(text);
    let err: unknown;
    try {
      new Config(h);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).shortMessage).toBe(`Invalid configuration in ${join(h, 'config.json')}.`);
    expect((err as UsageError).details).toBe(details);
    expect(readFileSync(join(h, 'config.json'), 'utf8')).toBe(text);
  });
});

describe('refused writes leave config.json byte-identical', () => {
  const CASES: { name: string; write: (c: Config) => unknown; message: RegExp }[] = [
    { name: 'an expiry under the schema minimum', write: (c) => setSetting(c, 'buy.bitcoinExpiry', '30'), message: /^Invalid value for buy\.bitcoinExpiry: must be at least 60 seconds\.$/ },
    { name: 'a contract on a Bitcoin network', write: (c) => setSetting(c, 'networks.ltc.contract', '0x4e59b44847b379578588920cA78FbF26c0B4956C'), message: /networks\.ltc\.contract: a bitcoin network has no contract/ },
    { name: 'a caip2 of the other family', write: (c) => setSetting(c, 'networks.sepolia.caip2', 'bip122:530827f38f93b43ed12af0b3ad25a288'), message: /belongs to another chain family/ },
    { name: '--params on an EVM network', write: (c) => setNetwork(c, 'e', 'http://a', 'eip155:5', undefined, 'bitcoin'), message: /--params applies to Bitcoin-family \(bip122\) networks only/ },
    { name: 'bad --params JSON', write: (c) => setNetwork(c, 'b', 'http://a', `bip122:${'ab'.repeat(16)}`, undefined, '{"bech32":"BC"}'), message: /^Bitcoin parameter bech32 must be 1–16 lowercase letters\.$/ },
    { name: 'an unknown --params field', write: (c) => setNetwork(c, 'b', 'http://a', `bip122:${'ab'.repeat(16)}`, undefined, '{"hrp":"x"}'), message: /^Bitcoin parameter hrp is unknown/ },
    { name: 'an unknown chain without --params', write: (c) => setNetwork(c, 'b', 'http://a', `bip122:${'ab'.repeat(16)}`), message: /Unknown Bitcoin-family chain/ },
    { name: 'a key record without address', write: (c) => c.addKey('k', { keystore: 'file', createdAt: 1 } as never), message: /^Invalid value for keys\.k: keys\.k\.address: missing/ },
  ];
  it.each(CASES)('$name', ({ write, message }) => {
    const h = home(RELEASE);
    const c = new Config(h);
    expect(() => write(c)).toThrow(message);
    expect(readFileSync(join(h, 'config.json'), 'utf8')).toBe(RELEASE);
  });
});

describe('config import reads networks with the same schema', () => {
  it('a network of each family, kind inferred from caip2, Bitcoin parameters from a known genesis', () => {
    const nets = parseNetworks(JSON.stringify({ networks: {
      e: { caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545', contract: '0x4e59b44847b379578588920ca78fbf26c0b4956c' },
      l: { caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', rpcUrl: 'http://127.0.0.1:19443', rpcCookieFile: '/c', fallbackFeeRate: 3 },
    } }), 'f.json');
    expect(nets.e).toEqual({ kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545', contract: '0x4e59b44847b379578588920cA78FbF26c0B4956C' });
    expect(nets.l).toEqual({ kind: 'bitcoin', caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', rpcUrl: 'http://127.0.0.1:19443', rpcCookieFile: '/c', fallbackFeeRate: 3, bitcoin: { bech32: 'rltc', pubKeyHash: 111, scriptHash: 58, wif: 239, dustRelayFee: 30, coinType: 1 } });
  });

  it.each([
    { name: 'a contract on a Bitcoin network', entry: { caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', rpcUrl: 'http://a', contract: '0x4e59b44847b379578588920cA78FbF26c0B4956C' }, message: /^networks\.x\.contract: unknown field of a bitcoin network \(known: kind, caip2, rpcUrl, bitcoin, rpcCookieFile, fallbackFeeRate\)\.$/ },
    { name: 'a fee rate of 0', entry: { caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', rpcUrl: 'http://a', fallbackFeeRate: 0 }, message: /^networks\.x\.fallbackFeeRate: must be at least 1 sat\/vB\.$/ },
    { name: 'an empty cookie file', entry: { caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', rpcUrl: 'http://a', rpcCookieFile: '' }, message: /^networks\.x\.rpcCookieFile: must be a non-empty path\.$/ },
    { name: 'a bad checksum', entry: { caip2: 'eip155:1', rpcUrl: 'http://a', contract: '0x4E59b44847b379578588920cA78FbF26c0B4956C' }, message: /^networks\.x\.contract: invalid address/ },
  ])('$name is refused naming the field', ({ entry, message }) => {
    expect(() => parseNetworks(JSON.stringify({ networks: { x: entry } }), 'f.json')).toThrow(message);
  });
});
