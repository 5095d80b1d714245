/**
 * The listener's ILP rules (DESIGN §12, src/core/transports/btp/ilp.ts) over generated packets:
 * what it fulfills is exactly what a holder of the SPSP shared secret built (the fulfillment
 * always hashes to the condition: a connector forwarding the Fulfill can claim its own
 * Prepare with it), nothing else, and a peer's debt never passes --max-owed.
 *
 * The fulfillment is checked against an independent computation of RFC 29's formula
 * (node:crypto here, not the module's helpers). Cases: FUZZ_RUNS (default 200).
 */
import { describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { IlpReceiver } from '../../dist/core/transports/btp/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
/** RFC 29: HMAC-SHA256(HMAC-SHA256(shared_secret, "ilp_stream_fulfillment"), data). */
const rfc29 = (secret: Buffer, data: Buffer) => createHmac('sha256', createHmac('sha256', secret).update('ilp_stream_fulfillment').digest()).update(data).digest();

const packet = fc.record({
  amount: fc.bigInt({ min: 0n, max: 10n ** 6n }),
  data: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  /** 0: honest; 1: a condition of other data; 2: a flipped condition byte; 3: another destination token; 4: expired; 5: another address. */
  tamper: fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 5),
  peer: fc.constantFrom('alice', 'bob'),
  paid: fc.bigInt({ min: 0n, max: 2n * 10n ** 6n }),
});

describe('ILP Prepares at the listener (property)', () => {
  it('fulfills exactly the Prepares built with the shared secret, within each peer\'s credit, and the fulfillment hashes to the condition', () => {
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 30 }), fc.bigInt({ min: 0n, max: 3n * 10n ** 6n }), (packets, maxOwed) => {
        const r = new IlpReceiver('g.merchant', maxOwed);
        const owed: Record<string, bigint> = { alice: 0n, bob: 0n };
        for (const p of packets) {
          const spsp = r.spsp();
          const secret = Buffer.from(spsp.shared_secret, 'base64');
          const honest = sha256(rfc29(secret, p.data));
          const condition = p.tamper === 1 ? sha256(rfc29(secret, Buffer.concat([p.data, Buffer.from([1])]))) : p.tamper === 2 ? Buffer.from(honest.map((x, i) => (i === 5 ? x ^ 1 : x))) : honest;
          const destination = p.tamper === 3 ? r.spsp().destination_account : p.tamper === 5 ? spsp.destination_account.replace('g.merchant', 'g.other') : spsp.destination_account;
          const expiresAt = new Date(Date.now() + (p.tamper === 4 ? -1 : 30_000));
          const reply = r.prepare({ amount: p.amount.toString(), destination, executionCondition: condition, expiresAt, data: p.data }, p.peer) as any;
          const within = owed[p.peer] + p.amount <= maxOwed;
          if (p.tamper === 0 && within) {
            expect(reply.fulfillment, JSON.stringify(reply)).toBeDefined();
            expect(sha256(reply.fulfillment)).toEqual(condition);
            expect(reply.fulfillment).toEqual(rfc29(secret, p.data));
            owed[p.peer] += p.amount;
          } else {
            expect(reply.fulfillment).toBeUndefined();
            const code = { 0: 'T04', 1: 'F05', 2: 'F05', 3: 'F05', 4: 'R00', 5: 'F02' }[p.tamper];
            expect(reply.code).toBe(code);
          }
          expect(r.owedBy(p.peer)).toBe(owed[p.peer]);
          expect(r.owedBy(p.peer) <= maxOwed).toBe(true);
          // a claim from the peer pays its debt down, never below zero
          r.credit(p.peer, p.paid);
          owed[p.peer] = owed[p.peer] > p.paid ? owed[p.peer] - p.paid : 0n;
          expect(r.owedBy(p.peer)).toBe(owed[p.peer]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses an address that is not an ILP address (RFC 15)', () => {
    expect(() => new IlpReceiver('merchant', 1n)).toThrow(/Not an ILP address/);
    expect(() => new IlpReceiver('g.', 1n)).toThrow(/Not an ILP address/);
  });
});
