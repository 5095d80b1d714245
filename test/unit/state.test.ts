/**
 * The channel state machine (DESIGN §3): every legal transition lands where the
 * diagram says, and every other (state, event) pair of the full cross product
 * throws IllegalTransitionError (exit 8) — so a new entry in the table, or a
 * missing one, fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_EVENTS, CHANNEL_STATES, IllegalTransitionError, transition, type ChannelEvent, type ChannelState,
} from '../../src/core/channel/state.js';
import { ChannelStateError, ExitCode } from '../../src/core/errors.js';

/** The diagram in state.ts, written out independently of its TABLE. */
const LEGAL: [ChannelState, ChannelEvent, ChannelState][] = [
  ['opening', 'confirm', 'open'],
  ['opening', 'fail', 'failed'],
  ['open', 'settle', 'settling'],
  ['open', 'close', 'closed'],
  ['open', 'expire', 'expired'],
  ['settling', 'elapse', 'settled'],
  ['settling', 'collect', 'closed'],
  ['settling', 'close', 'closed'],
  ['settled', 'collect', 'closed'],
  ['expired', 'collect', 'closed'],
  ['expired', 'close', 'closed'],
];

const legal = new Set(LEGAL.map(([s, e]) => `${s}/${e}`));
const ILLEGAL: [ChannelState, ChannelEvent][] = CHANNEL_STATES.flatMap((s) =>
  CHANNEL_EVENTS.filter((e) => !legal.has(`${s}/${e}`)).map((e) => [s, e] as [ChannelState, ChannelEvent]),
);

describe('channel state machine', () => {
  it('knows exactly seven states and seven events', () => {
    expect([...CHANNEL_STATES]).toEqual(['opening', 'open', 'settling', 'settled', 'closed', 'expired', 'failed']);
    expect([...CHANNEL_EVENTS]).toEqual(['confirm', 'fail', 'settle', 'elapse', 'collect', 'close', 'expire']);
    // 49 pairs: 11 legal + 38 illegal
    expect(LEGAL.length + ILLEGAL.length).toBe(CHANNEL_STATES.length * CHANNEL_EVENTS.length);
    expect(ILLEGAL).toHaveLength(38);
  });

  it.each(LEGAL)('%s --%s--> %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to);
  });

  it.each(ILLEGAL)('%s refuses %s (IllegalTransitionError, exit 8)', (from, event) => {
    expect(() => transition(from, event)).toThrow(IllegalTransitionError);
    expect(() => transition(from, event)).toThrow(ChannelStateError);
    expect(() => transition(from, event)).toThrow(
      expect.objectContaining({
        exitCode: ExitCode.channelState,
        code: 'CHANNEL_STATE',
        from,
        event,
        data: { state: from, event },
        message: `A channel that is ${from} cannot ${event}.`,
      }),
    );
    expect(ExitCode.channelState).toBe(8);
  });

  it('terminal states accept no event at all', () => {
    for (const s of ['closed', 'failed'] as const) {
      for (const e of CHANNEL_EVENTS) expect(() => transition(s, e)).toThrow(IllegalTransitionError);
    }
  });

  it('pins the message of an illegal transition', () => {
    expect(() => transition('closed', 'settle')).toThrowErrorMatchingInlineSnapshot(`[Channel.IllegalTransitionError: A channel that is closed cannot settle.]`);
  });
});
