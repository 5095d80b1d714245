import { Args, Flags } from '@oclif/core'
import { UsageError } from '../core/errors.js'
import { BaseCommand } from '../cli/base.js'
import { parseAmount } from '../core/units.js'
import { toJson } from '../core/scheme/index.js'

export default class Lookup extends BaseCommand<typeof Lookup> {
  static override summary = 'Find an open outbound channel to a payee that has free funds.'
  static override description =
    'The manager seed\'s Lookup (Lotus PaychGet without creating one): prints the id of the open outbound channel to ' +
    '<payee> with the most funds available (confirmed − spent − reserved), at least --min-available. --json lists ' +
    'every such channel, most available first. Exits 2 when there is none.'
  static override examples = [
    '<%= config.bin %> lookup 0x1EDc2c8395D5861004eC6ADC7aca1E8395B7E439',
    '<%= config.bin %> lookup 0x1EDc2c8395D5861004eC6ADC7aca1E8395B7E439 --min-available 0.001eth --json',
  ]
  static override args = { payee: Args.string({ required: true, description: 'The payee: EVM address, or Bitcoin channel pubkey (hex).' }) }
  static override flags = { 'min-available': Flags.string({ summary: 'Least available funds the channel must have (default: any).' }) }

  async run() {
    const { args, flags } = await this.parse(Lookup)
    const min = flags['min-available'] === undefined ? undefined : parseAmount(flags['min-available'], '--min-available', this.assetOf())
    const s = await this.scheme()
    if (!s.lookup) throw new UsageError(s.unsupported('funds'))
    const found = await s.lookup(args.payee, min)
    this.log(found[0].channelId)
    return { channelId: found[0].channelId, channels: found.map(toJson) }
  }
}
