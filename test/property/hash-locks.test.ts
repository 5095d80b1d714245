/**
 * Hash-locked vouchers on the payee's side (issue 11 hash locks; DESIGN §11), differentially:
 * whatever `voucher add --secret` (addVoucher) accepts, the real contract redeems — each
 * accepted voucher alone by `eth_call` of `update` with its stored secret at the moment it is
 * accepted, and at the end all of them together in one real `updateMany`, whose redeemed total
 * is what the payee's store says it can redeem. And it never accepts a voucher whose secret
 * is wrong: the contract would refuse it (`WrongSecret`).
 *
 * Generated per case (one channel each, on a real anvil, real SQLite stores): a few locked
 * vouchers on fresh or used lanes, with the right secret, a wrong one or one of another
 * length, amounts up to and beyond the deposit, time locks past, near or far, and unlocked
 * vouchers given a secret.
 *
 * Cases: FUZZ_RUNS (default 25; `npm run fuzz` runs more), FUZZ_SEED replays one.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Contract } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZERO_HASH, type EvmVoucher } from '../../src/core/channel/voucher.js';
import { ChannelManager } from '../../src/families/evm/manager.js';
import { addVoucher } from '../../src/families/evm/operations.js';
import { learnChannel } from '../../src/families/evm/inbound.js';
import { signVoucher, voucherMessage } from '../../src/families/evm/voucher.js';
import { ChannelsError } from '../../src/core/errors.js';
import { artifact } from '../helpers/deploy.js';
import { startChain, type Chain } from '../helpers/cli.js';
import { managersOn } from '../helpers/managers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const DEPOSIT = 1_000_000n;

let chain: Chain;
let payer: ChannelManager;
let payee: ChannelManager;

let pool: ReturnType<typeof managersOn>;
const manager = (name: string) => pool.manager(name, '10');

beforeAll(async () => {
  chain = await startChain();
  pool = managersOn(chain, 'locks');
  payer = await manager('payer');
  payee = await manager('shop');
}, 60_000);

afterAll(async () => {
  pool?.close();
  await chain?.stop();
});

const sha = (hex: string) => '0x' + createHash('sha256').update(Buffer.from(hex.slice(2), 'hex')).digest('hex');

/** One voucher offered to `voucher add`: its lane, amount, lock and the secret given with it. */
const offer = fc.record({
  lane: fc.integer({ min: 0, max: 3 }),
  amount: fc.oneof(fc.bigInt({ min: 1n, max: DEPOSIT / 4n }), fc.constantFrom(DEPOSIT, DEPOSIT + 1n)),
  locked: fc.boolean(),
  secret: fc.constantFrom('right', 'wrong', 'short', 'none'),
  expiresIn: fc.constantFrom(-100, 30, 3600),
});

describe('hash-locked vouchers: what voucher add --secret takes, the contract redeems', () => {
  it('every accepted voucher redeems with its stored secret (eth_call, then one updateMany of all); a wrong secret is never taken', async () => {
    const pc = new Contract(payee.backend.contract, artifact('PaymentChannels').abi, chain.provider);
    /** Locked vouchers taken over all cases: the property is not vacuous. */
    let lockedTaken = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(offer, { minLength: 1, maxLength: 5 }), async (offers) => {
        const c = await payer.open({ payee: payee.address, deposit: DEPOSIT, settleDelay: 3600 });
        const learned = await learnChannel(payee, c.id, { minSettleDelay: 60 });
        const nonces = new Map<number, bigint>();
        const now = await payee.backend.now();
        let accepted = 0;
        for (const o of offers) {
          const secret = '0x' + randomBytes(32).toString('hex');
          const nonce = (nonces.get(o.lane) ?? 0n) + 1n;
          const v: EvmVoucher = signVoucher(
            {
              channelId: c.id, lane: BigInt(o.lane), nonce, amount: o.amount, secretHash: o.locked ? sha(secret) : ZERO_HASH,
              timeLockMin: 0n, timeLockMax: o.locked ? BigInt(now + o.expiresIn) : 0n, minSettleAt: 0n, merges: [],
            },
            await payer.signer(), payee.backend.chainId, payee.backend.contract,
          );
          const given = o.secret === 'right' ? secret : o.secret === 'wrong' ? '0x' + randomBytes(32).toString('hex') : o.secret === 'short' ? secret.slice(0, 34) : undefined;
          const ch = payee.store.channels.get(c.network, c.id) ?? learned;
          let ok = true;
          try {
            await addVoucher(payee, ch, v, 0n, given);
          } catch (err) {
            expect(err).toBeInstanceOf(ChannelsError);
            ok = false;
          }
          if (!ok) continue;
          accepted++;
          nonces.set(o.lane, nonce);
          // Taken: a locked voucher only with the secret that opens it, and the contract redeems it alone now.
          if (o.locked) expect(given).toBe(secret);
          if (o.locked) lockedTaken++;
          const stored = payee.store.vouchers.latest(c.network, c.id, BigInt(o.lane))!;
          expect(stored.secret).toBe(o.locked ? secret : undefined);
          await pc.update.staticCall(voucherMessage(v), v.signature, stored.secret ?? '0x', { from: payee.address });
        }
        // All of them together, for real: the chain's total is what the store says the payee can redeem.
        const held = payee.store.vouchers.effectivePerLane(c.network, c.id);
        if (accepted > 0) {
          const tx = await payee.backend.updateMany(await payee.signer(), held.map((x) => x as EvmVoucher), held.map((x) => x.secret));
          expect(tx.hash).toMatch(/^0x/);
          expect((await pc.getChannel(c.id)).redeemed).toBe(held.reduce((s, x) => s + x.amount, 0n));
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: process.env.FUZZ_NO_SHRINK === '1' },
    );
    expect(lockedTaken).toBeGreaterThan(0);
  }, 600_000);
});
