import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { sendOverIlp, type ClaimSent } from '../../core/transports/btp/index.js'

export default class BtpSend extends BaseCommand<typeof BtpSend> {
  static override summary = 'Pay an SPSP receiver <amount> in ILP packets through a BTP peer, settling with claims on a channel.'
  static override description =
    'Asks the receiver where to pay (SPSP, RFC 9: --to http://host:port/.well-known/pay, as `channels btp listen` serves), connects ' +
    'to the BTP peer <url> (btp+ws://name:secret@host:port), and sends ILP Prepares of at most --packet, each with a fresh condition ' +
    'from the SPSP shared secret (STREAM\'s fulfillment, RFC 29). The peer is paid for what it fulfilled with payment-channel ' +
    'claims on --channel: one each time --settle-threshold is owed, and one for the rest at the end (each voucher committed to the ' +
    'database before it leaves). A Fulfill whose fulfillment does not hash to the condition counts as a Reject. The first Reject ' +
    'stops the payment (exit 4) after the peer is paid for what it fulfilled.'
  static override examples = [
    '<%= config.bin %> btp send btp+ws://alice:s3cret@127.0.0.1:7768 0.0001eth --to http://127.0.0.1:7768/.well-known/pay --channel 0x3f2a',
    '<%= config.bin %> btp send btp+ws://alice:s3cret@127.0.0.1:7768 100000 --to http://127.0.0.1:7768/.well-known/pay --channel 0x3f2a --packet 1000 --settle-threshold 10000 --json',
  ]
  static override args = {
    url: Args.string({ required: true, description: 'The BTP peer: btp+ws://name:secret@host:port.' }),
    amount: Args.string({ required: true, description: 'Amount to deliver (e.g. 100000 or 0.0001eth).' }),
  }
  static override flags = {
    to: Flags.string({ summary: 'The receiver\'s SPSP URL (http://host:port/.well-known/pay).', required: true }),
    channel: Flags.string({ summary: 'Channel id or unique prefix: an outbound channel to the BTP peer\'s payee.', required: true }),
    packet: Flags.string({ summary: 'Largest ILP packet (default: the whole amount in one).' }),
    'settle-threshold': Flags.string({ summary: 'Owed value that triggers a claim (default 0: a claim after every fulfilled packet).', default: '0' }),
  }

  async run() {
    const { args, flags } = await this.parse(BtpSend)
    const c = this.reader.channel(flags.channel)
    const inChannel = (input: string, what: string) => this.parseAmountOn(input, what, c.asset).value
    const amount = inChannel(args.amount, 'amount')
    const packet = flags.packet === undefined ? amount : inChannel(flags.packet, '--packet')
    const threshold = inChannel(flags['settle-threshold'], '--settle-threshold')
    const s = await this.scheme()
    const onClaim = (k: ClaimSent) => {
      if (!this.jsonEnabled()) process.stderr.write(`claim ${k.claim.messageId}: paid ${this.amount(k.paid, c.asset)} (total ${this.amount(BigInt(k.claim.transferredAmount), c.asset)})\n`)
    }
    const r = await sendOverIlp(s, { url: args.url, spsp: flags.to, channel: flags.channel, amount, packet, threshold, onClaim })
    const paid = r.claims.reduce((n, k) => n + k.paid, 0n)
    this.log(`Delivered ${this.amount(r.delivered, c.asset)} to ${r.destination} in ${r.packets} packets; paid ${this.amount(paid, c.asset)} in ${r.claims.length} claims on ${c.id.slice(0, 10)}….`)
    return {
      destination: r.destination, packets: r.packets, delivered: r.delivered.toString(), paid: paid.toString(), channelId: c.id,
      claims: r.claims.map((k) => ({ messageId: k.claim.messageId, nonce: String(k.claim.nonce), transferredAmount: k.claim.transferredAmount, paid: k.paid.toString() })),
    }
  }
}
