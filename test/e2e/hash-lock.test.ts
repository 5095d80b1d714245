/**
 * Hash-locked vouchers through the real binary (issue 11 §3; Lotus CheckValid /
 * CheckSpendable / VoucherSubmit with a secret): `voucher check` reports a valid locked
 * voucher as "spendable only with the secret", `--secret` checks the preimage, `voucher
 * submit` refuses it without the right secret before spending gas and redeems it with it.
 * The locked voucher is signed with the payer's own key (revealed from its wallet), as a
 * hub would have it signed (DESIGN §11).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, HDNodeWallet } from 'ethers';
import { artifact } from '../helpers/deploy.js';
import { makeWallet, startChain, type Chain, type TestWallet } from '../helpers/cli.js';
import { contractAddress } from '../../src/families/evm/deploy.js';
import { signVoucher } from '../../src/families/evm/voucher.js';
import { encodeVoucher } from '../../src/core/channel/voucher.js';
import { drawSecret } from '../../src/core/channel/secret.js';

let chain: Chain;
let payer: TestWallet;
let payee: TestWallet;

beforeAll(async () => {
  chain = await startChain();
  [payer, payee] = await Promise.all([makeWallet('payer', chain.anvil.rpcUrl), makeWallet('payee', chain.anvil.rpcUrl)]);
  await Promise.all([chain.fund(payer.address, '1'), chain.fund(payee.address, '1')]);
}, 120_000);
afterAll(async () => {
  await chain?.stop();
});

describe('hash-locked vouchers', () => {
  it('check says "spendable only with the secret"; only the right secret checks and redeems', async () => {
    const opened = await payer.run(['open', payee.address, '100000', '--json']);
    expect(opened.code, opened.stderr).toBe(0);
    const id: string = opened.json.channelId;
    const shown = await payer.run(['keys', 'show', '--reveal', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const signer = HDNodeWallet.fromPhrase(shown.json.mnemonic, undefined, "m/44'/60'/0'/0/0");
    expect(signer.address).toBe(payer.address);

    const secret = randomBytes(32);
    const secretHash = '0x' + createHash('sha256').update(secret).digest('hex');
    const token = encodeVoucher(signVoucher(
      { channelId: id, lane: 0n, nonce: 1n, amount: 4000n, secretHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] },
      signer, BigInt(chain.anvil.chainId), contractAddress(),
    ));
    const right = '0x' + secret.toString('hex');
    const wrong = '0x' + randomBytes(32).toString('hex');

    const plain = await payee.run(['voucher', 'check', id, token, '--json']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.json).toMatchObject({ valid: true, spendable: false, reason: 'spendable only with the secret', redeemable: '4000' });
    const text = await payee.run(['voucher', 'check', id, token]);
    expect(text.stdout).toContain('spendable only with the secret');

    const bad = await payee.run(['voucher', 'check', id, token, '--secret', wrong, '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toContain('hash lock');
    const good = await payee.run(['voucher', 'check', id, token, '--secret', right, '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.json).toMatchObject({ valid: true, spendable: true });

    const notHex = await payee.run(['voucher', 'check', id, token, '--secret', 'xyz', '--json']);
    expect(notHex.code).toBe(2);

    const contract = new Contract(contractAddress(), artifact('PaymentChannels').abi, chain.provider);
    for (const args of [[], ['--secret', wrong]]) {
      const r = await payee.run(['voucher', 'submit', id, token, ...args, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect((await contract.getChannel(id)).redeemed).toBe(0n);
      // Not even the channel is learned: the payee's database holds nothing of it.
      expect((await payee.run(['voucher', 'list', id, '--json'])).json.error.code).toBe('NOT_FOUND');
    }
    const added = await payee.run(['voucher', 'add', id, token, '--json']);
    expect(added.code).toBe(2);
    expect(added.json.error.message).toContain('hash-locked');

    const sent = await payee.run(['voucher', 'submit', id, token, '--secret', right, '--json']);
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(sent.json.transactions).toHaveLength(1);
    expect((await contract.getChannel(id)).redeemed).toBe(4000n);
    expect(await contract.getLane(id, 0n)).toEqual([1n, 4000n]);
    // Stored once redeemed, marked with its transaction: a plain submit finds nothing left to send.
    const again = await payee.run(['voucher', 'submit', id, '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.json.transactions).toEqual([]);
  });

  it('voucher add --secret stores a locked voucher with its preimage; a plain submit redeems it with the stored secret', async () => {
    const opened = await payer.run(['open', payee.address, '100000', '--json']);
    expect(opened.code, opened.stderr).toBe(0);
    const id: string = opened.json.channelId;
    const shown = await payer.run(['keys', 'show', '--reveal', '--json']);
    const signer = HDNodeWallet.fromPhrase(shown.json.mnemonic, undefined, "m/44'/60'/0'/0/0");
    const secret = randomBytes(32);
    const secretHash = '0x' + createHash('sha256').update(secret).digest('hex');
    const token = encodeVoucher(signVoucher(
      { channelId: id, lane: 3n, nonce: 1n, amount: 2500n, secretHash, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] },
      signer, BigInt(chain.anvil.chainId), contractAddress(),
    ));
    const wrong = await payee.run(['voucher', 'add', id, token, '--secret', '0x' + randomBytes(32).toString('hex'), '--json']);
    expect(wrong.code).toBe(2);
    expect((await payee.run(['voucher', 'list', id, '--json'])).json.error.code).toBe('NOT_FOUND');

    const added = await payee.run(['voucher', 'add', id, token, '--secret', '0x' + secret.toString('hex'), '--json']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(added.json.delta).toBe('2500');
    expect((await payee.run(['status', id, '--json'])).json.spent).toBe('2500');

    const contract = new Contract(contractAddress(), artifact('PaymentChannels').abi, chain.provider);
    const sent = await payee.run(['voucher', 'submit', id, '--json']);
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(sent.json.transactions).toHaveLength(1);
    expect((await contract.getChannel(id)).redeemed).toBe(2500n);
    expect(await contract.getLane(id, 3n)).toEqual([1n, 2500n]);
  });

  it('voucher create --hash-lock: a conditional voucher on a fresh lane, shown as conditional on both sides until redeemed with the secret', async () => {
    const opened = await payer.run(['open', payee.address, '100000', '--json']);
    expect(opened.code, opened.stderr).toBe(0);
    const id: string = opened.json.channelId;
    const plain = await payer.run(['voucher', 'create', id, '1000', '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const { secret, secretHash } = drawSecret();
    const before = Math.floor(Date.now() / 1000);
    const made = await payer.run(['voucher', 'create', id, '3000', '--hash-lock', secretHash, '--lock-for', '600', '--json']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    expect(made.json.secretHash).toBe(secretHash);
    expect(BigInt(made.json.lane)).toBeGreaterThan(0n); // a fresh lane, not lane 0
    expect(Number(made.json.timeLockMax)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(made.json.timeLockMax)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
    expect((await payer.run(['status', id, '--json'])).json).toMatchObject({ spent: '4000', conditional: '3000' });
    // A lane carries one conditional voucher at a time (issue 12): the lane holding this one takes no other.
    const used = await payer.run(['voucher', 'create', id, '5000', '--lane', made.json.lane, '--hash-lock', secretHash, '--json']);
    expect(used.code).toBe(2);
    expect(used.json.error.message).toContain('holds a hash-locked voucher not yet replaced or expired');

    const added = await payee.run(['voucher', 'add', id, made.json.encoded, '--secret', secret, '--json']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect((await payee.run(['status', id, '--json'])).json).toMatchObject({ spent: '3000', conditional: '3000' });
    const sent = await payee.run(['voucher', 'submit', id, '--json']);
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect((await payee.run(['status', id, '--json'])).json).toMatchObject({ redeemed: '3000', conditional: '0' });
  });

  it('simplification (DESIGN §11): once the secret is known, a merge voucher folds the conditional lane into lane 0; nothing on chain needs the secret', async () => {
    const opened = await payer.run(['open', payee.address, '100000', '--json']);
    const id: string = opened.json.channelId;
    const first = await payer.run(['voucher', 'create', id, '1000', '--json']);
    expect((await payee.run(['voucher', 'add', id, first.json.encoded, '--json'])).code).toBe(0);
    const { secret, secretHash } = drawSecret();
    const locked = await payer.run(['voucher', 'create', id, '3000', '--hash-lock', secretHash, '--json']);
    expect(locked.code, locked.stderr).toBe(0);
    const lane: string = locked.json.lane;
    expect((await payee.run(['voucher', 'add', id, locked.json.encoded, '--secret', secret, '--json'])).code).toBe(0);

    // The payer learned the secret (the payee revealed it): it signs one unconditional voucher merging the lane.
    const merged = await payer.run(['voucher', 'merge', id, '--lanes', lane, '--into', '0', '--json']);
    expect(merged.code, merged.stdout + merged.stderr).toBe(0);
    expect(merged.json).toMatchObject({ lane: '0', amount: '4000', secretHash: '0x' + '0'.repeat(64) });
    expect((await payer.run(['status', id, '--json'])).json).toMatchObject({ spent: '4000', conditional: '0' });
    const added = await payee.run(['voucher', 'add', id, merged.json.encoded, '--json']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(added.json.delta).toBe('0'); // the same value, now unconditional
    expect((await payee.run(['status', id, '--json'])).json).toMatchObject({ spent: '4000', conditional: '0' });

    const contract = new Contract(contractAddress(), artifact('PaymentChannels').abi, chain.provider);
    const sent = await payee.run(['voucher', 'submit', id, '--json']);
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(sent.json.transactions).toHaveLength(1);
    expect((await contract.getChannel(id)).redeemed).toBe(4000n);
    // The conditional lane was never redeemed with its secret: the merge raised its nonce instead.
    expect(await contract.getLane(id, BigInt(lane))).toEqual([2n, 0n]);
  });
});
