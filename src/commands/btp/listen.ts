import { createWriteStream, readFileSync } from 'node:fs'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { UsageError } from '../../core/errors.js'
import { listenForClaims, type ClaimReceivedEvent } from '../../core/transports/btp/index.js'
import type { SettlerEvent } from '../../core/channel/settler.js'
import { redeemPolicy } from '../../core/config-fields.js'

export default class BtpListen extends BaseCommand<typeof BtpListen> {
  static override summary = 'Run a BTP peer (Interledger RFC 23) that takes payment-channel claims over WebSocket.'
  static override description =
    'Peers connect with btp+ws://<name>:<secret>@<host>:<port> and authenticate with the secret in --secret-file (its first line; ' +
    'compared in constant time). A `payment-channel-claim` (the ILP seed\'s JSON claim: our voucher on lane 0, DESIGN §12) is ' +
    'verified like a paywall payment — signed by the channel\'s payer, nonce above the last, total within the deposit, the channel ' +
    'ours, open and in --asset — and committed to the database before it is answered; then a CLAIM_RECEIVED event is written ' +
    '(one JSON line per event to --events: a file, or - for stdout). A refused claim is answered with a BTP Error (F00 refused, ' +
    'F01 malformed, T00 our failure) and changes nothing. A claim in a Transfer pays the Transfer\'s amount. ' +
    'ILP: senders learn where to pay with SPSP (GET http://<host>:<port>/.well-known/pay: a fresh destination under --ilp-address ' +
    'and its shared secret); an ILP Prepare to such a destination whose condition is STREAM\'s (RFC 29) is fulfilled, and the ' +
    'peer that forwarded it then owes its amount until a claim pays it; a peer owing more than --max-owed gets a Reject T04. ' +
    'Other Prepares are rejected (F02 no route, F05 wrong condition, R00 expired). ' +
    'The redemption service runs as in `channels serve`. With --json it prints one ' +
    'line {"url","spsp","payTo","network","contract"} when ready. Runs until interrupted. EVM networks only.'
  static override examples = [
    '<%= config.bin %> btp listen --port 7768 --secret-file ./btp-secret',
    '<%= config.bin %> btp listen --port 0 --secret-file ./btp-secret --events - --json',
    '<%= config.bin %> btp listen --secret-file ./btp-secret --ilp-address g.merchant --max-owed 0.001eth',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'Port to listen on (0: any free port).', default: 7768, min: 0, max: 65535 }),
    host: Flags.string({ summary: 'Address to listen on.', default: '127.0.0.1' }),
    'secret-file': Flags.string({ summary: 'File whose first line is the shared secret peers authenticate with.', required: true }),
    events: Flags.string({ summary: 'Write one JSON line per event (CLAIM_RECEIVED, PEER_CONNECTED, …) to this file, or - for stdout.' }),
    asset: Flags.string({ summary: 'Take claims on channels in this ERC-20 token (a name from the network\'s config, or its address); default the native coin.' }),
    'min-deposit': Flags.string({ summary: 'Smallest deposit accepted on a new channel.', default: '0' }),
    'min-settle-delay': Flags.integer({ summary: 'Smallest settle delay accepted on a new channel, seconds.', default: 3600, min: 1 }),
    'ilp-address': Flags.string({ summary: 'This peer\'s ILP address: SPSP destinations are under it (RFC 15).', default: 'private.channels' }),
    'max-owed': Flags.string({ summary: 'Most a peer may owe for fulfilled ILP Prepares before it pays with a claim; default 0.001 in the native coin (with --asset: 0, fulfill none that pay).' }),
    'watch-interval': Flags.integer({ summary: 'Seconds between rounds of the redemption service; default config redeem.interval (30).', min: 1 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BtpListen)
    let secret: string
    try {
      secret = readFileSync(flags['secret-file'], 'utf8').split(/\r?\n/)[0]
    } catch (err) {
      throw new UsageError(`Cannot read --secret-file: ${(err as Error).message}`)
    }
    if (!secret) throw new UsageError('The secret file\'s first line is empty.')
    const { value: minDeposit, asset } = this.parseAmountOn(flags['min-deposit'], '--min-deposit', flags.asset)
    const maxOwed = flags['max-owed'] !== undefined ? this.parseAmountOn(flags['max-owed'], '--max-owed', asset).value : asset ? 0n : this.parseAmountOn('0.001eth', '--max-owed').value
    const s = await this.scheme()
    await s.checkChain()
    await s.signer()
    const listener = await listenForClaims(s, {
      host: flags.host, port: flags.port, secret, ilpAddress: flags['ilp-address'],
      policy: { asset, minDeposit, minSettleDelay: flags['min-settle-delay'], minExpirySeconds: 0, closeMargin: 0, minConf: 0 },
      ilp: { maxOwed },
    })
    const out = flags.events === undefined ? undefined : flags.events === '-' ? process.stdout : createWriteStream(flags.events, { flags: 'a' })
    // Held until the ready line is out, so that with --events - it stays stdout's first line.
    let held: object[] | undefined = []
    const write = (e: object) => (held ? held.push(e) : out?.write(JSON.stringify(e) + '\n'))
    listener.on('CLAIM_RECEIVED', (e: ClaimReceivedEvent) => {
      write(e)
      if (!this.jsonEnabled() && flags.events !== '-') this.log(`claim ${e.messageId} from ${e.peer || e.senderId}: channel ${e.channelId.slice(0, 10)}… nonce ${e.nonce}, total ${e.transferredAmount}, credited ${e.credited}`)
    })
    listener.on('connection', (c) => {
      write({ type: 'PEER_CONNECTED', peer: c.peer, at: Date.now() })
      c.once('close', () => write({ type: 'PEER_DISCONNECTED', peer: c.peer, at: Date.now() }))
    })
    listener.on('refused', (r: { peer: string; reason: string }) => write({ type: 'PEER_REFUSED', ...r, at: Date.now() }))
    const report = (e: SettlerEvent) => process.stderr.write(this.jsonEnabled() ? JSON.stringify({ watcher: e }) + '\n' : `watcher: ${e.kind} ${e.channelId.slice(0, 18)}: ${e.detail}\n`)
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    const settler = s.watch({ intervalSeconds: flags['watch-interval'] ?? redeemPolicy(this.walletConf.get('redeem')).interval, closeMargin: 0 }, report)
    const { payTo, ...where } = await s.serveInfo()
    const info = { url: listener.url, spsp: listener.spsp, payTo, network: this.walletNetwork.caip2, ...where }
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify(info) + '\n')
    else this.log(`BTP peer on ${listener.url} (${info.network}), claims paid to ${payTo}; SPSP for ILP senders at ${listener.spsp}. Ctrl-C stops it.`)
    const queued = held
    held = undefined
    for (const e of queued) write(e)
    await stopped
    settler.stop()
    await listener.close()
    if (out && out !== process.stdout) await new Promise<void>((r) => (out as NodeJS.WritableStream).end(() => r()))
  }
}
