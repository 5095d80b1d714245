/**
 * The channel repository's state changes (src/core/store/channels.ts) on a real SQLite
 * file: `transition()` applies the state machine of DESIGN §3 inside one transaction —
 * every (state, event) pair the table allows writes the new state with its fields, every
 * other pair throws IllegalTransitionError and leaves the database byte-for-byte as it
 * was, and a row moved by another connection since it was read is refused. `update()`
 * cannot write a state at all (at run time here, at compile time in test/types).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { Store, StaleChannelStateError } from '../../src/core/store/index.js';
import {
  CHANNEL_EVENTS, CHANNEL_STATES, IllegalTransitionError, transition, type ChannelEvent, type ChannelState,
} from '../../src/core/channel/state.js';
import { NotFoundError, StoreError } from '../../src/core/errors.js';
import { REPO_ROOT } from '../helpers/anvil.js';

const NET = 'eip155:31337';
let home: string;
let store: Store;
let n = 0;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'channels-repo-'));
  store = Store.open(home);
});
afterEach(() => {
  store.close();
  rmSync(home, { recursive: true, force: true });
});

/** Inserts a channel in `state` with `updated_at = 0`, so that any write shows in a snapshot. */
function channel(state: ChannelState): string {
  const id = '0x' + (++n).toString(16).padStart(64, '0');
  store.channels.insert({
    network: NET, id, family: 'evm', direction: 'outbound', payer: '0xpayer', payee: '0xpayee', asset: '0x0',
    deposit: 1000n, redeemed: 0n, charged: 0n, state, keyName: 'k', data: { contract: '0xc', settleDelay: 60 },
  });
  store.db.prepare('UPDATE channels SET updated_at = 0 WHERE id = ?').run(id);
  return id;
}

/** Every row of every table, as SQLite prints it. */
function snapshot(): string {
  const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  return tables.map(({ name }) => `${name}: ${JSON.stringify(store.db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all())}`).join('\n');
}

const PAIRS = CHANNEL_STATES.flatMap((s) => CHANNEL_EVENTS.map((e) => [s, e] as [ChannelState, ChannelEvent]));
const allowed = (s: ChannelState, e: ChannelEvent) => {
  try {
    return transition(s, e);
  } catch {
    return undefined;
  }
};

describe('ChannelRepository.transition', () => {
  it.each(PAIRS.filter(([s, e]) => allowed(s, e)))('%s --%s--> writes the state and the fields together', (from, event) => {
    const id = channel(from);
    const after = store.channels.transition(NET, id, event, { redeemed: 400n, closeTx: '0xfeed', settleAt: 1234 }, from);
    expect(after).toMatchObject({ state: transition(from, event), redeemed: 400n, closeTx: '0xfeed', settleAt: 1234 });
    expect(store.channels.get(NET, id)).toEqual(after);
    expect(after.updatedAt).toBeGreaterThan(0);
  });

  it.each(PAIRS.filter(([s, e]) => !allowed(s, e)))('%s refuses %s: IllegalTransitionError, nothing written', (from, event) => {
    const id = channel(from);
    const before = snapshot();
    expect(() => store.channels.transition(NET, id, event, { redeemed: 400n, closeTx: '0xfeed' }, from)).toThrow(IllegalTransitionError);
    expect(() => store.channels.transition(NET, id, event, { redeemed: 400n })).toThrow(IllegalTransitionError);
    expect(snapshot()).toBe(before);
  });

  it('applies several events as one change, and none of them when one is illegal', () => {
    const id = channel('open');
    expect(store.channels.transition(NET, id, ['settle', 'elapse'], { settleAt: 99 }, 'open')).toMatchObject({ state: 'settled', settleAt: 99 });
    const other = channel('open');
    const before = snapshot();
    expect(() => store.channels.transition(NET, other, ['expire', 'settle'], { closeTx: '0x1' }, 'open')).toThrowErrorMatchingInlineSnapshot(
      `[Channel.IllegalTransitionError: A channel that is expired cannot settle.]`,
    );
    expect(snapshot()).toBe(before);
  });

  it('refuses a row another process moved since it was read (stale read), writing nothing', () => {
    const id = channel('open');
    const read = store.channels.get(NET, id)!;
    const other = Store.open(home); // a second connection: another process on the same wallet
    try {
      other.channels.transition(NET, id, 'settle', { settleAt: 500 }, 'open');
    } finally {
      other.close();
    }
    const before = snapshot();
    expect(() => store.channels.transition(NET, id, 'close', { redeemed: 400n, closeTx: '0xfeed' }, read.state)).toThrow(StaleChannelStateError);
    expect(() => store.channels.transition(NET, id, 'close', {}, read.state)).toThrowErrorMatchingInlineSnapshot(
      `
      [Channel.StaleStateError: Channel 0x00000000… is settling, not open as read; close was not applied.
      Another process changed the channel meanwhile; \`channels status\` shows it now.]
    `,
    );
    expect(snapshot()).toBe(before);
    // From what the row holds now, close is legal.
    expect(store.channels.transition(NET, id, 'close', { closeTx: '0xfeed' }, 'settling').state).toBe('closed');
  });

  it('takes the same change recorded first by another process as done and writes only the fields', () => {
    const id = channel('opening');
    const read = store.channels.get(NET, id)!;
    const other = Store.open(home);
    try {
      other.channels.transition(NET, id, 'confirm', {}, 'opening'); // e.g. `channels list` saw the open mined
    } finally {
      other.close();
    }
    expect(store.channels.transition(NET, id, 'confirm', { openTx: '0xab' }, read.state)).toMatchObject({ state: 'open', openTx: '0xab' });
  });

  it('rolls back with the transaction it runs in', () => {
    const id = channel('open');
    const before = snapshot();
    expect(() =>
      store.immediate(() => {
        store.channels.transition(NET, id, 'close', { closeTx: '0x1' }, 'open');
        throw new Error('broadcast failed');
      }),
    ).toThrow('broadcast failed');
    expect(snapshot()).toBe(before);
  });

  it('refuses an unknown channel', () => {
    expect(() => store.channels.transition(NET, '0x' + 'ff'.repeat(32), 'close')).toThrow(NotFoundError);
  });
});

describe('ChannelRepository.update', () => {
  it('refuses a state at run time too, writing nothing', () => {
    const id = channel('open');
    const before = snapshot();
    // @ts-expect-error update() takes no state (the compile-time half is test/types/channel-update.ts)
    expect(() => store.channels.update(NET, id, { charged: 5n, state: 'closed' })).toThrow(StoreError);
    expect(snapshot()).toBe(before);
  });

  it('takes no state at compile time: test/types/channel-update.ts type-checks only with its @ts-expect-error lines', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(REPO_ROOT, 'tsconfig.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    })!;
    const program = ts.createProgram([join(REPO_ROOT, 'test/types/channel-update.ts')], { ...parsed.options, noEmit: true, rootDir: REPO_ROOT });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(errors).toEqual([]);
  });
});

describe('ChannelRepository.insert', () => {
  it.each([
    ['bitcoin', NET],
    ['evm', 'bip122:530827f38f93b43ed12af0b3ad25a288'],
    ['evm', 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp'],
  ] as const)('refuses a %s channel on %s (the family must be its network namespace\'s), writing nothing', (family, network) => {
    const before = snapshot();
    expect(() => store.channels.insert({
      network, id: '0x' + 'ee'.repeat(32), family, direction: 'outbound', payer: 'p', payee: 'q', asset: '0x0',
      deposit: 1n, redeemed: 0n, charged: 0n, state: 'open', keyName: 'k', data: {},
    })).toThrow(StoreError);
    expect(snapshot()).toBe(before);
  });
});
