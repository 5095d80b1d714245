import { BaseCommand } from '../../cli/base.js'
import { channelArg } from '../../cli/voucher.js'
import { UsageError } from '../../core/errors.js'

export default class LaneNew extends BaseCommand<typeof LaneNew> {
  static override summary = 'Allocate a new lane on an outbound channel and print its number.'
  static override description =
    'The manager seed\'s AllocateLane (Lotus PaychAllocateLane): a lane that no voucher of the channel uses and that no ' +
    'earlier `lane new` handed out, recorded so two processes never get the same lane. Lane 0 is the default lane of ' +
    '`pay` and `buy`, so allocated lanes start at 1. Pay on it with `voucher create --lane N` or `pay --lane N`. ' +
    'Bitcoin channels have one lane (exit 2).'
  static override examples = ['<%= config.bin %> lane new 0x3f2a', '<%= config.bin %> lane new 0x3f2a --json']
  static override args = { channel: channelArg }

  async run() {
    const { args } = await this.parse(LaneNew)
    const s = await this.scheme()
    if (!s.allocateLane) throw new UsageError(s.unsupported('lane'))
    const r = await s.allocateLane(args.channel)
    this.log(String(r.lane))
    return { channelId: r.channelId, lane: r.lane.toString() }
  }
}
