/**
 * The buyer's choice of a hub (issue 12, DESIGN §11 "HTTP 402 through a hub"): a merchant's
 * `channel` entry may list hubs that pay it (`extra.hubs: [{endpoint, address}]`) with its public
 * key (`extra.payToPubkey`). A buyer whose channels to the merchant cannot pay the price pays
 * through the first listed hub it has a channel to that covers the price plus the hub's fee, the
 * fee within `--max-fee`; `buy --via <url>` names the hub instead (listed or not). The hub's own
 * description (`GET <hub>/`) is what is believed for its network, address and fee; the 402's
 * list only says where to ask. The family is reached only through {@link RoutedPayer}.
 */
import type { ChannelRecord } from '../../store/index.js'
import type { RoutedPayer } from '../../scheme/buyer.js'
import { defaultMaxFee, feeFor, readHubInfo, type HubInfo } from '../../channel/lock.js'
import { InsufficientFundsError, InvalidVoucherError, PriceTooHighError, UsageError } from '../../errors.js'
import { get } from './merchant.js'
import type { ChannelRequirement } from './protocol.js'

/** Listed hubs looked at, at most (the 402 is hostile input). */
const MAX_HUBS = 8

/** A hub the buyer pays through, and the channel to it that covers the price plus its fee. */
export interface HubChoice {
  /** The hub's URL, without a trailing slash. */
  endpoint: string
  info: HubInfo
  /** The hub's fee for the price, base units. */
  fee: bigint
  /** The highest fee allowed (`--max-fee`, default {@link defaultMaxFee} of the price), base units. */
  maxFee: bigint
  /** The buyer's channel to the hub that can pay price + fee. */
  channel: ChannelRecord
}

/** What the choice needs besides the family: the network, the price and the buyer's limits. */
export interface HubQuery {
  /** The buyer's CAIP-2 network. */
  network: string
  /** Base units. */
  price: bigint
  /** `buy --via`: the hub to pay through. */
  via?: string
  /** `buy --max-fee` (or config `buy.maxFee`), base units. */
  maxFee?: bigint
  /** Where `maxFee` came from, for the refusal: `--max-fee` (default) or `buy.maxFee`. */
  maxFeeKey?: string
  /** Awaits a step within the purchase's limits (`--max-time`), with progress. */
  within<T>(what: string, work: Promise<T>): Promise<T>
  /** Amounts for messages. */
  show(amount: bigint): string
}

/**
 * The hub to pay `entry` through, or undefined (then the buyer goes on as without hubs).
 * Listed hubs that fail a check (unreachable, another network or address than listed, a fee
 * above the bound, no channel covering price + fee) are skipped, their error in `skipped`.
 * @param skipped - receives why each listed hub this wallet has a channel to was not used (for the refusal when none is)
 * @throws {UsageError} `--via` names no http(s) URL, no hub, or a hub on another network
 * @throws {PriceTooHighError} `--via`: the hub's fee is above the bound · {InsufficientFundsError} `--via`: no channel to it covers price + fee
 * @throws {NetworkError} `--via`: the hub is unreachable
 */
export async function chooseHub(locks: RoutedPayer, entry: ChannelRequirement, q: HubQuery, skipped: { endpoint: string; error: Error }[] = []): Promise<HubChoice | undefined> {
  const maxFee = q.maxFee ?? defaultMaxFee(q.price)
  if (q.via !== undefined) return checkHub(locks, q, maxFee, viaEndpoint(q.via), undefined)
  if (typeof entry.extra.payToPubkey !== 'string' || !Array.isArray(entry.extra.hubs)) return undefined
  for (const listed of entry.extra.hubs.slice(0, MAX_HUBS) as unknown[]) {
    const h = listed as { endpoint?: unknown; address?: unknown } | null
    if (typeof h?.endpoint !== 'string' || typeof h.address !== 'string' || !/^https?:\/\//.test(h.endpoint)) continue
    // From the database only: a hub this wallet has no channel to is not even asked.
    if (!locks.payable(h.address, q.price)) continue
    try {
      return await checkHub(locks, q, maxFee, h.endpoint.replace(/\/+$/, ''), h.address)
    } catch (err) {
      skipped.push({ endpoint: h.endpoint, error: err as Error })
    }
  }
  return undefined
}

/** `--via`'s URL without a trailing slash. @throws {UsageError} not an http(s) URL */
function viaEndpoint(via: string): string {
  let protocol: string | undefined
  try {
    protocol = new URL(via).protocol
  } catch {
    /* below */
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`Invalid --via "${via}": expected the hub's http(s) URL.`)
  return via.replace(/\/+$/, '')
}

/** Asks the hub at `endpoint` for its terms and checks them against the buyer's. @throws as {@link chooseHub} with `--via` */
async function checkHub(locks: RoutedPayer, q: HubQuery, maxFee: bigint, endpoint: string, listedAddress: string | undefined): Promise<HubChoice> {
  const info = await q.within(`asking the hub ${endpoint} for its terms`, readHubInfo(get, endpoint)).catch((err: unknown) => {
    throw err instanceof InvalidVoucherError ? new UsageError(err.shortMessage) : err
  })
  if (info.network !== q.network) throw new UsageError(`The hub at ${endpoint} routes on ${info.network}, not on ${q.network}; choose its network with --network.`)
  if (listedAddress !== undefined && info.address.toLowerCase() !== listedAddress.toLowerCase()) {
    throw new UsageError(`The hub at ${endpoint} is ${info.address}, not ${listedAddress} as the merchant lists it.`)
  }
  const fee = feeFor({ base: info.feeBase, ppm: info.feePpm }, q.price)
  if (fee > maxFee) {
    throw new PriceTooHighError(`The hub ${endpoint} asks a fee of ${q.show(fee)} for ${q.show(q.price)}, above ${q.maxFeeKey ?? '--max-fee'} ${q.show(maxFee)}${q.maxFee === undefined ? ' (default: 5 % of the price)' : ''}.`, {
      data: { fee: fee.toString(), maxFee: maxFee.toString() },
      metaMessages: ['Raise --max-fee to pay it, or use another hub.'],
    })
  }
  const channel = locks.payable(info.address, q.price + fee)
  if (!channel) {
    throw new InsufficientFundsError(`No open channel to the hub ${info.address} can pay ${q.show(q.price + fee)} (the price plus the hub's fee ${q.show(fee)}).`, q.price + fee, {
      metaMessages: [`Open one: \`channels open ${info.address} <deposit> --url ${endpoint}\`, or top one up with \`channels fund\`.`],
    })
  }
  return { endpoint, info, fee, maxFee, channel }
}
