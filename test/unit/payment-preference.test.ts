/**
 * Issue 13 §2: when a 402 offers several schemes, `buy` prefers an open channel, then x402 `exact`
 * for a one-off, and opens a channel when --yes and --expect N make it cheaper in gas than N exact
 * payments (core/transports/http402/preference.ts). The whole table of the pure choice, and when
 * it asks the node for gas.
 */
import { describe, expect, it } from 'vitest';
import { choosePayment, needsGas, type PaymentChoice, type PaymentFacts } from '../../src/core/transports/http402/preference.js';

/** Gas as the EVM family estimates it: a channel costs as much as 5.5 exact payments. */
const GAS = { exact: 60_000n, channel: 330_000n };

const T = true;
const F = false;
// payable, channel offered, exact offered, --yes, expect → choice
const TABLE: [boolean, boolean, boolean, boolean, bigint, PaymentChoice][] = [
  // An open channel that can pay wins whatever else is offered.
  [T, T, T, T, 100n, 'channel'],
  [T, T, T, F, 1n, 'channel'],
  [T, T, F, F, 1n, 'channel'],
  // exact offered, no open channel: exact, unless --yes and N makes the channel cheaper (strictly).
  [F, T, T, F, 100n, 'exact'],
  [F, T, T, T, 1n, 'exact'],
  [F, T, T, T, 5n, 'exact'],
  [F, T, T, T, 6n, 'open'],
  [F, T, T, T, 100n, 'open'],
  [F, F, T, T, 100n, 'exact'], // no channel entry: nothing to open
  // channel only: as before issue 13, open with --yes, else refuse.
  [F, T, F, T, 1n, 'open'],
  [F, T, F, F, 1n, 'none'],
  [F, F, F, T, 1n, 'none'],
];

describe('choosePayment', () => {
  it.each(TABLE)('payable %s, channel %s, exact %s, --yes %s, expect %s → %s', (channelPayable, channelOffered, exactOffered, autoOpen, expect_, choice) => {
    const f: Omit<PaymentFacts, 'gas'> = { channelPayable, channelOffered, exactOffered, autoOpen, expect: expect_ };
    expect(choosePayment({ ...f, gas: needsGas(f) ? GAS : undefined })).toBe(choice);
  });

  it('a tie in gas goes to exact (no deposit locked up)', () => {
    expect(choosePayment({ channelPayable: F, channelOffered: T, exactOffered: T, autoOpen: T, expect: 2n, gas: { exact: 50n, channel: 100n } })).toBe('exact');
    expect(choosePayment({ channelPayable: F, channelOffered: T, exactOffered: T, autoOpen: T, expect: 3n, gas: { exact: 50n, channel: 100n } })).toBe('open');
  });

  it('without a gas estimate it never opens a channel in place of exact', () => {
    expect(choosePayment({ channelPayable: F, channelOffered: T, exactOffered: T, autoOpen: T, expect: 1000n })).toBe('exact');
  });

  it('asks for gas only when it can change the choice', () => {
    const base = { channelPayable: F, channelOffered: T, exactOffered: T, autoOpen: T, expect: 10n };
    expect(needsGas(base)).toBe(true);
    expect(needsGas({ ...base, expect: 1n })).toBe(false); // one request: a channel never beats one exact payment
    expect(needsGas({ ...base, channelPayable: T })).toBe(false);
    expect(needsGas({ ...base, autoOpen: F })).toBe(false);
    expect(needsGas({ ...base, exactOffered: F })).toBe(false);
    expect(needsGas({ ...base, channelOffered: F })).toBe(false);
  });
});
