import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { UsageError } from '../../core/errors.js'
import { ClaimSender, connectBtp, parseBtpUrl } from '../../core/transports/btp/index.js'

export default class BtpPay extends BaseCommand<typeof BtpPay> {
  static override summary = 'Pay <amount> more on a channel by sending one payment-channel claim to a BTP peer.'
  static override description =
    'Signs the channel\'s next voucher on lane 0 (cumulative amount = previous + <amount>) and commits it to the database BEFORE ' +
    'it is sent, as `channels pay` does; then connects to <url> (btp+ws://name:secret@host:port), sends it as a claim in a BTP ' +
    'Transfer of <amount> (contentType 2, JSON) and prints the peer\'s answer. A refusal exits 4 with the peer\'s BTP error ' +
    '(code, name, reason); the voucher stays committed (resend it with `channels btp pay` of a later amount, or `channels pay`).'
  static override examples = ['<%= config.bin %> btp pay btp+ws://alice:s3cret@127.0.0.1:7768 1000 --channel 0x3f2a']
  static override args = {
    url: Args.string({ required: true, description: 'The peer: btp+ws://name:secret@host:port.' }),
    amount: Args.string({ required: true, description: 'Amount to add (e.g. 1000 or 0.001eth); below 2^64 base units (a BTP Transfer\'s amount).' }),
  }
  static override flags = {
    channel: Flags.string({ summary: 'Channel id or unique prefix (an outbound channel to the peer\'s payee).', required: true }),
  }

  async run() {
    const { args, flags } = await this.parse(BtpPay)
    const { account } = parseBtpUrl(args.url)
    const c = this.reader.channel(flags.channel)
    const delta = this.parseAmountOn(args.amount, 'amount', c.asset).value
    if (delta === 0n) throw new UsageError('The amount must be above zero.')
    if (delta >= 1n << 64n) throw new UsageError('A BTP Transfer\'s amount is below 2^64 base units; send it in several claims.')
    const s = await this.scheme()
    const conn = await connectBtp(args.url)
    try {
      const { claim, paid, receipt } = await new ClaimSender(s, () => conn, { channel: flags.channel, senderId: account, threshold: 0n }).pay(delta)
      this.log(`Claim ${claim.messageId} accepted: ${this.amount(paid, c.asset)} on ${c.id.slice(0, 10)}… (nonce ${claim.nonce}, total ${this.amount(BigInt(claim.transferredAmount), c.asset)}).`)
      return { channelId: c.id, nonce: String(claim.nonce), amount: claim.transferredAmount, paid: paid.toString(), claim, receipt }
    } finally {
      conn.close()
    }
  }
}
