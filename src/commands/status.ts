import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { statusJson, keyValueTable, amount, table } from '../cli/render.js'
import { fullStatus } from '../core/channel/operations.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show one channel in full, or a summary of all channels.'
  static override description =
    'Reads the local database (Lotus PaychStatus): direction, payer, payee, confirmed deposit, pending deposits (sent, ' +
    'not mined), queued (always 0: each deposit is sent at once), reserved (vouchers signed but not acknowledged by the ' +
    'merchant), spent (latest voucher per lane), available, charged by the merchant, redeemed on chain, settle time and ' +
    'state. `channels sync` refreshes it from the chain.'
  static override examples = ['<%= config.bin %> status 0x3f2a', '<%= config.bin %> status --json']
  static override args = { channel: Args.string({ description: 'Channel id or unique prefix.' }) }

  async run() {
    const { args } = await this.parse(Status)
    const m = this.reader
    if (!args.channel) {
      const all = m.list()
      if (!this.jsonEnabled()) this.log(all.length ? table(['channel', 'dir', 'state', 'deposit', 'available'], all.map((s) => [s.channel.id.slice(0, 18), s.channel.direction, s.channel.state, amount(s.channel.deposit, s.channel.asset), amount(s.available, s.channel.asset)])) : 'No channels on this network.')
      return { channels: all.map(statusJson) }
    }
    const s = m.statusOf(m.channel(args.channel))
    const c = s.channel
    const f = fullStatus(m, c)
    if (!this.jsonEnabled()) this.log(keyValueTable([
      ['channel', c.id], ['network', c.network], ['direction', c.direction], ['state', c.state],
      ['payer', c.payer], ['payee', c.payee], ['confirmed deposit', amount(f.confirmed, c.asset)], ['pending', amount(f.pending, c.asset)],
      ['queued', amount(f.queued, c.asset)], ['reserved', amount(f.reserved, c.asset)], ['spent', amount(s.spent, c.asset)],
      ['available', amount(f.available, c.asset)], ['charged', amount(c.charged, c.asset)], ['redeemed', amount(c.redeemed, c.asset)],
      ['vouchers', String(s.vouchers)],
      ...((c.bitcoin
        ? [['expiry', new Date((c.expiry ?? 0) * 1000).toISOString()], ['deposit script', c.bitcoin.p2sh ? 'P2SH' : 'P2WSH'], ['close fee', amount(BigInt(c.bitcoin.closeFee), c.asset)]]
        : [['settle delay', `${c.settleDelay} s`], ['settle at', c.settleAt ? new Date(c.settleAt * 1000).toISOString() : '-']]) as [string, string][]),
      ['endpoint', c.endpoint ?? '-'],
    ]))
    return { ...statusJson(s), confirmed: f.confirmed.toString(), pending: f.pending.toString(), queued: f.queued.toString(), reserved: f.reserved.toString() }
  }
}
