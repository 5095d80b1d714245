/**
 * Output helpers shared by commands: JSON shapes (amounts as decimal strings of base
 * units) and tables for people (amounts in the chain's unit with its symbol, see
 * `formatAmount`). Tables have no borders and fit an 80-column terminal: ids and
 * addresses are shortened (`0x3f2a91…c0de`) and amounts cut to six significant digits
 * (marked "…", never rounded up) unless `--wide` asks for everything.
 */
import { createRequire } from 'node:module'
import type TableClass from 'cli-table3'
import type { ChannelStatus } from '../core/channel/reader.js'
import type { ChannelRecord } from '../core/store/index.js'
import type { ChannelState } from '../core/channel/state.js'
import { formatAmount, shortHex } from '../core/units.js'
import type { Asset } from '../core/asset.js'
import { anyVoucherToWire } from '../core/channel/voucher.js'
import { families } from '../families/index.js'

export { shortHex }

/** Significant digits of an amount in a narrow table. */
const TABLE_DIGITS = 6

/**
 * An amount for people: `0.1 ETH`, `1,000 wei`, `0.001 BTC`, `100,000 sat` (`formatAmount`).
 * @param digits - shorten to this many significant digits (tables), marked "…"
 */
export function amount(value: bigint, asset: Asset, digits?: number): string {
  return formatAmount(value, asset, digits === undefined ? {} : { digits })
}

/**
 * Whether a channel in this state can still pay, so that its `available` means
 * something: not once it is settled, closed, expired or failed (shown as "-").
 */
export function showsAvailable(state: ChannelState): boolean {
  return state !== 'settled' && state !== 'closed' && state !== 'expired' && state !== 'failed'
}

/**
 * The `--json` shape of a channel's status (amounts as decimal strings of base units): the
 * common fields and its family's (`contract`, `settleDelay`, `expiry`).
 * @param assetId - CAIP-19 id of what its amounts count (`ChannelFamily.asset`), beside `asset` as stored
 */
export function statusJson(s: ChannelStatus, assetId: string) {
  const c = s.channel
  const own = families[c.family].statusJson(c)
  return {
    channelId: c.id,
    network: c.network,
    direction: c.direction,
    state: c.state,
    payer: c.payer,
    payee: c.payee,
    asset: c.asset,
    assetId,
    contract: own.contract,
    deposit: c.deposit.toString(),
    spent: s.spent.toString(),
    available: s.available.toString(),
    charged: c.charged.toString(),
    redeemed: c.redeemed.toString(),
    vouchers: s.vouchers,
    settleDelay: own.settleDelay,
    settleAt: c.settleAt ?? null,
    expiry: own.expiry,
    endpoint: c.endpoint ?? null,
    openTx: c.openTx ?? null,
    closeTx: c.closeTx ?? null,
    best: s.best.map(anyVoucherToWire),
  }
}

/**
 * The channels table of `list` and `status`. Narrow (default, ≤ 80 columns for amounts
 * below a million coins): channel, dir, state, peer (the payee of an outbound channel,
 * the payer of an inbound one), spent, available. Wide: whole ids and addresses, exact
 * amounts, plus deposit and endpoint.
 * @param assetOf - the asset of a channel's amounts
 */
export function channelTable(all: ChannelStatus[], assetOf: (c: ChannelRecord) => Asset, wide = false): string {
  const digits = wide ? undefined : TABLE_DIGITS
  const id = (s: string) => (wide ? s : shortHex(s))
  const head = wide
    ? ['channel', 'direction', 'state', 'peer', 'deposit', 'spent', 'available', 'endpoint']
    : ['channel', 'dir', 'state', 'peer', 'spent', 'available']
  return table(head, all.map((s) => {
    const c = s.channel
    const asset = assetOf(c)
    const available = showsAvailable(c.state) ? amount(s.available, asset, digits) : '-'
    const peer = id(c.direction === 'outbound' ? c.payee : c.payer)
    return wide
      ? [c.id, c.direction, c.state, peer, amount(c.deposit, asset), amount(s.spent, asset), available, c.endpoint ?? '-']
      : [id(c.id), c.direction === 'outbound' ? 'out' : 'in', c.state, peer, amount(s.spent, asset, digits), available]
  }))
}

/** cli-table3, loaded when a table is drawn: a command that prints JSON or one line never loads it. */
let Table: typeof TableClass | undefined
const BORDERLESS = {
  chars: {
    top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
    left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
  },
  style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
}
const draw = (head: string[], rows: string[][]): string => {
  const t = new (Table ??= createRequire(import.meta.url)('cli-table3') as typeof TableClass)({ ...BORDERLESS, head })
  for (const r of rows) t.push(r)
  return t.toString().split('\n').map((line) => line.trimEnd()).join('\n')
}

/** Label → value lines, the labels aligned (no borders: a 66-character id fits 80 columns beside a 12-character label). */
export function keyValueTable(rows: [string, string][]): string {
  return draw([], rows)
}

/** A table with a header row, columns two spaces apart, no borders. */
export function table(head: string[], rows: string[][]): string {
  return draw(head, rows)
}
