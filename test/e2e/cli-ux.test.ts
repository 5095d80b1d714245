/**
 * The CLI's human side (issue 9 §3.3, §3.5, §3.6, §4) through the real binary against a
 * real anvil and a real `channels serve`:
 * - progress lines on stderr when it is not a TTY (CI logs), none with --quiet or --json;
 * - amounts in the chain's unit with its symbol, tables within 80 columns, --wide whole;
 * - `status`, `sync` and `close` take a merchant URL as `pay` does;
 * - a payee's `list` learns from the chain that its channel was settled and collected;
 * - the first key's keystore becomes the wallet's when no keychain is reachable.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { increaseTime, startAnvil } from '../helpers/anvil.js';
import { PASSWORD, cliEnv, dbSnapshot, makeWallet, readConfig, runBin, startChain, startServe, type Chain, type Serve, type TestWallet } from '../helpers/cli.js';

let chain: Chain;
let payer: TestWallet;
let payee: TestWallet;
/** The merchant-URL tests' buyer: no channel to the merchant before its first buy. */
let buyer: TestWallet;
/** The payee of the list tests' channel. */
let merchant: TestWallet;

beforeAll(async () => {
  chain = await startChain();
  [payer, payee, buyer, merchant] = await Promise.all(['alice', 'shop', 'bob', 'kiosk'].map((name) => makeWallet(name, chain.anvil.rpcUrl)));
  await Promise.all([chain.fund(payer.address, '10'), chain.fund(payee.address, '1'), chain.fund(buyer.address, '1')]);
}, 120_000);

afterAll(async () => {
  await chain?.stop();
});

/** Opens a channel from the payer to the payee; returns its id. */
async function open(deposit = '0.01eth', extra: string[] = []): Promise<string> {
  const r = await payer.run(['open', payee.address, deposit, '--json', ...extra]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.channelId;
}

/** Terminal columns of a line ("…" is one column). */
const columns = (line: string) => [...line].length;

describe('progress on stderr (§3.3)', () => {
  it('open prints its wait on stderr although stderr is not a TTY', async () => {
    const r = await payer.run(['open', payee.address, '0.01eth']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Sent 0x[0-9a-f]{64}; waiting for it to be mined…$/m);
    expect(r.stdout).toMatch(/^Opened channel 0x[0-9a-f]{64}$/m);
  });

  it.each(['--quiet', '-q'])('%s: no progress, the result still on stdout', async (flag) => {
    const r = await payer.run(['open', payee.address, '0.01eth', flag]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Opened channel 0x[0-9a-f]{64}$/m);
  });

  it('--json: no progress, and stdout is one JSON document', async () => {
    const r = await payer.run(['open', payee.address, '0.01eth', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/waiting/);
    expect(r.json).toBeDefined(); // JSON.parse of the whole of stdout succeeded
    expect(r.json.channelId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.json.deposit).toBe('10000000000000000'); // --json keeps base units
  });
});

describe('amounts and tables (§3.5)', () => {
  let paid = '';
  let closed = '';

  beforeAll(async () => {
    paid = await open('0.1eth');
    for (const amount of ['3000', '0.00123456789eth']) {
      const r = await payer.run(['pay', paid, amount, '--no-deliver', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    closed = await open('0.02eth');
    for (const args of [['settle', closed], ['collect', closed]]) {
      if (args[0] === 'collect') await increaseTime(chain.anvil.rpcUrl, 86_400 + 60);
      const r = await payer.run([...args, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  }, 120_000);

  it('list: every line within 80 columns, shortened ids, symbols, no "base units"', async () => {
    const r = await payer.run(['list']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(6); // header + at least five channels
    for (const line of lines) expect(columns(line), line).toBeLessThanOrEqual(80);
    expect(r.stdout).not.toContain(paid); // ids are shortened…
    const row = lines.find((l) => l.startsWith(`${paid.slice(0, 8)}…${paid.slice(-4)}`));
    expect(row, r.stdout).toBeDefined();
    expect(row).toMatch(/0\.00123456… ETH/); // spent 0.001234567890003 ETH, cut to 6 digits, never rounded up
    expect(row).toMatch(/0\.0987654… ETH$/); // available 0.098765432109997 ETH
    expect(r.stdout).not.toMatch(/base units/);
  });

  it('list: "available" is "-" for a closed channel', async () => {
    const r = await payer.run(['list']);
    const row = r.stdout.split('\n').find((l) => l.startsWith(`${closed.slice(0, 8)}…`));
    expect(row, r.stdout).toMatch(/\bclosed\b/);
    expect(row).toMatch(/ -$/);
    const json = await payer.run(['list', '--json']);
    expect(json.json.channels.find((c: any) => c.channelId === closed).available).toBe('20000000000000000'); // --json unchanged
  });

  it('list --wide and status --wide show whole ids and exact amounts', async () => {
    for (const cmd of ['list', 'status']) {
      const r = await payer.run([cmd, '--wide']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const row = r.stdout.split('\n').find((l) => l.startsWith(paid));
      expect(row, r.stdout).toBeDefined();
      expect(row).toContain(payee.address);
      expect(row).toContain('0.001234567890003 ETH');
      expect(row).toContain('0.098765432109997 ETH');
      expect(row).toContain('0.1 ETH'); // deposit
    }
  });

  it('status (all channels): every line within 80 columns', async () => {
    const r = await payer.run(['status']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const line of r.stdout.trimEnd().split('\n')) expect(columns(line), line).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/ETH/);
  });

  it('status <id>: the whole id within 80 columns, amounts with symbols', async () => {
    const r = await payer.run(['status', paid.slice(0, 14)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const line of r.stdout.trimEnd().split('\n')) expect(columns(line), line).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(new RegExp(`^channel +${paid}$`, 'm'));
    expect(r.stdout).toMatch(/^deposit +0\.1 ETH$/m);
    expect(r.stdout).toMatch(/^spent +0\.001234567890003 ETH$/m);
    expect(r.stdout).toMatch(/^redeemed +0 ETH$/m);
    const gone = await payer.run(['status', closed]);
    expect(gone.stdout).toMatch(/^available +-$/m);
    expect(gone.stdout).toMatch(/^redeemed +0 ETH$/m);
  });

  it('pay and voucher list speak in ETH and wei', async () => {
    const r = await payer.run(['voucher', 'list', paid]);
    expect(r.stdout).toMatch(/^0 +1 +3,000 wei +no +-$/m);
    expect(r.stdout).toMatch(/^0 +2 +0\.00123456… ETH +no +-$/m);
  });

  it('keys remove refuses a key with an open channel (exit 8, config and key file unchanged); a closed channel does not count', async () => {
    const before = readFileSync(join(payer.home, 'config.json'), 'utf8');
    const listed = (await payer.run(['list', '--offline', '--json'])).json.channels as { state: string }[];
    const live = listed.filter((c) => c.state !== 'closed' && c.state !== 'failed').length;
    expect(listed.some((c) => c.state === 'closed')).toBe(true);
    const r = await payer.run(['keys', 'remove', 'alice', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(8);
    expect(r.json.error.message).toMatch(new RegExp(`party to ${live} channel\\(s\\) not closed \\(e\\.g\\. 0x`));
    expect(r.json.error.hints.join(' ')).toMatch(/--force/);
    expect(readFileSync(join(payer.home, 'config.json'), 'utf8')).toBe(before);
    expect(existsSync(join(payer.home, 'keys', 'alice.json'))).toBe(true);
  });
});

describe('a merchant URL names a channel (§4)', () => {
  let serve: Serve;
  let channelId = '';

  beforeAll(async () => {
    serve = await startServe(payee, ['--price', '1000']);
    const r = await buyer.run(['buy', `${serve.url}/weather`, '--max-price', '5000', '--deposit', '0.01eth', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    channelId = r.json.channelId;
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
  });

  it('status <url> shows the channel buy bound to that merchant (any path of it)', async () => {
    for (const target of [serve.url, `${serve.url}/weather?x=1`]) {
      const r = await buyer.run(['status', target, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json.channelId).toBe(channelId);
      expect(r.json.spent).toBe('1000');
    }
    const human = await buyer.run(['status', serve.url]);
    expect(human.stdout).toMatch(new RegExp(`^channel +${channelId}$`, 'm'));
    expect(human.stdout).toMatch(/^spent +1,000 wei$/m);
  });

  it('an unbound URL exits 2 with what to do, and changes nothing', async () => {
    const before = dbSnapshot(buyer.home);
    for (const cmd of ['status', 'sync', 'close']) {
      const r = await buyer.run([cmd, 'http://127.0.0.1:9/weather', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.json.error.code).toBe('NOT_FOUND');
      expect(r.json.error.message).toBe('No open channel is bound to http://127.0.0.1:9 on network "devnet".');
      expect(r.json.error.hints.join(' ')).toMatch(/channels buy <url>.*channels list/);
    }
    expect(dbSnapshot(buyer.home)).toBe(before);
  });

  it('sync <url> reconciles that channel with its merchant', async () => {
    const r = await buyer.run(['sync', serve.url, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.channelId).toBe(channelId);
    expect(r.json.merchant).toMatchObject({ nonce: '1', amount: '1000', charged: '1000' });
  });

  it('close <url> closes it cooperatively, after which the URL names no open channel', async () => {
    const r = await buyer.run(['close', serve.url]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Closed ${channelId}`);
    expect(r.stdout).toMatch(/paid to payee 1,000 wei, refunded to payer 0\.009999999999999 ETH/);
    const again = await buyer.run(['status', serve.url, '--json']);
    expect(again.code).toBe(2);
    expect((await buyer.run(['status', channelId, '--json'])).json.state).toBe('closed');
  });
});

describe('the payee\'s list learns the chain state without sync (§3.5)', () => {
  let id = '';

  beforeAll(async () => {
    const r = await payer.run(['open', merchant.address, '0.01eth', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    id = r.json.channelId;
    const v = await payer.run(['pay', id, '5000', '--no-deliver', '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const add = await merchant.run(['voucher', 'add', id, v.json.encoded, '--json']); // the payee learns the channel
    expect(add.code, add.stdout + add.stderr).toBe(0);
  }, 120_000);

  it('settling: --offline shows the stored state, list refreshes it', async () => {
    const s = await payer.run(['settle', id, '--json']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    const offline = await merchant.run(['list', '--offline', '--json']);
    // the channel's asset as stored (the zero address: ether) and as a CAIP-19 id (issue 10)
    expect(offline.json.channels[0]).toMatchObject({ channelId: id, state: 'open', asset: '0x' + '0'.repeat(40), assetId: 'eip155:31337/slip44:60' });
    expect(offline.json.refreshed).toBe(false);
    const fresh = await merchant.run(['list', '--json']);
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);
    expect(fresh.json.channels[0]).toMatchObject({ channelId: id, state: 'settling', settleAt: s.json.settleAt });
    expect(fresh.json.refreshed).toBe(true);
  });

  it('collected by the payer: the payee\'s list shows it closed, no sync run', async () => {
    await increaseTime(chain.anvil.rpcUrl, 86_400 + 60);
    const c = await payer.run(['collect', id, '--json']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const before = dbSnapshot(merchant.home);
    expect(before).toContain('"state":"settling"');
    const human = await merchant.run(['list']);
    expect(human.code, human.stdout + human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^${id.slice(0, 8)}…${id.slice(-4)} +in +closed +0x[0-9a-fA-F]{6}…[0-9a-fA-F]{4} +5,000 wei +-$`, 'm'));
    const json = await merchant.run(['list', '--inbound', '--state', 'closed', '--json']);
    expect(json.json.channels.map((x: any) => x.channelId)).toEqual([id]);
  });

  it('a dead node: the stored state, a warning on stderr, exit 0', async () => {
    const other = await open('0.01eth'); // the payer's own open channel, not final
    const before = dbSnapshot(payer.home);
    const r = await payer.run(['list', '--json', '--rpc-url', 'http://127.0.0.1:9']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: channels not refreshed from the chain \(The node at http:\/\/127\.0\.0\.1:9 is unreachable\.\); showing the stored state/m);
    expect(r.json.refreshed).toBe(false);
    expect(r.json.channels.find((x: any) => x.channelId === other).state).toBe('open');
    expect(dbSnapshot(payer.home)).toBe(before);
  });

  it('a node without the contract (same chain id): the stored state, a warning, nothing marked closed', async () => {
    const empty = await startAnvil(); // chain 31337 too, but nothing deployed
    try {
      const before = dbSnapshot(payer.home);
      const r = await payer.run(['list', '--json', '--rpc-url', empty.rpcUrl]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^warning: channels not refreshed from the chain \(No PaymentChannels contract at 0x[0-9a-fA-F]{40}/m);
      expect(r.json.refreshed).toBe(false);
      expect(r.json.channels.filter((x: any) => x.state === 'open').length).toBeGreaterThan(0);
      expect(dbSnapshot(payer.home)).toBe(before);
    } finally {
      await empty.stop();
    }
  });
});

describe('the first key sets the wallet\'s keystore (§3.6)', () => {
  it('with no Secret Service: keys new --keystore file, then keys new without the flag makes a file key', async () => {
    const home = mkdtempSync(join(tmpdir(), 'channels-nokeychain-'));
    const env = cliEnv({ CHANNELS_HOME: home, CHANNELS_PASSWORD: PASSWORD, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-such-bus')}` });
    delete env.CHANNELS_PASSWORD_FILE;
    // control: the keychain is unreachable here (exit 7, nothing stored)
    const keychain = await runBin(['keys', 'new', 'probe', '--keystore', 'keychain', '--json'], env);
    expect(keychain.code, keychain.stdout + keychain.stderr).toBe(7);
    expect(readConfig(home).keys).toEqual({});

    const a = await runBin(['keys', 'new', 'a', '--keystore', 'file'], env);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.stdout).toMatch(/new keys now go to the file keystore by default \(config keystore was keychain/);
    const b = await runBin(['keys', 'new', 'b', '--json'], env);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.json).toMatchObject({ name: 'b', keystore: 'file', file: join(home, 'keys', 'b.json') });
    expect(b.json.keystoreSetting).toBeUndefined(); // only the first key sets it
    const get = await runBin(['config', 'get', 'keystore'], env);
    expect(get.stdout.trim()).toBe('file');
    // a later key in the keychain does not change the setting (and fails here anyway)
    expect((await runBin(['keys', 'new', 'c', '--keystore', 'keychain', '--json'], env)).code).toBe(7);
    expect(readConfig(home).keystore).toBe('file');
  }, 120_000);
});
