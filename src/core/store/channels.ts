/**
 * Channel repository: persists channel rows and nothing else (no chain). The one rule
 * it keeps is the state machine's (DESIGN §3): a row's state changes only through
 * {@link ChannelRepository.transition}, which applies `transition()` of channel/state.ts
 * inside the write transaction; `update()` cannot write `state`.
 */
import type { Db } from './db.js'
import { StatementCache } from './statements.js'
import { transition, type ChannelEvent, type ChannelState } from '../channel/state.js'
import { ChannelStateError, NotFoundError, StoreError, UsageError } from '../errors.js'
import { familyOfNetwork, type Family } from '../config-fields.js'
import type { z } from 'zod'

/**
 * A channel as the wallet remembers it (DESIGN §3): the fields every family has, plus the
 * family's own in `data` (one JSON column). `D` is the family's data type; shared code
 * holds a `ChannelRecord` (`data: unknown`) and leaves `data` to the family, whose accessor
 * (`evmChannel(c)`, `bitcoinChannel(c)` in src/families) checks `family` and `data`.
 */
export interface ChannelRecord<D = unknown> {
  /** CAIP-2 network id. */
  network: string
  /** Channel id, 0x-prefixed hex: the bytes32 contract id (EVM), `0x` + the deposit txid (Bitcoin). */
  id: string
  /** The chain family the channel lives on; says what `data` holds. */
  family: Family
  direction: 'outbound' | 'inbound'
  /** EVM: the payer's EIP-55 address; Bitcoin: the payer's compressed pubkey, hex. */
  payer: string
  /** EVM: the payee's EIP-55 address; Bitcoin: the payee's channel pubkey (compressed, hex). */
  payee: string
  /** EVM: token address, the zero address meaning the native currency; Bitcoin: `sat`. */
  asset: string
  /** Confirmed deposit in base units (wei, token units, satoshis). */
  deposit: bigint
  /** Deposits sent but not yet mined, base units. */
  pendingDeposit: bigint
  /**
   * Payer: funds set aside by `reserve` for payments not yet made (the Lotus FundManager meaning),
   * base units. A voucher made with the reservation consumes it; `available = confirmed − spent − reserved`.
   */
  reserved: bigint
  /** Payer: top-up asked for while a deposit was pending, sent as one deposit once it is mined; base units. */
  queued: bigint
  /** Payer: hash of the top-up deposit in flight (core/channel/funds.ts), if any. */
  pendingTx?: string
  /** Payer: the signed raw transaction of {@link pendingTx}, stored before broadcast so a restart rebroadcasts it. */
  pendingRaw?: string
  /** Payer: the next lane `allocateLane` may hand out (0 until one is allocated; allocated lanes start at 1). */
  nextLane: bigint
  /** Amount redeemed on chain, base units. */
  redeemed: bigint
  /** Payee: sum of prices served; payer: the last `charged` the payee reported. Base units. */
  charged: bigint
  /** Unix seconds when the settlement period ends; undefined until settling. */
  settleAt?: number
  state: ChannelState
  /** Merchant endpoint (payer side), e.g. `http://host/.well-known/channels`. */
  endpoint?: string
  /** Our key on this channel. */
  keyName: string
  /** The transaction that opened the channel (EVM: 0x hash; Bitcoin: the deposit txid). */
  openTx?: string
  /** The transaction that closed it (the payee's redeem, or the payer's refund). */
  closeTx?: string
  /** The family's own fields (JSON in the `data` column), e.g. EVM `{contract, settleDelay, salt}`. */
  data: D
  /** Unix seconds. */
  createdAt: number
  /** Unix seconds. */
  updatedAt: number
}

/**
 * A channel was handed to code of another family (a bug), or its `data` is not what its
 * family stores (a row written by hand or damaged). Exit 1.
 */
export class ChannelDataError extends StoreError {
  override name = 'Store.ChannelDataError'
}

/** Records whose `data` passed their family's schema once (records are read often, data never changes after insert). */
const checked = new WeakSet<object>()

/**
 * `c` typed with its family's data, after checking its `family` and (once per record read)
 * its `data` against the family's schema. Each family wraps it: `evmChannel(c)`, `bitcoinChannel(c)`.
 * @param schema - the family's zod schema of `data`
 * @returns `c` itself, typed
 * @throws {ChannelDataError} `c` is of another family, or its data does not match `schema`
 * @example channelOf(c, 'evm', EvmChannelDataSchema).data.settleDelay // 3600
 */
export function channelOf<D>(c: ChannelRecord, family: Family, schema: z.ZodType<D>): ChannelRecord<D> {
  if (c.family !== family) {
    throw new ChannelDataError(`Channel ${c.id.slice(0, 10)}… is a channel of the ${c.family} family, not ${family}.`, { data: { channelId: c.id, family: c.family, expected: family } })
  }
  const data = c.data
  if (typeof data !== 'object' || data === null || !checked.has(data)) {
    const r = schema.safeParse(data)
    if (!r.success) {
      const issue = r.error.issues[0]
      throw new ChannelDataError(`Channel ${c.id.slice(0, 10)}… has damaged ${family} data: ${issue ? `${issue.path.join('.') || 'data'}: ${issue.message}` : 'invalid'}.`, {
        data: { channelId: c.id, family },
      })
    }
    if (typeof data === 'object' && data !== null) checked.add(data)
  }
  return c as ChannelRecord<D>
}

/**
 * The columns `update()` and `transition()` write besides the state. `state?: never`
 * makes passing a state a type error even through a spread of a wider object: the
 * state moves only by an event (DESIGN §3).
 */
export type ChannelFields = Partial<Pick<ChannelRecord, 'deposit' | 'pendingDeposit' | 'redeemed' | 'charged' | 'settleAt' | 'endpoint' | 'openTx' | 'closeTx'
  | 'reserved' | 'queued' | 'pendingTx' | 'pendingRaw' | 'nextLane'>> & {
  state?: never
}

const COLUMNS: Record<keyof Omit<ChannelFields, 'state'>, string> = {
  deposit: 'deposit', pendingDeposit: 'pending_deposit', redeemed: 'redeemed', charged: 'charged', settleAt: 'settle_at',
  endpoint: 'endpoint', openTx: 'open_tx', closeTx: 'close_tx',
  reserved: 'reserved', queued: 'queued', pendingTx: 'pending_tx', pendingRaw: 'pending_raw', nextLane: 'next_lane',
}

/**
 * A state change was asked from a state the channel is no longer in: another process
 * (or an earlier step of this one) moved the row since the caller read it, so the
 * caller's decision rests on a stale read. Nothing is written. Exit 8.
 */
export class StaleChannelStateError extends ChannelStateError {
  override name = 'Channel.StaleStateError'
  constructor(
    readonly channelId: string,
    readonly expected: ChannelState,
    readonly actual: ChannelState,
    readonly events: readonly ChannelEvent[],
  ) {
    super(`Channel ${channelId.slice(0, 10)}… is ${actual}, not ${expected} as read; ${events.join(' + ')} was not applied.`, {
      data: { channelId, expected, actual, events },
      metaMessages: ['Another process changed the channel meanwhile; `channels status` shows it now.'],
    })
  }
}

interface Row {
  network: string
  id: string
  direction: 'outbound' | 'inbound'
  payer: string
  payee: string
  asset: string
  family: Family
  deposit: string
  pending_deposit: string
  redeemed: string
  charged: string
  settle_at: number | null
  state: ChannelState
  endpoint: string | null
  key_name: string
  open_tx: string | null
  close_tx: string | null
  data: string
  created_at: number
  updated_at: number
  reserved: string
  queued: string
  pending_tx: string | null
  pending_raw: string | null
  next_lane: number | bigint
}

function fromRow(r: Row): ChannelRecord {
  return {
    network: r.network,
    id: r.id,
    direction: r.direction,
    payer: r.payer,
    payee: r.payee,
    family: r.family,
    asset: r.asset,
    deposit: BigInt(r.deposit),
    pendingDeposit: BigInt(r.pending_deposit),
    reserved: BigInt(r.reserved),
    queued: BigInt(r.queued),
    pendingTx: r.pending_tx ?? undefined,
    pendingRaw: r.pending_raw ?? undefined,
    nextLane: BigInt(r.next_lane),
    redeemed: BigInt(r.redeemed),
    charged: BigInt(r.charged),
    settleAt: r.settle_at ?? undefined,
    state: r.state,
    endpoint: r.endpoint ?? undefined,
    keyName: r.key_name,
    openTx: r.open_tx ?? undefined,
    closeTx: r.close_tx ?? undefined,
    data: JSON.parse(r.data) as unknown,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

const now = () => Math.floor(Date.now() / 1000)

export class ChannelRepository {
  private readonly sql: StatementCache

  constructor(private readonly db: Db) {
    this.sql = new StatementCache(db)
  }

  /**
   * Inserts a new channel; `data` is stored as JSON (so it holds strings, numbers and
   * booleans: amounts in it are decimal strings).
   * @throws {SqliteError} a channel with this network and id exists already
   * @throws {StoreError} `family` is not the family of `network`'s CAIP-2 namespace (`familyOfNetwork`):
   *   the row would be read back by the wrong family, and its vouchers tagged by the other
   */
  insert<D>(c: Omit<ChannelRecord<D>, 'createdAt' | 'updatedAt' | 'pendingDeposit' | 'reserved' | 'queued' | 'nextLane'> & { pendingDeposit?: bigint }): ChannelRecord<D> {
    if (familyOfNetwork(c.network) !== c.family) throw new StoreError(`Cannot store a ${c.family} channel on network "${c.network}".`)
    const t = now()
    this.sql
      .get(
        `INSERT INTO channels (network, id, family, direction, payer, payee, asset, deposit, pending_deposit, redeemed, charged,
           settle_at, state, endpoint, key_name, open_tx, close_tx, data, created_at, updated_at)
         VALUES (@network, @id, @family, @direction, @payer, @payee, @asset, @deposit, @pendingDeposit, @redeemed, @charged,
           @settleAt, @state, @endpoint, @keyName, @openTx, @closeTx, @data, @t, @t)`,
      )
      .run({
        network: c.network, id: c.id, family: c.family, direction: c.direction, payer: c.payer, payee: c.payee, asset: c.asset,
        state: c.state, keyName: c.keyName,
        deposit: c.deposit.toString(),
        pendingDeposit: (c.pendingDeposit ?? 0n).toString(),
        redeemed: c.redeemed.toString(),
        charged: c.charged.toString(),
        settleAt: c.settleAt ?? null,
        endpoint: c.endpoint ?? null,
        openTx: c.openTx ?? null,
        closeTx: c.closeTx ?? null,
        data: JSON.stringify(c.data),
        t,
      })
    return { ...c, pendingDeposit: c.pendingDeposit ?? 0n, reserved: 0n, queued: 0n, nextLane: 0n, createdAt: t, updatedAt: t }
  }

  /**
   * Updates some fields of a channel; never its state (see {@link transition}).
   * @throws {StoreError} a field that is not a column this method writes (a bug)
   */
  update(network: string, id: string, fields: ChannelFields): void {
    const sets: string[] = []
    const params: Record<string, unknown> = { network, id, t: now() }
    for (const [k, v] of Object.entries(fields)) {
      const col = COLUMNS[k as keyof typeof COLUMNS]
      if (!col) throw new StoreError(`update() does not write "${k}"; a channel's state changes only through transition().`)
      sets.push(`${col} = @${k}`)
      params[k] = typeof v === 'bigint' ? v.toString() : (v ?? null)
    }
    if (!sets.length) return
    this.sql.get(`UPDATE channels SET ${sets.join(', ')}, updated_at = @t WHERE network = @network AND id = @id`).run(params)
  }

  /**
   * Moves a channel through the state machine (DESIGN §3) and writes `fields` with the
   * new state, atomically. Inside one `BEGIN IMMEDIATE` transaction (a savepoint when the
   * caller holds one already) it reads the row's state, applies each event in turn with
   * `transition()`, and writes with a compare-and-set on the state it read, so two
   * processes cannot both apply a transition from the same old state.
   *
   * `from` is the state the caller read and acted on. If the row has moved since:
   * - to exactly the state `events` lead to from `from`, another process recorded the
   *   same fact first (e.g. `channels list` saw the open mined while `open` waited for
   *   it): only `fields` are written;
   * - anywhere else, {@link StaleChannelStateError} and nothing is written.
   *
   * @param events - one event, or several applied in order as one change (e.g.
   *   `['settle', 'elapse']` when the chain shows a channel already past its settleAt)
   * @param fields - written with the state (amounts in base units)
   * @param from - the state the caller read; omitted, the events apply to whatever the row holds
   * @returns the channel as stored afterwards
   * @throws {IllegalTransitionError} the table forbids an event; nothing is written
   * @throws {StaleChannelStateError} the row is no longer in state `from`; nothing is written
   * @throws {NotFoundError} no such channel
   * @example
   * store.channels.transition(net, id, 'settle', { settleAt: 1767225600 }, 'open').state // 'settling'
   */
  transition(network: string, id: string, events: ChannelEvent | readonly [ChannelEvent, ...ChannelEvent[]], fields: ChannelFields = {}, from?: ChannelState): ChannelRecord {
    const list: readonly ChannelEvent[] = typeof events === 'string' ? [events] : events
    return this.db.transaction(() => {
      const row = this.sql.get('SELECT state FROM channels WHERE network = ? AND id = ?').get(network, id) as { state: ChannelState } | undefined
      if (!row) throw new NotFoundError(`No channel ${id} on ${network}.`)
      const current = row.state
      const start = from ?? current
      const target = list.reduce((state: ChannelState, event) => transition(state, event), start) // throws IllegalTransitionError before any write
      if (current !== start) {
        if (current !== target) throw new StaleChannelStateError(id, start, current, list)
        this.update(network, id, fields) // the same change is recorded already
      } else {
        const cas = this.sql
          .get('UPDATE channels SET state = @target, updated_at = @t WHERE network = @network AND id = @id AND state = @current')
          .run({ network, id, target, current, t: now() })
        if (cas.changes !== 1) throw new StaleChannelStateError(id, current, this.get(network, id)?.state ?? current, list)
        this.update(network, id, fields)
      }
      return this.get(network, id)!
    }).immediate()
  }

  get(network: string, id: string): ChannelRecord | undefined {
    const r = this.sql.get('SELECT * FROM channels WHERE network = ? AND id = ?').get(network, id) as Row | undefined
    return r && fromRow(r)
  }

  /**
   * Finds a channel by a unique prefix of its id (with or without `0x`).
   * @throws {NotFoundError} no channel matches
   * @throws {UsageError} the prefix matches several channels
   */
  find(prefix: string, network?: string): ChannelRecord {
    const p = prefix.toLowerCase().startsWith('0x') ? prefix.toLowerCase() : '0x' + prefix.toLowerCase()
    if (!/^0x[0-9a-f]{1,64}$/.test(p)) throw new UsageError(`Invalid channel id "${prefix}": expected hex.`)
    const rows = (network
      ? this.sql.get('SELECT * FROM channels WHERE network = ? AND substr(id, 1, ?) = ? LIMIT 2').all(network, p.length, p)
      : this.sql.get('SELECT * FROM channels WHERE substr(id, 1, ?) = ? LIMIT 2').all(p.length, p)) as Row[]
    if (rows.length === 0) {
      throw new NotFoundError(`No channel matches "${prefix}".`, { metaMessages: ['`channels list` shows your channels.'] })
    }
    if (rows.length > 1) throw new UsageError(`Channel id prefix "${prefix}" is ambiguous; give more digits.`)
    return fromRow(rows[0])
  }

  /** Lists channels, newest first, optionally filtered. */
  list(filter: { network?: string; direction?: 'outbound' | 'inbound'; state?: ChannelState; payee?: string; asset?: string } = {}): ChannelRecord[] {
    const where: string[] = []
    const params: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(filter)) {
      if (v === undefined) continue
      where.push(`${k} = @${k}`)
      params[k] = v
    }
    const sql = `SELECT * FROM channels ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id`
    return (this.sql.get(sql).all(params) as Row[]).map(fromRow)
  }
}
