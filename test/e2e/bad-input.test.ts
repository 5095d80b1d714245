/**
 * Bad input on every entry point (DESIGN §9 exit 2): each case is one run with `--json`;
 * it must exit 2 with an error message that names the bad value, and leave the wallet's
 * database and config.json unchanged. Table-driven: amounts × (open, pay, buy --max-price,
 * buy --deposit, serve --price); unknown and ambiguous channel ids × (status, pay, close,
 * settle, collect); bad payee address and bad --url on open; and at the end the voucher
 * and config commands.
 *
 * The rows test parsing and validation, so they run the commands in process (the same
 * command classes and error mapping, test/helpers/in-process.ts); a row or two of each table,
 * marked "(binary)", and the positive controls spawn the real binary, so its exit codes
 * (2 and 0) stay tested end to end.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDNodeWallet, ethers } from 'ethers';
import { encodeVoucher } from '../../dist/index.js';
import { signVoucher } from '../../dist/families/evm/index.js';
import { BIN, makeWallet, readConfig, startChain, walletState, type Chain, type RunResult, type TestWallet } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

const TWO_256 = (1n << 256n).toString();

let chain: Chain;
let payer: TestWallet;
let payee: TestWallet;
/** Two of the payer's channels (to `payee`) whose ids share their first hex digits. */
let idA = '';
let idB = '';
/** The longest common prefix of idA and idB (at least "0x" + one digit): ambiguous. */
let ambiguous = '';
/** A well-formed id that matches no channel. */
const unknownId = ethers.id('no such channel');

/** How a row runs: in process (parsing and validation) or through the real binary. */
type Via = 'in-process' | 'binary';

/** Runs the binary with a deadline (a `serve` that accepted a bad price must not hang the file). */
function spawned(w: TestWallet, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: w.env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** Runs `channels <args>` in `w`, in process or through the binary (both with a 60 s deadline). */
function run(w: TestWallet, args: string[], via: Via = 'in-process'): Promise<RunResult> {
  return via === 'binary' ? spawned(w, args) : runInProcess(args, w.env);
}

/** Runs `args --json` and checks exit 2, the value named in the message, nothing stored. */
async function expectRefused(w: TestWallet, args: string[], named: string | RegExp, via: Via = 'in-process') {
  const before = walletState(w.home);
  const r = await run(w, [...args, '--json'], via);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.json?.status, r.stdout + r.stderr).toBe(2);
  const message: string = r.json.error.message;
  if (typeof named === 'string') expect(message).toContain(named);
  else expect(message).toMatch(named);
  expect(walletState(w.home)).toBe(before);
  return r;
}

beforeAll(async () => {
  chain = await startChain();
  [payer, payee] = await Promise.all([makeWallet('alice', chain.anvil.rpcUrl), makeWallet('shop', chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(payer.address, '10'), chain.fund(payee.address, '1')]);
  // Open channels until two ids share their first hex digit after 0x (pigeonhole: ≤ 17 tries).
  const seen = new Map<string, string>();
  for (let i = 0; i < 20 && !ambiguous; i++) {
    const r = await run(payer, ['open', payee.address, '0.01eth', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const id: string = r.json.channelId;
    const other = seen.get(id[2]);
    if (other) {
      idA = other;
      idB = id;
      let n = 3;
      while (idA[n] === idB[n]) n++;
      ambiguous = idA.slice(0, n);
    }
    seen.set(id[2], id);
  }
  expect(ambiguous).toMatch(/^0x[0-9a-f]+$/);
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

// ── amounts ────────────────────────────────────────────────────────────────

const AMOUNTS: { name: string; value: string }[] = [
  { name: '2^256', value: TWO_256 },
  { name: 'negative', value: '-5' },
  { name: 'exponent', value: '1e21' },
  { name: 'hex', value: '0x10' },
  { name: 'empty', value: '' },
  { name: 'too many decimals', value: '0.0000000000000000001eth' },
  { name: 'unknown unit', value: '5foo' },
];

/** Entry points taking an amount; `flag` names it for the empty-value case. */
const AMOUNT_ENTRIES: { name: string; wallet: () => TestWallet; args: (v: string) => string[]; flag: RegExp }[] = [
  { name: 'open <payee> <amount>', wallet: () => payer, args: (v) => ['open', payee.address, v], flag: /deposit|amount/ },
  { name: 'pay <id> <amount>', wallet: () => payer, args: (v) => ['pay', idA, v], flag: /amount/ },
  { name: 'buy --max-price', wallet: () => payer, args: (v) => ['buy', 'http://127.0.0.1:9/weather', `--max-price=${v}`, '--deposit', '0.1eth', '--yes'], flag: /--max-price/ },
  { name: 'buy --deposit', wallet: () => payer, args: (v) => ['buy', 'http://127.0.0.1:9/weather', '--max-price', '5000', `--deposit=${v}`, '--yes'], flag: /--deposit/ },
  { name: 'serve --price', wallet: () => payee, args: (v) => ['serve', '--port', '0', `--price=${v}`], flag: /--price/ },
];

/** The rows that spawn the binary: a negative amount on pay (a command that unlocks the key) and on serve (a long-running one). */
const AMOUNT_VIA_BINARY = new Set(['pay <id> <amount>/negative', 'serve --price/negative']);
const AMOUNT_TABLE = AMOUNT_ENTRIES.flatMap((e) => AMOUNTS.map((a) => {
  const via: Via = AMOUNT_VIA_BINARY.has(`${e.name}/${a.name}`) ? 'binary' : 'in-process';
  return { ...e, amount: a, via, title: `${e.name}: ${a.name} "${a.value.length > 20 ? a.value.slice(0, 20) + '…' : a.value}"${via === 'binary' ? ' (binary)' : ''}` };
}));

describe('bad amounts → exit 2 naming the value, nothing stored', () => {
  it.each(AMOUNT_TABLE)('$title', async (c) => {
    // the empty string is "named" by quoting it, or by naming the flag that lacks a value
    const named = c.amount.value === '' ? new RegExp(`""|${c.flag.source}`) : c.amount.value;
    await expectRefused(c.wallet(), c.args(c.amount.value), named, c.via);
  }, 60_000);

  // BUG: src/commands/serve.ts:33-35 contacts the node (verifyContract) and unlocks the key before
  // parsing --price (and --min-deposit, line 38), so `serve --price=-5` with a dead node exits 6, not 2,
  // and a good node costs an RPC round trip and a scrypt unlock to learn the flag is bad.
  // Fix: parse --price/--min-deposit first in run(), before touching this.manager.
  it('serve --price: a bad price is refused before the chain is contacted (dead RPC still gives exit 2) (binary)', async () => {
    await expectRefused(payee, ['serve', '--port', '0', '--price=-5', '--rpc-url', 'http://127.0.0.1:9'], '-5', 'binary');
  }, 60_000);
});

// ── channel ids ────────────────────────────────────────────────────────────

const ID_ENTRIES: { name: string; args: (id: string) => string[] }[] = [
  { name: 'status', args: (id) => ['status', id] },
  { name: 'pay', args: (id) => ['pay', id, '1000', '--no-deliver'] },
  { name: 'close', args: (id) => ['close', id] },
  { name: 'settle', args: (id) => ['settle', id] },
  { name: 'collect', args: (id) => ['collect', id] },
];
const IDS: { name: string; id: () => string; message: (id: string) => RegExp }[] = [
  { name: 'unknown id', id: () => unknownId, message: (id) => new RegExp(`No channel matches "${id}"`) },
  { name: 'unknown short prefix', id: () => unknownId.slice(0, 12), message: (id) => new RegExp(`No channel matches "${id}"`) },
  { name: 'ambiguous prefix', id: () => ambiguous, message: (id) => new RegExp(`"${id}" is ambiguous`) },
  { name: 'not hex', id: () => '0xnothex', message: (id) => new RegExp(`"${id}"`) },
];
const ID_TABLE = ID_ENTRIES.flatMap((e) => IDS.map((i) => {
  const via: Via = e.name === 'status' && i.name === 'unknown id' ? 'binary' : 'in-process';
  return { ...e, idCase: i, via, title: `${e.name}: ${i.name}${via === 'binary' ? ' (binary)' : ''}` };
}));

describe('bad channel ids → exit 2 naming the id, nothing stored', () => {
  it('setup: the ambiguous prefix matches two channels, each id alone is fine', async () => {
    expect(idA.startsWith(ambiguous) && idB.startsWith(ambiguous)).toBe(true);
    for (const id of [idA, idB]) {
      const r = await run(payer, ['status', id.slice(0, ambiguous.length + 1), '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json.channelId).toBe(id);
    }
  });

  it.each(ID_TABLE)('$title', async (c) => {
    const id = c.idCase.id();
    await expectRefused(payer, c.args(id), c.idCase.message(id), c.via);
  }, 60_000);
});

// ── open: payee and --url ──────────────────────────────────────────────────

const OPEN_CASES: { name: string; args: () => string[]; named: () => string; via?: Via }[] = [
  { name: 'payee not an address (binary)', args: () => ['open', 'not-an-address', '0.01eth'], named: () => 'not-an-address', via: 'binary' },
  { name: 'payee too short', args: () => ['open', '0x1234', '0.01eth'], named: () => '0x1234' },
  {
    name: 'payee with a bad checksum',
    args: () => ['open', badChecksum(payee.address), '0.01eth'],
    named: () => badChecksum(payee.address),
  },
  { name: '--url not a URL', args: () => ['open', payee.address, '0.01eth', '--url', 'not a url'], named: () => 'not a url' },
  // BUG: src/commands/open.ts:30-35 only checks `new URL(flags.url)`, so ftp:// (or file:, mailto:) is
  // accepted, the deposit goes on chain and the channel is bound to an endpoint `pay`/`close` can never
  // reach. Fix: also require protocol http: or https: (as buy does in src/core/http402/client.ts).
  { name: '--url with a non-HTTP scheme', args: () => ['open', payee.address, '0.01eth', '--url', 'ftp://127.0.0.1/channels'], named: () => 'ftp://127.0.0.1/channels' },
];

/** The address with the case of its first letter flipped (an EIP-55 checksum error). */
function badChecksum(a: string): string {
  const i = [...a].findIndex((ch, k) => k > 1 && /[a-fA-F]/.test(ch));
  const ch = a[i];
  return a.slice(0, i) + (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) + a.slice(i + 1);
}

describe('open: bad payee or --url → exit 2, nothing stored, no channel opened', () => {
  it.each(OPEN_CASES)('$name', async (c) => {
    const balance = await chain.balance(payer.address);
    await expectRefused(payer, c.args(), c.named(), c.via);
    expect(await chain.balance(payer.address)).toBe(balance); // no transaction either
  }, 60_000);
});

// ── voucher and config commands ───────────────────────────────────────────

describe('voucher check/add and config set: bad input', () => {
  /** Encoded vouchers made by the payer with `pay --no-deliver`. */
  let good = '';
  let second = '';
  let ofOtherChannel = '';
  let otherChain = '';
  let farFuture = '';

  beforeAll(async () => {
    const pay = async (id: string) => {
      const r = await run(payer, ['pay', id, '1000', '--no-deliver', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      return r.json;
    };
    good = (await pay(idA)).encoded;
    const next = await pay(idA);
    second = next.encoded;
    ofOtherChannel = (await pay(idB)).encoded;
    // The payer's own key, signing the next voucher of channel A for chain 1337 instead of 31337.
    const shown = await run(payer, ['keys', 'show', '--reveal', '--json']);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    const key = HDNodeWallet.fromPhrase(shown.json.mnemonic, undefined, "m/44'/60'/0'/0/0");
    expect(key.address).toBe(payer.address);
    const status = await run(payer, ['status', idA, '--json']);
    otherChain = encodeVoucher(
      signVoucher(
        { channelId: idA, lane: 0n, nonce: BigInt(next.nonce) + 1n, amount: BigInt(next.amount) + 1000n, secretHash: ethers.ZeroHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] },
        key, 1337n, status.json.contract,
      ),
    );
    // The next voucher with a minSettleAt the contract takes (uint64) and the store cannot (SQLite INTEGER < 2^63).
    farFuture = encodeVoucher(
      signVoucher(
        { channelId: idA, lane: 0n, nonce: BigInt(next.nonce) + 1n, amount: BigInt(next.amount) + 1000n, secretHash: ethers.ZeroHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: (1n << 64n) - 1n, merges: [] },
        key, BigInt(chain.anvil.chainId), status.json.contract,
      ),
    );
  }, 60_000);

  it('positive control: the payee checks and adds a good voucher of channel A (learning the channel)', async () => {
    const check = await payee.run(['voucher', 'check', idA, good, '--json']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.json.valid).toBe(true);
    const add = await payee.run(['voucher', 'add', idA, good, '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(add.json.delta).toBe('1000');
  });

  const VOUCHER_CASES: { name: string; voucher: () => string; named: () => string | RegExp }[] = [
    { name: 'truncated voucher', voucher: () => second.slice(0, Math.floor(second.length / 2)), named: () => /Malformed voucher/ },
    { name: 'voucher of another channel', voucher: () => ofOtherChannel, named: () => idB.slice(0, 10) },
    { name: 'voucher signed for another chain id', voucher: () => otherChain, named: () => /signed by 0x[0-9a-fA-F]{40}, not by the payer/ },
  ];
  const VOUCHER_TABLE = (['check', 'add'] as const).flatMap((cmd) => VOUCHER_CASES.map((c) => {
    const via: Via = cmd === 'add' && c.name === 'truncated voucher' ? 'binary' : 'in-process';
    return { ...c, cmd, via, title: `voucher ${cmd}: ${c.name}${via === 'binary' ? ' (binary)' : ''}` };
  }));

  // BUG (contract, 2 of these 6 cases fail): `voucher check` (src/commands/voucher/check.ts:10) documents "exits 0 either way (the answer is the output)" and
  // answers {valid:false} for a voucher of another channel or chain; Lotus' `paych voucher check`
  // (DESIGN §1, "what lotus paych users would expect") and this suite's spec exit non-zero (2).
  it.each(VOUCHER_TABLE)('$title → exit 2', async (c) => {
    await expectRefused(payee, ['voucher', c.cmd, idA, c.voucher()], c.named(), c.via);
  }, 60_000);

  it('voucher add and submit of a voucher whose minSettleAt is past 2^63 − 1 → exit 2 naming it, nothing stored, no gas', async () => {
    const balance = await chain.balance(payee.address);
    for (const cmd of ['add', 'submit']) await expectRefused(payee, ['voucher', cmd, idA, farFuture], /minSettleAt 18446744073709551615 is beyond/);
    expect(await chain.balance(payee.address)).toBe(balance);
  }, 60_000);

  const CONFIG_CASES: { name: string; args: string[]; named: string | RegExp; via?: Via }[] = [
    { name: 'bad network URL (not a URL)', args: ['networks.devnet.rpcUrl', 'not a url'], named: 'not a url' },
    { name: 'bad network URL (ftp)', args: ['networks.devnet.rpcUrl', 'ftp://127.0.0.1:8545'], named: 'ftp://127.0.0.1:8545' },
    { name: 'new network with a bad URL', args: ['networks.other', 'localhost:8545', 'eip155:5'], named: 'localhost:8545' },
    { name: 'bad amount (exponent)', args: ['buy.deposit', '1e21'], named: '1e21' },
    { name: 'bad amount (hex)', args: ['buy.maxPrice', '0x10'], named: '0x10' },
    { name: 'bad amount (2^256)', args: ['buy.maxPrice', TWO_256], named: TWO_256 },
    { name: 'unknown key (binary)', args: ['no.such.key', '1'], named: 'no.such.key', via: 'binary' },
    // Bug 7 of issue 9: config values follow the unit rules of the flags they stand for.
    { name: 'buy.deposit in a Bitcoin unit', args: ['buy.deposit', '100sat'], named: /"100sat": sat is not a unit of this EVM network/ },
    { name: 'buy.maxPrice in a Bitcoin unit', args: ['buy.maxPrice', '1sat'], named: /"1sat": sat is not a unit of this EVM network/ },
    { name: 'buy.deposit in btc', args: ['buy.deposit', '0.5btc'], named: /"0\.5btc": btc is not a unit of this EVM network/ },
    { name: 'buy.bitcoinDeposit in an EVM unit', args: ['buy.bitcoinDeposit', '0.01eth'], named: /"0\.01eth": eth is not a unit of this Bitcoin-family network/ },
    { name: 'buy.bitcoinMaxPrice in an EVM unit', args: ['buy.bitcoinMaxPrice', '5gwei'], named: /"5gwei": gwei is not a unit of this Bitcoin-family network/ },
  ];

  it.each(CONFIG_CASES)('config set: $name → exit 2', async (c) => {
    await expectRefused(payer, ['config', 'set', ...c.args], c.named, c.via);
  });

  it.each([
    { key: 'buy.maxPrice', flag: '--max-price', value: '1sat', other: ['--deposit', '0.1eth'] },
    { key: 'buy.deposit', flag: '--deposit', value: '100sat', other: ['--max-price', '5000'] },
  ])('config set $key $value is refused in the words of buy $flag $value', async (c) => {
    const viaFlag = await run(payer, ['buy', 'http://127.0.0.1:9/weather', ...c.other, c.flag, c.value, '--json']);
    expect(viaFlag.code, viaFlag.stdout + viaFlag.stderr).toBe(2);
    const viaConfig = await expectRefused(payer, ['config', 'set', c.key, c.value], c.value);
    expect(viaConfig.json.error.message).toBe(viaFlag.json.error.message.replace(c.flag, c.key));
    expect(viaConfig.json.error.hints).toEqual(viaFlag.json.error.hints);
  });

  it('positive control: config set buy.deposit 0.2eth is stored in base units', async () => {
    const r = await payer.run(['config', 'set', 'buy.deposit', '0.2eth', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readConfig(payer.home).buy.deposit).toBe('200000000000000000');
  });
});
