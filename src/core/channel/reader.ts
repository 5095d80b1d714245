/**
 * The read-only half of the channel manager: finding channels and computing their
 * status from the database. It loads no chain library, so commands that only read
 * (`status`, `list`, `voucher list|best`) start fast; {@link ChannelManager} extends it.
 */
import type { Config, NetworkConfig } from '../config.js'
import type { Store, ChannelRecord, VoucherRecord } from '../store/index.js'
import type { ChannelState } from './state.js'
import { spentAcrossLanes } from './voucher.js'
import { NotFoundError, UsageError } from '../errors.js'

/** What `status` reports (after Lotus `PaychStatus`). Amounts in base units. */
export interface ChannelStatus {
  channel: ChannelRecord
  /** Sum of the latest voucher amount of every lane (what the payee can redeem). */
  spent: bigint
  /** `deposit − spent − reserved` (minus the family's close reserve): what a payment without a reservation can still use. */
  available: bigint
  /** Number of vouchers stored. */
  vouchers: number
  /** Best voucher per lane (lanes superseded by a merge left out). */
  best: VoucherRecord[]
}

/** A wallet that is not a key of config.json: its name (recorded on its channels) and its address. */
export interface WalletIdentity {
  name: string
  address: string
}

/** Whether a channel id starts with a user's prefix (with or without `0x`, any case), as `channels.find` matches. */
export const idMatchesPrefix = (prefix: string, id: string): boolean => id.startsWith(prefix.toLowerCase().replace(/^(0x)?/, '0x'))

/** Base units of a channel's deposit that no payment may spend (the family's `ChannelFamily.closeReserve`). */
export type CloseReserve = (c: ChannelRecord) => bigint

export class ChannelReader {
  /**
   * @param closeReserve - what the network's family holds back from every deposit (`ChannelFamily.closeReserve`);
   *   default none. A family's manager overrides {@link ChannelReader.closeReserve} instead.
   */
  constructor(
    readonly config: Config,
    readonly store: Store,
    readonly network: NetworkConfig & { name: string },
    readonly keyName?: string,
    private readonly reserveOf: CloseReserve = () => 0n,
    /** A wallet handed in by a library user (`PaymentChannelManager`) instead of a key of config.json. */
    readonly identity?: WalletIdentity,
  ) {}

  /** The name channel rows record as this wallet's key (`key_name`): the identity's, else the config key's. */
  get keyLabel(): string {
    return this.identity?.name ?? this.config.key(this.keyName).name
  }

  /** Base units of `c`'s deposit that no payment may spend (Bitcoin: the close fee; EVM: 0). */
  closeReserve(c: ChannelRecord): bigint {
    return this.reserveOf(c)
  }

  /** Our address (from config; does not unlock the key). */
  get address(): string {
    // Read once: a key's address never changes, and config.json is re-read whenever it changed on disk.
    return this.identity?.address ?? (this.keyAddress ??= this.config.key(this.keyName).address)
  }

  private keyAddress?: string

  /**
   * Finds a channel by unique id prefix on this network.
   * @throws {NotFoundError} @throws {UsageError} ambiguous prefix
   */
  channel(prefix: string): ChannelRecord {
    return this.store.channels.find(prefix, this.network.caip2)
  }

  /**
   * A channel and every voucher stored for it, in the store's order (lane, then nonce).
   * @throws {NotFoundError} @throws {UsageError} ambiguous prefix
   */
  vouchersOf(prefix: string): { channel: ChannelRecord; vouchers: VoucherRecord[] } {
    const channel = this.channel(prefix)
    return { channel, vouchers: this.store.vouchers.list(channel.network, channel.id) }
  }

  /** Status of a channel from the local database (Lotus `PaychStatus`). */
  statusOf(c: ChannelRecord): ChannelStatus {
    const best = this.store.vouchers.effectivePerLane(c.network, c.id)
    const spent = spentAcrossLanes(best)
    // Funds set aside by `reserve` are not available to a payment made without the reservation (core/channel/funds.ts).
    return { channel: c, spent, available: availableOf(c.deposit, spent + c.reserved, this.closeReserve(c)), vouchers: this.store.vouchers.count(c.network, c.id), best }
  }

  /**
   * The channel a user names on the command line (`pay`, `status`, `sync`, `close`): an
   * http(s) URL names the merchant — the newest open outbound channel bound to the URL's
   * origin (any path; two1's client API named channels by merchant URL) — and anything
   * else is a channel id or unique prefix of one.
   * @param target - e.g. `0x3f2a`, `http://127.0.0.1:4021/weather`
   * @throws {NotFoundError} no channel with that prefix, or no open channel bound to the origin (exit 2, saying what to do)
   * @throws {UsageError} an ambiguous prefix, or an http(s) URL that does not parse
   * @example reader.resolve('http://127.0.0.1:4021/weather') // the channel `buy` opened to that merchant
   */
  resolve(target: string): ChannelRecord {
    if (!/^https?:\/\//i.test(target)) return this.channel(target)
    let origin: string
    try {
      origin = new URL(target).origin
    } catch {
      throw new UsageError(`Invalid URL "${target}".`)
    }
    const c = this.boundTo(origin)
    if (!c) {
      throw new NotFoundError(`No open channel is bound to ${origin} on network "${this.network.name}".`, {
        metaMessages: [
          'A channel is bound to a merchant by `channels buy <url>`, or by `channels open <payee> <amount> --url <merchant endpoint>`.',
          'Name a channel that is not open (or not bound) by its id: `channels list` shows them.',
        ],
      })
    }
    return c
  }

  /** The newest open outbound channel bound to a merchant at `origin` (e.g. `http://127.0.0.1:4021`), if any. */
  boundTo(origin: string): ChannelRecord | undefined {
    return this.store.channels
      .list({ network: this.network.caip2, direction: 'outbound', state: 'open' })
      .find((c) => c.endpoint !== undefined && new URL(c.endpoint).origin === origin)
  }

  list(filter: { direction?: 'outbound' | 'inbound'; state?: ChannelState } = {}): ChannelStatus[] {
    return this.store.channels.list({ network: this.network.caip2, ...filter }).map((c) => this.statusOf(c))
  }
}

/**
 * What a channel can still pay, base units: `deposit − spent − reserve`, at least 0.
 * @param reserve - what the family holds back from the deposit ({@link ChannelReader.closeReserve})
 * @example availableOf(1_000_000n, 9000n, 344n) // 990656n
 */
export function availableOf(deposit: bigint, spent: bigint, reserve: bigint): bigint {
  const left = deposit - spent - reserve
  return left > 0n ? left : 0n
}

/** First 10 hex digits of an id, for messages. */
export function short(id: string): string {
  return id.slice(0, 10)
}
