/**
 * Compiled by test/unit/channel-repository.test.ts with the TypeScript compiler (the
 * project's `tsc -p .` covers src/ only): each `@ts-expect-error` fails the compile once
 * the line it guards type-checks, i.e. once `update()` accepts a state again (DESIGN §3:
 * the state changes only through `transition()`).
 */
import type { ChannelRepository } from '../../src/core/store/channels.js';
import type { ChannelState } from '../../src/core/channel/state.js';

export function misuses(repo: ChannelRepository, state: ChannelState): void {
  // @ts-expect-error update() takes no state
  repo.update('eip155:31337', '0x01', { state: 'closed' });
  const wider = { charged: 1n, state };
  // @ts-expect-error not through a spread of a wider object either
  repo.update('eip155:31337', '0x01', { ...wider });
  // @ts-expect-error transition() takes events, not states
  repo.transition('eip155:31337', '0x01', 'closed');
  // @ts-expect-error nor a state among its fields
  repo.transition('eip155:31337', '0x01', 'close', { state: 'closed' });
  // what is allowed
  repo.update('eip155:31337', '0x01', { charged: 1n, closeTx: '0xab' });
  repo.transition('eip155:31337', '0x01', ['settle', 'elapse'], { settleAt: 1 }, 'open');
}
