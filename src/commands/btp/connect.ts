import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { connectBtp } from '../../core/transports/btp/index.js'

export default class BtpConnect extends BaseCommand<typeof BtpConnect> {
  static override summary = 'Connect to a BTP peer (btp+ws://name:secret@host:port) and stay connected, printing what happens.'
  static override description =
    'Authenticates with the URL\'s name and secret (RFC 23 auth), then prints one line per event (with --json a JSON line: ' +
    '{"type":"CONNECTED"|"DISCONNECTED"|"PREPARE"|"CLAIM",…}) until interrupted or the peer closes the connection (exit 6). ' +
    'ILP Prepares from the peer are answered with a Reject F02 and claims are refused (this side takes claims with `channels btp listen`).'
  static override examples = ['<%= config.bin %> btp connect btp+ws://alice:s3cret@127.0.0.1:7768 --json']
  static override args = { url: Args.string({ required: true, description: 'The peer: btp+ws://name:secret@host:port.' }) }

  async run(): Promise<void> {
    const { args } = await this.parse(BtpConnect)
    const print = (e: Record<string, unknown>) => (this.jsonEnabled() ? process.stdout.write(JSON.stringify(e) + '\n') : this.log(Object.entries(e).map(([k, v]) => `${k}=${String(v)}`).join(' ')))
    const conn = await connectBtp(args.url, {
      handlers: {
        prepare: async (p) => {
          print({ type: 'PREPARE', amount: p.amount, destination: p.destination, at: Date.now() })
          return { code: 'F02', triggeredBy: 'private.channels', message: 'No route from this peer.', data: Buffer.alloc(0) }
        },
      },
    })
    print({ type: 'CONNECTED', url: args.url.replace(/\/\/[^@]*@/, '//'), at: Date.now() })
    const stopped = new Promise<'signal' | 'closed'>((resolve) => {
      process.once('SIGINT', () => resolve('signal'))
      process.once('SIGTERM', () => resolve('signal'))
      conn.once('close', () => resolve('closed'))
    })
    const why = await stopped
    print({ type: 'DISCONNECTED', at: Date.now() })
    conn.close()
    if (why === 'closed') process.exitCode = 6
  }
}
