import { Args } from '@oclif/core'
import { BaseCommand, wideFlag } from '../cli/base.js'
import { statusJson, keyValueTable, channelTable, showsAvailable } from '../cli/render.js'
import { fullStatus } from '../core/channel/status.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show one channel in full, or a summary of all channels.'
  static override description =
    'Reads the local database (Lotus PaychStatus): direction, payer, payee, deposit (confirmed), pending deposits (sent, ' +
    'not mined) and the pending top-up transaction, queued (top-up asked for by `reserve` while a deposit was pending: ' +
    'sent as one deposit once it is mined), reserved (set aside by `channels reserve`), unacknowledged (vouchers signed but ' +
    'not acknowledged by the merchant), spent (latest voucher per lane; of it, conditional: on hash-locked lanes not yet redeemed), available (deposit − spent − reserved; "-" once ' +
    'the channel is settled, closed, expired or failed), ' +
    'charged by the merchant, redeemed on chain, settle time and state. `channels sync` refreshes it from the chain ' +
    '(and advances a pending top-up).\n\n' +
    '<channel> is a channel id (or unique prefix), or the URL of a merchant: the newest open channel bound to its origin ' +
    '(by `buy`, or `open --url`). Amounts print in the chain\'s unit (0.1 ETH, 1,000 wei, 100,000 sat); --json gives ' +
    'base units. Without <channel>, a table of every channel that fits 80 columns (--wide: whole ids and amounts).'
  static override examples = [
    '<%= config.bin %> status 0x3f2a',
    '<%= config.bin %> status http://127.0.0.1:4021',
    '<%= config.bin %> status --wide',
    '<%= config.bin %> status --json',
  ]
  static override args = { channel: Args.string({ description: 'Channel id or unique prefix, or a merchant URL.' }) }
  static override flags = { wide: wideFlag }

  async run() {
    const { args, flags } = await this.parse(Status)
    const m = this.reader
    if (!args.channel) {
      const all = m.list()
      if (!this.jsonEnabled()) this.log(all.length ? channelTable(all, (c) => this.assetOf(c.asset), flags.wide) : 'No channels on this network.')
      return { channels: all.map((s) => statusJson(s, this.assetOf(s.channel.asset).id)) }
    }
    const s = m.statusOf(m.resolve(args.channel))
    const c = s.channel
    const f = fullStatus(m, c)
    if (!this.jsonEnabled()) {
      const amt = (v: bigint) => this.amount(v, c.asset)
      this.log(keyValueTable([
        ['channel', c.id], ['network', c.network], ['direction', c.direction], ['state', c.state],
        ['payer', c.payer], ['payee', c.payee], ['deposit', amt(f.confirmed)], ['pending', amt(f.pending)],
        ...(f.pendingTx ? [['pending tx', f.pendingTx] as [string, string]] : []),
        ['queued', amt(f.queued)], ['reserved', amt(f.reserved)], ['unacked', amt(f.unacknowledged)], ['spent', amt(s.spent)],
        ...(f.conditional ? [['conditional', amt(f.conditional)] as [string, string]] : []),
        ['available', showsAvailable(c.state) ? amt(f.available) : '-'], ['charged', amt(c.charged)], ['redeemed', amt(c.redeemed)],
        ['vouchers', String(s.vouchers)],
        ...this.channelFamily.details(c).map(([label, v]): [string, string] =>
          [label, typeof v === 'string' ? v : 'amount' in v ? amt(v.amount) : new Date((v.time ?? 0) * 1000).toISOString()]),
        ['endpoint', c.endpoint ?? '-'],
      ]))
    }
    return { ...statusJson(s, this.assetOf(c.asset).id), confirmed: f.confirmed.toString(), pending: f.pending.toString(), queued: f.queued.toString(), reserved: f.reserved.toString(),
      unacknowledged: f.unacknowledged.toString(), conditional: f.conditional.toString(), pendingTx: f.pendingTx ?? null }
  }
}
