/**
 * Channel repository: persists channel rows and nothing else (no chain, no rules).
 */
import type { Db } from './db.js'
import { StatementCache } from './statements.js'
import type { ChannelState } from '../channel/state.js'
import { NotFoundError, UsageError } from '../errors.js'

/** What a Bitcoin channel keeps besides the common fields (DESIGN §5). Hex strings; values in satoshis. */
export interface BitcoinChannelData {
  /** The two1 redeem script. */
  redeemScript: string
  /** Index of the channel output in the deposit transaction. */
  depositVout: number
  /** The whole deposit transaction (needed to spend a P2SH deposit, and by the payee to check it). */
  depositTx: string
  /** Payer: the fully signed refund, kept before the deposit was broadcast. */
  refundTx?: string
  /** P2SH (two1-compatible) rather than P2WSH. */
  p2sh: boolean
  /** Fee every payment leaves for the payee's close, satoshis (decimal string). */
  closeFee: string
  /**
   * The payee key's index on the merchant's BIP84 external chain (`m/84'/<coin>'/0'/0/<i>`):
   * the paywall offers a fresh child per channel (two1). Payee: the key that countersigns;
   * payer: echoed in the channel's payments. Absent = 0, the key's base channel key.
   */
  payeeIndex?: number
}

/** A channel as the wallet remembers it (DESIGN §3). */
export interface ChannelRecord {
  /** CAIP-2 network id. */
  network: string
  /** bytes32 hex channel id. */
  id: string
  direction: 'outbound' | 'inbound'
  payer: string
  payee: string
  /** Token address; the zero address means the native currency. */
  asset: string
  /** PaymentChannels contract address. */
  contract: string
  /** Confirmed deposit in base units (wei). */
  deposit: bigint
  /** Deposits sent but not yet mined, base units. */
  pendingDeposit: bigint
  /** Amount redeemed on chain, base units. */
  redeemed: bigint
  /** Payee: sum of prices served; payer: the last `charged` the payee reported. Base units. */
  charged: bigint
  /** Seconds between `settle` and `collect`. */
  settleDelay: number
  /** Unix seconds when the settlement period ends; undefined until settling. */
  settleAt?: number
  state: ChannelState
  /** Merchant endpoint (payer side), e.g. `http://host/.well-known/channels`. */
  endpoint?: string
  /** Our key on this channel. */
  keyName: string
  salt?: string
  openTx?: string
  closeTx?: string
  /** Bitcoin: unix seconds after which the payer can take the refund. */
  expiry?: number
  /** Bitcoin: the channel's scripts and transactions. */
  bitcoin?: BitcoinChannelData
  createdAt: number
  updatedAt: number
}

interface Row {
  network: string
  id: string
  direction: 'outbound' | 'inbound'
  payer: string
  payee: string
  asset: string
  contract: string
  deposit: string
  pending_deposit: string
  redeemed: string
  charged: string
  settle_delay: number
  settle_at: number | null
  state: ChannelState
  endpoint: string | null
  key_name: string
  salt: string | null
  open_tx: string | null
  close_tx: string | null
  expiry: number | null
  bitcoin: string | null
  created_at: number
  updated_at: number
}

function fromRow(r: Row): ChannelRecord {
  return {
    network: r.network,
    id: r.id,
    direction: r.direction,
    payer: r.payer,
    payee: r.payee,
    asset: r.asset,
    contract: r.contract,
    deposit: BigInt(r.deposit),
    pendingDeposit: BigInt(r.pending_deposit),
    redeemed: BigInt(r.redeemed),
    charged: BigInt(r.charged),
    settleDelay: r.settle_delay,
    settleAt: r.settle_at ?? undefined,
    state: r.state,
    endpoint: r.endpoint ?? undefined,
    keyName: r.key_name,
    salt: r.salt ?? undefined,
    openTx: r.open_tx ?? undefined,
    closeTx: r.close_tx ?? undefined,
    ...(r.expiry !== null ? { expiry: r.expiry } : {}),
    ...(r.bitcoin !== null ? { bitcoin: JSON.parse(r.bitcoin) as BitcoinChannelData } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

const now = () => Math.floor(Date.now() / 1000)

export class ChannelRepository {
  private readonly sql: StatementCache

  constructor(db: Db) {
    this.sql = new StatementCache(db)
  }

  /** Inserts a new channel. */
  insert(c: Omit<ChannelRecord, 'createdAt' | 'updatedAt' | 'pendingDeposit'> & { pendingDeposit?: bigint }): ChannelRecord {
    const t = now()
    this.sql
      .get(
        `INSERT INTO channels (network, id, direction, payer, payee, asset, contract, deposit, pending_deposit, redeemed, charged,
           settle_delay, settle_at, state, endpoint, key_name, salt, open_tx, close_tx, expiry, bitcoin, created_at, updated_at)
         VALUES (@network, @id, @direction, @payer, @payee, @asset, @contract, @deposit, @pendingDeposit, @redeemed, @charged,
           @settleDelay, @settleAt, @state, @endpoint, @keyName, @salt, @openTx, @closeTx, @expiry, @bitcoin, @t, @t)`,
      )
      .run({
        ...c,
        deposit: c.deposit.toString(),
        pendingDeposit: (c.pendingDeposit ?? 0n).toString(),
        redeemed: c.redeemed.toString(),
        charged: c.charged.toString(),
        settleAt: c.settleAt ?? null,
        endpoint: c.endpoint ?? null,
        salt: c.salt ?? null,
        openTx: c.openTx ?? null,
        closeTx: c.closeTx ?? null,
        expiry: c.expiry ?? null,
        bitcoin: c.bitcoin ? JSON.stringify(c.bitcoin) : null,
        t,
      })
    return { ...c, pendingDeposit: c.pendingDeposit ?? 0n, createdAt: t, updatedAt: t }
  }

  /** Updates some fields of a channel. */
  update(network: string, id: string, fields: Partial<Pick<ChannelRecord, 'deposit' | 'pendingDeposit' | 'redeemed' | 'charged' | 'settleAt' | 'state' | 'endpoint' | 'openTx' | 'closeTx'>>): void {
    const cols: Record<string, string> = {
      deposit: 'deposit', pendingDeposit: 'pending_deposit', redeemed: 'redeemed', charged: 'charged', settleAt: 'settle_at',
      state: 'state', endpoint: 'endpoint', openTx: 'open_tx', closeTx: 'close_tx',
    }
    const sets: string[] = []
    const params: Record<string, unknown> = { network, id, t: now() }
    for (const [k, v] of Object.entries(fields)) {
      sets.push(`${cols[k]} = @${k}`)
      params[k] = typeof v === 'bigint' ? v.toString() : (v ?? null)
    }
    if (!sets.length) return
    this.sql.get(`UPDATE channels SET ${sets.join(', ')}, updated_at = @t WHERE network = @network AND id = @id`).run(params)
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
