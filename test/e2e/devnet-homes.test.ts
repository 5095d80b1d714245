/**
 * Issue 9 §3.1–3.2, a new user's first hour with two homes: `channels devnet --fund <home>`
 * funds another wallet on both chains (and with the devnet's USD test token, issue 13 §1); `channels config import <devnet.json>` lets any home
 * use the devnet's nodes (`serve --network regtest` in the shop's home said `Unknown network
 * "regtest"`); a merchant without gas is warned at `serve` start; a malformed import writes
 * nothing. One devnet (anvil + litecoind) for the whole file.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, makeWallet, readConfig, startDevnet, type TestWallet } from '../helpers/cli.js';
import { rpc } from '../helpers/anvil.js';
import { describeBitcoin } from '../helpers/bitcoin.js';
import { BitcoinRpc } from '../../src/families/bitcoin/rpc.js';
import { testUsdAddress } from '../../src/devnet/index.js';

/** A wallet whose commands use its own config (no CHANNELS_RPC_URL override). */
async function wallet(name: string): Promise<TestWallet> {
  const w = await makeWallet(name, 'http://127.0.0.1:1');
  delete w.env.CHANNELS_RPC_URL;
  return w;
}

/**
 * Starts `channels serve --port 0 <args>` in `w`, waits for its ready line, stops it and
 * returns everything it printed (stderr complete: read until the pipes closed).
 */
function serveOnce(w: TestWallet, args: string[]): Promise<{ ready: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (!ready && /^(\{"url"|Paywall on)/m.test(out) && out.includes('\n')) {
        ready = out.split('\n')[0];
        child.kill('SIGTERM');
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    child.once('close', (code) => (ready ? resolve({ ready, stderr: err, code }) : reject(new Error(`serve exited ${code} before ready: ${out}${err}`))));
  });
}

let alice: TestWallet; // runs the devnet
let shop: TestWallet; // funded through --fund <its home>
let devnet: Awaited<ReturnType<typeof startDevnet>>;
const stranger = '0x00000000000000000000000000000000DeaDBeef';

beforeAll(async () => {
  [alice, shop] = await Promise.all([wallet('alice'), wallet('shop')]);
  devnet = await startDevnet(alice.env, ['--fund', shop.home, '--fund', stranger.toLowerCase()]);
}, 120_000);
afterAll(async () => {
  if (devnet?.child.exitCode === null) {
    const exited = new Promise((ok) => devnet.child.once('exit', ok));
    devnet.child.kill('SIGINT');
    await exited;
  }
});

describeBitcoin('devnet for two homes', { timeout: 60_000 }, () => {
  it('--fund <home> gives every key of that home 100 ETH and a regtest coinbase; the ready line lists the networks', async () => {
    const { info } = devnet;
    expect(info.funded).toEqual([alice.address, shop.address, stranger]);
    for (const a of [shop.address, stranger]) {
      expect(BigInt(await rpc<string>(info.rpcUrl, 'eth_getBalance', [a, 'latest']))).toBe(100n * 10n ** 18n);
    }
    expect(info.networks.devnet).toEqual({
      kind: 'evm', caip2: 'eip155:31337', rpcUrl: info.rpcUrl, contract: info.contract,
      assets: { usdc: { symbol: 'USDC', address: info.assets.usdc, decimals: 6 } },
    });
    // Issue 13 §1: the USD test token is deployed and every funded key holds 10,000 USDC of it.
    expect(info.assets.usdc).toBe(testUsdAddress()); // CREATE2: the same address on every chain
    expect(await rpc<string>(info.rpcUrl, 'eth_getCode', [info.assets.usdc, 'latest'])).not.toBe('0x');
    const balanceOf = (a: string) => '0x70a08231' + a.slice(2).toLowerCase().padStart(64, '0');
    const decimals = await rpc<string>(info.rpcUrl, 'eth_call', [{ to: info.assets.usdc, data: '0x313ce567' }, 'latest']);
    expect(BigInt(decimals)).toBe(6n);
    for (const a of info.funded) {
      expect(BigInt(await rpc<string>(info.rpcUrl, 'eth_call', [{ to: info.assets.usdc, data: balanceOf(a) }, 'latest']))).toBe(10_000n * 10n ** 6n);
    }
    expect(info.networks.regtest).toMatchObject({ kind: 'bitcoin', caip2: info.bitcoin.caip2, bitcoin: { bech32: 'rltc', coinType: 1 } });
    expect(info.networks.regtest.rpcUrl).toMatch(/^http:\/\/channels:[0-9a-f]{32}@127\.0\.0\.1:\d+$/); // usable from another home
    expect(info.bitcoin.rpcUrl).not.toMatch(/@/);
    expect(info.bitcoin.funded).toHaveLength(2);
    // The devnet's own config holds the same networks, and devnet.json (0600) the same line.
    expect(readConfig(alice.home).networks).toEqual(info.networks);
    const file = join(alice.home, 'devnet.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(info);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('config import in another home: its networks work there (serve --network regtest starts; the shop\'s coins are on the node)', async () => {
    const imp = await shop.run(['config', 'import', join(alice.home, 'devnet.json'), '--json']);
    expect(imp.code, imp.stdout + imp.stderr).toBe(0);
    expect(imp.json.networks).toEqual(devnet.info.networks);
    expect(readConfig(shop.home).networks).toEqual(devnet.info.networks);

    const show = await shop.run(['keys', 'show', '--network', 'regtest', '--json']);
    expect(devnet.info.bitcoin.funded).toContain(show.json.fundingAddress);
    const node = new BitcoinRpc(devnet.info.networks.regtest.rpcUrl, { timeoutMs: 10_000 });
    const scan = await node.call<{ total_amount: number }>('scantxoutset', ['start', [`addr(${show.json.fundingAddress})`]]);
    expect(scan.total_amount).toBe(50);

    const s = await serveOnce(shop, ['--network', 'regtest', '--price', '1000sat', '--json']);
    expect(JSON.parse(s.ready)).toMatchObject({ network: devnet.info.bitcoin.caip2, payTo: show.json.bitcoinPubkeys['1'], asset: 'sat' });
    expect(s.code).toBe(0);
  }, 60_000);

  it('serve warns a merchant without gas (stderr, a JSON line with --json) with its address and the command; a funded one is not warned', async () => {
    // The shop was funded by --fund: no warning.
    const funded = await serveOnce(shop, ['--network', 'devnet', '--price', '1000', '--json']);
    expect(funded.stderr).not.toMatch(/warning/i);

    const poor = await wallet('poor');
    const piped = spawn(process.execPath, [BIN, 'config', 'import', '-', '--json'], { env: poor.env, stdio: ['pipe', 'pipe', 'pipe'] });
    piped.stdin!.end(readFileSync(join(alice.home, 'devnet.json')));
    expect(await new Promise((ok) => piped.once('close', ok))).toBe(0);

    const s = await serveOnce(poor, ['--network', 'devnet', '--price', '1000', '--json']);
    expect(JSON.parse(s.ready).payTo).toBe(poor.address); // serve still starts
    const line = s.stderr.split('\n').find((l) => l.startsWith('{"warning"'));
    expect(line, s.stderr).toBeDefined();
    const { warning } = JSON.parse(line!);
    expect(warning).toMatchObject({ kind: 'payee_gas', address: poor.address, network: 'eip155:31337', balance: '0' });
    expect(BigInt(warning.needed)).toBe(90_000n * BigInt(warning.feePerGas)); // CLOSE_GAS: a close after the issue 13 §4 packing (65,162 measured) with headroom
    expect(BigInt(warning.feePerGas)).toBeGreaterThan(0n);
    expect(warning.fix).toContain(`channels devnet --fund ${poor.home}`);

    const human = await serveOnce(poor, ['--network', 'devnet', '--price', '1000']);
    expect(human.stderr).toContain(`warning: the payee ${poor.address} holds 0 ETH`);
    expect(human.stderr).toContain(`Fund it: channels devnet --fund ${poor.home}`);
  }, 120_000); // six CLI processes: generous on a loaded machine

  it('an unknown network names the commands that add one', async () => {
    const w = await wallet('lost');
    const r = await w.run(['serve', '--network', 'regtest', '--price', '1000sat', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toBe('Unknown network "regtest".');
    const hints = r.json.error.hints.join('\n');
    expect(hints).toContain('channels config set networks.regtest <rpcUrl> <caip2>');
    expect(hints).toContain('channels config import <devnet.json>');
  });

  let importer: TestWallet | undefined;
  const good = { devnet: { kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545' } };
  it.each([
    { name: 'not JSON', text: '{"networks": ', says: /is not JSON/ },
    { name: 'an array', text: '[]', says: /has no "networks" object/ },
    { name: 'no networks', text: '{"rpcUrl":"http://127.0.0.1:8545"}', says: /has no "networks" object/ },
    { name: 'no network in networks', text: '{"networks":{}}', says: /lists no network/ },
    { name: 'a bad name', text: JSON.stringify({ networks: { 'a.b': good.devnet } }), says: /Invalid network name "a\.b"/ },
    { name: 'a bad caip2', text: JSON.stringify({ networks: { x: { ...good.devnet, caip2: 'eip155:abc' } } }), says: /networks\.x\.caip2: Invalid network id "eip155:abc"/ },
    { name: 'an ftp rpcUrl', text: JSON.stringify({ networks: { x: { ...good.devnet, rpcUrl: 'ftp://127.0.0.1' } } }), says: /networks\.x\.rpcUrl: Invalid URL "ftp:\/\/127\.0\.0\.1"/ },
    { name: 'a kind that contradicts caip2', text: JSON.stringify({ networks: { x: { ...good.devnet, kind: 'bitcoin' } } }), says: /networks\.x\.kind/ },
    { name: 'a bad contract', text: JSON.stringify({ networks: { x: { ...good.devnet, contract: '0x12' } } }), says: /networks\.x\.contract: invalid address/ },
    { name: 'a bad asset address', text: JSON.stringify({ networks: { x: { ...good.devnet, assets: { usdc: { symbol: 'USDC', address: '0x12', decimals: 6 } } } } }), says: /networks\.x\.assets\.usdc\.address/ },
    { name: 'an unknown field', text: JSON.stringify({ networks: { x: { ...good.devnet, rpcurl: 'http://a' } } }), says: /networks\.x\.rpcurl: unknown field/ },
    { name: 'an unknown bip122 chain without parameters', text: JSON.stringify({ networks: { x: { caip2: `bip122:${'ab'.repeat(16)}`, rpcUrl: 'http://u:p@127.0.0.1:1' } } }), says: /networks\.x\.bitcoin: missing/ },
    { name: 'bad Bitcoin parameters', text: JSON.stringify({ networks: { x: { caip2: `bip122:${'ab'.repeat(16)}`, rpcUrl: 'http://127.0.0.1:1', bitcoin: { bech32: 'BC', pubKeyHash: 0, scriptHash: 5, wif: 128, coinType: 0 } } } }), says: /networks\.x\.bitcoin: bech32/ },
    { name: 'one good network and one bad', text: JSON.stringify({ networks: { ...good, y: { ...good.devnet, caip2: 'nope' } } }), says: /networks\.y\.caip2/ },
  ])('a malformed import ($name) exits 2 and leaves config.json byte-identical', async ({ text, says }) => {
    importer ??= await wallet('imp'); // one wallet: every refusal must leave its config as it was
    const w = importer;
    const file = join(mkdtempSync(join(tmpdir(), 'channels-import-')), 'devnet.json');
    writeFileSync(file, text);
    const before = readFileSync(join(w.home, 'config.json'));
    const r = await w.run(['config', 'import', file, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json.error.message).toMatch(says);
    expect(readFileSync(join(w.home, 'config.json')).equals(before)).toBe(true);
  });

  it('a missing import file is exit 2 naming it', async () => {
    const w = importer ?? (await wallet('imp'));
    const before = readFileSync(join(w.home, 'config.json'));
    const r = await w.run(['config', 'import', '/nonexistent/devnet.json', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toContain('Cannot read /nonexistent/devnet.json');
    expect(readFileSync(join(w.home, 'config.json')).equals(before)).toBe(true);
  });
});
