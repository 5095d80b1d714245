/**
 * Output helpers shared by commands: JSON shapes (amounts as decimal strings) and
 * cli-table3 tables for humans.
 */
import { createRequire } from 'node:module'
import type TableClass from 'cli-table3'
import type { ChannelStatus } from '../core/channel/manager.js'
import { formatUnits } from '../core/units.js'
import { anyVoucherToWire } from '../core/channel/voucher.js'

/** The native-currency asset (ethers' ZeroAddress, without loading ethers for a table). */
const ZeroAddress = '0x0000000000000000000000000000000000000000'

/** Human amount for an asset: native amounts in eth, tokens in base units. */
export function amount(value: bigint, asset: string = ZeroAddress): string {
  return asset === ZeroAddress ? formatUnits(value, 18, 'eth') : asset === 'sat' ? `${value} sat` : `${value} units`
}

/** The `--json` shape of a channel's status. */
export function statusJson(s: ChannelStatus) {
  const c = s.channel
  return {
    channelId: c.id,
    network: c.network,
    direction: c.direction,
    state: c.state,
    payer: c.payer,
    payee: c.payee,
    asset: c.asset,
    contract: c.contract,
    deposit: c.deposit.toString(),
    spent: s.spent.toString(),
    available: s.available.toString(),
    charged: c.charged.toString(),
    redeemed: c.redeemed.toString(),
    vouchers: s.vouchers,
    settleDelay: c.settleDelay,
    settleAt: c.settleAt ?? null,
    expiry: c.expiry ?? null,
    endpoint: c.endpoint ?? null,
    openTx: c.openTx ?? null,
    closeTx: c.closeTx ?? null,
    best: s.best.map(anyVoucherToWire),
  }
}

/** cli-table3, loaded when a table is drawn: a command that prints JSON or one line never loads it. */
let Table: typeof TableClass | undefined
const newTable = (options: ConstructorParameters<typeof TableClass>[0]) =>
  new (Table ??= createRequire(import.meta.url)('cli-table3') as typeof TableClass)(options)

/** A two-column table of label → value. */
export function keyValueTable(rows: [string, string][]): string {
  const t = newTable({ style: { head: [], border: [] } })
  for (const r of rows) t.push(r)
  return t.toString()
}

/** A table with a header row. */
export function table(head: string[], rows: string[][]): string {
  const t = newTable({ head, style: { head: [], border: [] } })
  for (const r of rows) t.push(r)
  return t.toString()
}
