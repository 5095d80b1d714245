/**
 * Base of every command: the shared flags (`--json`, `--network`, `--rpc-url`, `--key`),
 * lazy access to the wallet (config, store, manager), and the one place that maps
 * errors to exit codes and to the `--json` error object
 * (`{status, error: {name, code, message, details, data}}`, Salesforce
 * `computeErrorCode` style).
 */
import { Args, Command, Flags, Interfaces } from '@oclif/core'
import { Config, preloadConf } from '../core/config.js'
import { Store } from '../core/store/index.js'
import { families } from '../families/index.js'
import type { ChannelFamily, ChannelScheme, MerchantLink } from '../core/scheme/index.js'
import { ChannelReader } from '../core/channel/reader.js'
import { ChannelsError, ExitCode } from '../core/errors.js'
import { formatAmount } from '../core/units.js'
import type { Asset } from '../core/asset.js'

/** `--wide` of the commands that print tables: whole ids, addresses and amounts. */
/** A command's `<channel>` argument: a channel id or a unique prefix of one. */
export const channelArg = Args.string({ required: true, description: 'Channel id or unique prefix.' })

export const wideFlag = Flags.boolean({ char: 'w', summary: 'Show whole ids, addresses and amounts (tables are cut to fit 80 columns).' })

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = { [name: string]: any }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = { [name: string]: any }

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    network: Flags.string({ char: 'n', summary: 'Network name from config (default: the configured default, "devnet").', helpGroup: 'GLOBAL' }),
    'rpc-url': Flags.string({ summary: 'JSON-RPC URL overriding the network\'s.', env: 'CHANNELS_RPC_URL', helpGroup: 'GLOBAL' }),
    key: Flags.string({ char: 'k', summary: 'Key to use (default: the default key).', helpGroup: 'GLOBAL' }),
    quiet: Flags.boolean({ char: 'q', summary: 'No progress lines on stderr (--json implies it).', helpGroup: 'GLOBAL' }),
  }

  protected flags!: BaseFlags<T>
  private walletConfig?: Config
  private walletStore?: Store
  private walletReader?: ChannelReader
  private walletScheme?: ChannelScheme
  private walletNet?: ReturnType<Config['network']>

  /** Before 20.19, Node.js cannot require() conf when a command first writes the config: load it now. */
  protected override async init(): Promise<void> {
    await super.init()
    await preloadConf()
  }

  /** Parses like oclif, and keeps the flags for the wallet accessors below. */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const out = await super.parse<F, B, A>(options, argv)
    this.flags = out.flags as unknown as BaseFlags<T>
    return out
  }

  /** The wallet's config under `$CHANNELS_HOME`. */
  protected get walletConf(): Config {
    this.walletConfig ??= new Config()
    return this.walletConfig
  }

  /** The wallet database (opened on first use). */
  protected get store(): Store {
    this.walletStore ??= Store.open(this.walletConf.home)
    return this.walletStore
  }

  /** The network of `--network`/`--rpc-url`, resolved once (config is not rewritten under a running command). */
  protected get walletNetwork(): ReturnType<Config['network']> {
    const f = this.flags as unknown as { network?: string; 'rpc-url'?: string }
    this.walletNet ??= this.walletConf.network(f.network, f['rpc-url'])
    return this.walletNet
  }

  private walletArgs(): [Config, Store, ReturnType<Config['network']>, string | undefined] {
    return [this.walletConf, this.store, this.walletNetwork, (this.flags as unknown as { key?: string }).key]
  }

  /** Read-only access to channels for `--network`/`--key` (loads no chain library). */
  protected get reader(): ChannelReader {
    this.walletReader ??= this.walletScheme?.reader ?? new ChannelReader(...this.walletArgs(), families[this.walletNetwork.kind].closeReserve)
    return this.walletReader
  }

  /** The chain family of `--network` (its static part: loads no chain library). */
  protected get channelFamily(): ChannelFamily {
    return families[this.walletNetwork.kind]
  }

  /**
   * The wallet of `--network`/`--rpc-url`/`--key` on its chain family (core/scheme): what
   * every command that acts on a channel calls. Loads the family's chain library on demand.
   */
  protected async scheme(): Promise<ChannelScheme> {
    if (!this.walletScheme) {
      const [config, store, network, key] = this.walletArgs()
      this.walletScheme = await families[network.kind].load({ config, store, network, key, merchant: lazyHttpMerchant })
    }
    return this.walletScheme
  }

  /**
   * A progress line on stderr (opening a channel, waiting for a transaction), also when
   * stderr is not a terminal, so long waits show in CI logs; none with `--quiet` or `--json`.
   */
  protected progress(message: string): void {
    if (!this.jsonEnabled() && !(this.flags as unknown as { quiet?: boolean } | undefined)?.quiet) process.stderr.write(`${message}\n`)
  }

  /**
   * What an amount on `--network` counts (`ChannelFamily.asset`): the token a channel's
   * `asset` names, or by default the network's native coin, whose units amount arguments
   * are read in (`parseAmount(…, this.assetOf())`: wei/gwei/eth on EVM, sat/btc/ltc on Bitcoin).
   */
  protected assetOf(asset?: string): Asset {
    return this.channelFamily.asset(this.walletNetwork, asset)
  }

  /**
   * An amount typed for `what` on `--network` (`ChannelFamily.parseAmount`): base units or a
   * unit of the native coin, or (EVM) of a token the network's config names (`0.001usdc`);
   * with `asset` (a `--asset` value or a channel's asset) only in that asset.
   * @returns `value` in base units; `asset`: the token's address, undefined for the native coin
   * @throws {UsageError} exit 2
   */
  protected parseAmountOn(input: string, what: string, asset?: string): { value: bigint; asset?: string } {
    return this.channelFamily.parseAmount(this.walletNetwork, input, what, asset)
  }

  /**
   * The asset an `--asset` value names on `--network` (a name from its config such as `usdc`, a token
   * address, or the native coin's name), as a channel's `asset`: the token's address, undefined for the native coin.
   * @throws {UsageError} exit 2: an unknown name (or, on Bitcoin, any token)
   */
  protected assetFlag(value: string): string | undefined {
    return this.parseAmountOn('0', '--asset', value).asset
  }

  /**
   * An amount typed for the channel `prefix` names, in that channel's asset (`0.5usdc` on a USDC
   * channel; base units always). A prefix naming no stored channel (a merchant URL for `pay`) counts
   * the native coin (or the token its unit names).
   * @returns base units of the channel's asset
   * @throws {UsageError} exit 2: a malformed amount or a unit of another asset
   */
  protected channelAmount(prefix: string, input: string, what: string): bigint {
    let asset: string | undefined
    try {
      asset = this.reader.channel(prefix).asset
    } catch {
      asset = undefined // resolved (and refused if need be) by the command's own lookup
    }
    return this.parseAmountOn(input, what, asset).value
  }

  /** An amount on `--network` for people (`0.1 ETH`, `1,000 wei`, `100,000 sat`); `asset` is a channel's. */
  protected amount(value: bigint, asset?: string): string {
    return formatAmount(value, this.assetOf(asset))
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const code = exitCodeOf(err)
    process.exitCode = code
    if (this.jsonEnabled()) {
      this.logJson({ status: code, error: errorJson(err) })
      return
    }
    if (err instanceof ChannelsError) {
      process.stderr.write(`Error: ${err.message}\n`)
      return
    }
    if (err.oclif) throw err // parse errors: let oclif print usage help
    process.stderr.write(`Error: ${err.message}\n`)
    if (process.env.DEBUG) process.stderr.write(`${err.stack}\n`)
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    const manager = this.walletScheme?.reader
    const backend = manager && (manager as unknown as { backendInstance?: { provider?: { destroy(): void } } }).backendInstance
    backend?.provider?.destroy()
    this.walletStore?.close()
    return super.finally(err)
  }
}

/**
 * The http402 transport's merchant calls, loaded (undici, the x402 codecs) only when a
 * command first posts to or delivers to a merchant: `pay --no-deliver`, `open`, `collect`
 * and the like never load them.
 */
const lazyHttpMerchant: MerchantLink = {
  get: async (url) => (await import('../core/transports/http402/merchant.js')).get(url),
  post: async (...args) => (await import('../core/transports/http402/merchant.js')).post(...args),
  deliver: async (...args) => (await import('../core/transports/http402/merchant.js')).deliverVoucher(...args),
}

/** Exit code for any error (DESIGN §9). */
export function exitCodeOf(err: { exitCode?: number; oclif?: { exit?: number } }): number {
  if (err instanceof ChannelsError) return err.exitCode
  if (err.oclif?.exit !== undefined) return err.oclif.exit === 0 ? 0 : ExitCode.usage
  return ExitCode.unexpected
}

/** The `error` object of `--json` output. */
export function errorJson(err: Error): Record<string, unknown> {
  if (err instanceof ChannelsError) {
    return { name: err.name, code: err.code, message: err.shortMessage, details: err.details, hints: err.metaMessages, data: err.data }
  }
  return { name: err.name, code: 'UNEXPECTED', message: err.message }
}
