/**
 * The Lotus-like manager API through the real binary: fund, voucher create / check /
 * add / list / best / submit, sync, config, deploy, keys import / remove, and the
 * paywall's settlement watcher.
 *
 * Chains and wallets are made once, in parallel, before the tests: the shared chain, a
 * second anvil without the contract (for deploy), the payer and payee, a payer of its own
 * for the watcher test, and a spare wallet for the config, deploy and keys tests (each
 * of which looks only at what it changes). The config validation table runs in process
 * (test/helpers/in-process.ts): it tests parsing, not the binary.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, JsonRpcProvider, Wallet, parseEther } from 'ethers';
import { ANVIL_KEYS, increaseTime, startAnvil, type Anvil } from '../helpers/anvil.js';
import { artifact } from '../helpers/deploy.js';
import { channelRow, makeWallet, readConfig, runBin, startChain, startServe, type Chain, type TestWallet } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { contractAddress } from '../../src/families/evm/deploy.js';

let chain: Chain;
/** An anvil with nothing deployed (chain 31337 as well). */
let fresh: Anvil;
let payer: TestWallet;
let payee: TestWallet;
/** The watcher test's payer: the shared one already has channels to this payee with vouchers on them. */
let earlySettler: TestWallet;
/** The config, deploy and keys tests' wallet. */
let spare: TestWallet;

beforeAll(async () => {
  [chain, fresh] = await Promise.all([startChain(), startAnvil()]);
  [payer, payee, earlySettler, spare] = await Promise.all(
    ['payer', 'payee', 'early-settler', 'spare'].map((name) => makeWallet(name, chain.anvil.rpcUrl)),
  );
  await Promise.all([chain.fund(payer.address, '10'), chain.fund(payee.address, '1'), chain.fund(earlySettler.address, '1')]);
}, 120_000);
afterAll(async () => {
  await Promise.all([chain?.stop(), fresh?.stop()]);
});

async function open(deposit = '0.001eth', extra: string[] = []): Promise<string> {
  const r = await payer.run(['open', payee.address, deposit, '--json', ...extra]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.channelId;
}

describe('funding and status', () => {
  it('fund adds to the confirmed deposit; status shows PaychStatus fields', async () => {
    const id = await open('0.001eth');
    const f = await payer.run(['fund', id, '0.002eth', '--json']);
    expect(f.code, f.stdout + f.stderr).toBe(0);
    expect(f.json.deposit).toBe('3000000000000000');
    const s = await payer.run(['status', id, '--json']);
    expect(s.json).toMatchObject({ confirmed: '3000000000000000', pending: '0', queued: '0', reserved: '0', available: '3000000000000000' });
    const created = await payer.run(['voucher', 'create', id, '5000', '--json']);
    expect(created.code).toBe(0);
    const s2 = await payer.run(['status', id, '--json']);
    // Issue 11 §2: `reserved` is what `channels reserve` set aside (none here); the voucher signed and not
    // acknowledged by any merchant is `unacknowledged` (what `reserved` meant before).
    expect(s2.json).toMatchObject({ reserved: '0', unacknowledged: '5000', pendingTx: null });
    expect(s2.json.available).toBe((3000000000000000n - 5000n).toString());
  });

  it('voucher create beyond the deposit exits 5 with the shortfall and stores nothing', async () => {
    const id = await open('0.000000000000010eth'); // 10 000 wei
    const r = await payer.run(['voucher', 'create', id, '10001', '--json']);
    expect(r.code).toBe(5);
    expect(r.json.error.data.shortfall).toBe('1');
    expect((await payer.run(['voucher', 'list', id, '--json'])).json.vouchers).toEqual([]);
  });
});

describe('vouchers between two wallets', () => {
  it('create → check (both sides) → add with min-delta → best → submit → close', async () => {
    const id = await open('0.001eth');
    const v1 = (await payer.run(['voucher', 'create', id, '1000', '--json'])).json;
    const v2 = (await payer.run(['voucher', 'create', id, '3000', '--json'])).json;
    expect(v2.nonce).toBe('2');

    // Payer side: its own voucher is reported as its own, not "nonce too low".
    const own = await payer.run(['voucher', 'check', id, v2.encoded, '--json']);
    expect(own.json).toMatchObject({ valid: true, own: true, redeemable: '3000' });

    // The payee learns the channel from the chain the first time it adds one of its vouchers.
    const add1 = await payee.run(['voucher', 'add', id, v1.encoded, '--json']);
    expect(add1.code, add1.stdout + add1.stderr).toBe(0);
    expect(add1.json.delta).toBe('1000');
    const tooSmall = await payee.run(['voucher', 'add', id, v2.encoded, '--min-delta', '2001', '--json']);
    expect(tooSmall.code).toBe(2);
    expect(tooSmall.json.error.message).toMatch(/adds 2000, less than --min-delta 2001/);
    const add2 = await payee.run(['voucher', 'add', id.slice(0, 12), v2.encoded, '--min-delta', '2000', '--json']);
    expect(add2.json.delta).toBe('2000');
    const replay = await payee.run(['voucher', 'add', id, v1.encoded, '--json']);
    expect(replay.code).toBe(2);
    expect(replay.json.error.message).toMatch(/not newer than the stored voucher/);
    const stale = await payee.run(['voucher', 'check', id, v1.encoded, '--json']);
    expect(stale.code).toBe(2);
    expect(stale.json.error.data).toMatchObject({ valid: false, own: false });

    const best = await payee.run(['voucher', 'best', id, '--json']);
    expect(best.json.vouchers.map((v: any) => [v.lane, v.nonce, v.amount])).toEqual([['0', '2', '3000']]);
    const listed = await payee.run(['voucher', 'list', id, '--json']);
    expect(listed.json.vouchers).toHaveLength(2);

    const sub = await payee.run(['voucher', 'submit', id, '--json']);
    expect(sub.code, sub.stdout + sub.stderr).toBe(0);
    expect(sub.json.redeemed).toBe('3000');
    expect(sub.json.transactions).toHaveLength(1);
    // Idempotent (issue 9, bug 6): a repeat is a success that says it was redeemed already, with no second transaction.
    const again = await payee.run(['voucher', 'submit', id, '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.json).toMatchObject({ transactions: [], redeemed: '3000', alreadyRedeemed: [{ lane: '0', nonce: '2', transaction: sub.json.transactions[0] }] });
    const sameVoucher = await payee.run(['voucher', 'submit', id, v2.encoded]);
    expect(sameVoucher.code, sameVoucher.stdout + sameVoucher.stderr).toBe(0);
    expect(sameVoucher.stdout).toMatch(/Already redeemed: lane 0 nonce 2/);
    // Redeemed on chain, the payer's own voucher is no longer submittable.
    const spent = await payer.run(['voucher', 'check', id, v2.encoded, '--json']);
    expect(spent.code).toBe(2);
    expect(spent.json.error.data).toMatchObject({ valid: false, own: true });
    expect(spent.json.error.data.reason).toMatch(/not above the lane's on-chain nonce 2/);

    const v3 = (await payer.run(['voucher', 'create', id, '4500', '--json'])).json;
    await payee.run(['voucher', 'add', id, v3.encoded, '--json']);
    const closed = await payee.run(['close', id, '--json']);
    expect(closed.code, closed.stdout + closed.stderr).toBe(0);
    expect(closed.json.paidToPayee).toBe('4500');
    // After the close, submitting again is still a success: the close redeemed it.
    const afterClose = await payee.run(['voucher', 'submit', id, v3.encoded, '--json']);
    expect(afterClose.code, afterClose.stdout + afterClose.stderr).toBe(0);
    expect(afterClose.json.alreadyRedeemed).toEqual([{ lane: '0', nonce: '3', transaction: closed.json.transaction }]);
  });

  it('refuses a voucher for another channel or signed for another chain id', async () => {
    const a = await open();
    const b = await open();
    const va = (await payer.run(['voucher', 'create', a, '100', '--json'])).json;
    const wrongChannel = await payee.run(['voucher', 'check', b, va.encoded, '--json']);
    expect(wrongChannel.code).toBe(2); // b is unknown to the payee and is not the voucher's channel
    await payee.run(['voucher', 'add', a, va.encoded, '--json']);
    const vb = (await payer.run(['voucher', 'create', b, '100', '--json'])).json;
    await payee.run(['voucher', 'add', b, vb.encoded, '--json']);
    const cross = await payee.run(['voucher', 'check', b, va.encoded, '--json']);
    expect(cross.code).toBe(2);
    expect(cross.json.error.data.reason).toMatch(/the voucher is for channel/);
    // The same voucher fields signed for chain 1 instead of 31337.
    const { decodeVoucher, encodeVoucher } = await import('../../dist/index.js');
    const { signVoucher } = await import('../../dist/families/evm/index.js');
    const { HDNodeWallet } = await import('ethers');
    const phrase = (await payer.run(['keys', 'show', '--reveal', '--json'])).json.mnemonic;
    const w = HDNodeWallet.fromPhrase(phrase, undefined, "m/44'/60'/0'/0/0");
    const v = decodeVoucher(va.encoded, 'evm');
    const other = signVoucher({ ...v, nonce: 5n, amount: 200n }, w, 1n, v.channelId.length ? (await payee.run(['status', a, '--json'])).json.contract : '');
    const wrongChain = await payee.run(['voucher', 'check', a, encodeVoucher(other), '--json']);
    expect(wrongChain.code).toBe(2);
    expect(wrongChain.json.error.data.reason).toMatch(/not by the payer .* another chain/);
  });
});

describe('settlement: sync and the paywall watcher', () => {
  it('a payer that settles early still pays in full: the watcher redeems before settleAt', async () => {
    const serve = await startServe(payee, ['--price', '1000', '--watch-interval', '1']);
    const payer = earlySettler;
    try {
      let id = '';
      for (let i = 0; i < 3; i++) {
        const r = await payer.run(['buy', `${serve.url}/joke`, '--max-price', '1000', '--deposit', '0.001eth', '--settle-delay', '120', '--yes', '--json']);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        id = r.json.channelId;
      }
      expect((await payer.run(['settle', id, '--json'])).code).toBe(0);
      // Wait (at most 60 s) for the watcher to redeem the best voucher on chain and record it:
      // the payee's stored row, read from its database (a spawned `status` per poll costs a
      // process start), then what `status` says, and what the contract says.
      let redeemed = '0';
      const deadline = Date.now() + 60_000;
      while (redeemed !== '3000' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        redeemed = channelRow(payee.home, id)?.redeemed ?? '0';
      }
      const onChain = await new Contract(contractAddress(), artifact('PaymentChannels').abi, chain.provider).getChannel(id);
      expect(onChain.redeemed).toBe(3000n);
      const theirs = await payee.run(['status', id, '--json']);
      expect(theirs.json.redeemed, `paywall stderr:\n${serve.stderr()}`).toBe('3000');
      expect(theirs.json.state).toBe('settling');
      await increaseTime(chain.anvil.rpcUrl, 121);
      const done = await payer.run(['collect', id, '--json']);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(done.json.paidToPayee).toBe('3000');
      expect(done.json.refundedToPayer).toBe((10n ** 15n - 3000n).toString());
      // sync on the payee side sees the channel gone from chain.
      const s = await payee.run(['sync', id, '--json']);
      expect(s.code, s.stdout + s.stderr).toBe(0);
      expect(s.json.state).toBe('closed');
    } finally {
      await serve.stop();
    }
  }, 120_000);

  it('sync marks a channel the other side settled', async () => {
    const id = await open();
    const v = (await payer.run(['voucher', 'create', id, '10', '--json'])).json;
    await payee.run(['voucher', 'add', id, v.encoded, '--json']);
    await payee.run(['settle', id, '--json']);
    const s = await payer.run(['sync', id, '--json']);
    expect(s.json.stateBefore).toBe('open');
    expect(s.json.state).toBe('settling');
    expect(s.json.changes.join(' ')).toMatch(/open → settling/);
  });
});

describe('config, deploy and keys', () => {
  it('config set/get/list validate and convert', async () => {
    const w = spare;
    const set = await w.run(['config', 'set', 'buy.maxPrice', '0.0001eth', '--json']);
    expect(set.json.value).toBe('100000000000000');
    expect((await w.run(['config', 'get', 'buy.maxPrice', '--json'])).json.value).toBe('100000000000000');
    expect(readConfig(w.home).buy.maxPrice).toBe('100000000000000');
    const before = JSON.stringify(readConfig(w.home));
    for (const [key, value, msg] of [
      ['buy.maxPrice', '-1', /-1/], ['buy.autoOpen', 'maybe', /maybe/], ['buy.settleDelay', '0', /"0"/],
      ['keystore', 'paper', /paper/], ['networks.devnet.rpcUrl', 'ftp://x', /ftp:\/\/x/], ['nope', '1', /nope/],
      ['networks.devnet.caip2', 'eip155:abc', /eip155:abc/], ['defaultNetwork', 'mars', /mars/],
    ] as [string, string, RegExp][]) {
      const r = await runInProcess(['config', 'set', key, value, '--json'], w.env);
      expect(r.code, `${key}=${value}`).toBe(2);
      expect(r.json.error.message).toMatch(msg);
    }
    expect(JSON.stringify(readConfig(w.home))).toBe(before);
    const net = await w.run(['config', 'set', 'networks.local2', chain.anvil.rpcUrl, 'eip155:31337', '--json']);
    expect(net.code, net.stdout + net.stderr).toBe(0);
    const list = await w.run(['config', 'list', '--json']);
    expect(list.json.settings.find((s: any) => s.key === 'networks.local2.rpcUrl').value).toBe(chain.anvil.rpcUrl);
  });

  it('deploy records the deterministic address (and deploys where missing)', async () => {
    const w = spare;
    const on = { CHANNELS_RPC_URL: fresh.rpcUrl }; // the anvil without the contract
    const p = new JsonRpcProvider(fresh.rpcUrl, 31337, { staticNetwork: true });
    try {
      expect(await p.getCode(contractAddress())).toBe('0x');
      await (await new Wallet(ANVIL_KEYS[0], p).sendTransaction({ to: w.address, value: parseEther('1') })).wait();
    } finally {
      p.destroy();
    }
    const d = await w.run(['deploy', '--network', 'devnet', '--json'], on);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.json.deployed).toBe(true);
    const again = await w.run(['deploy', '--network', 'devnet', '--json'], on);
    expect(again.json).toMatchObject({ deployed: false, contract: d.json.contract });
    expect(readConfig(w.home).networks.devnet.contract).toBe(d.json.contract);
  });

  it('keys import from a file gives the known address; remove needs --yes', async () => {
    const w = spare;
    const file = join(w.home, 'phrase.txt');
    writeFileSync(file, 'test test test test test test test test test test test junk\n');
    const r = await w.run(['keys', 'import', 'dev', '--mnemonic-file', file, '--keystore', 'file', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect((await w.run(['keys', 'remove', 'dev', '--json'])).code).toBe(2);
    const rm = await w.run(['keys', 'remove', 'dev', '--yes', '--json']);
    expect(rm.json.removed).toBe(true);
    expect(Object.keys(readConfig(w.home).keys)).toEqual(['spare']);
    const bad = await runBin(['keys', 'import', 'x', '--mnemonic-file', file + '.missing', '--json'], w.env);
    expect(bad.code).toBe(2);
  });
});
