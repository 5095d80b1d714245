/**
 * The ILP plugin (DESIGN §12, issue 14 §1): one BTP peer of an Interledger node, settled over
 * our payment channels, in the shape `ilp-connector` loads for an account (the ledger plugin
 * interface version 2, interledgerjs' `ilp-plugin` / IL-RFC 24 draft): `connect`,
 * `disconnect`, `isConnected`, `sendData`, `sendMoney`, `registerDataHandler`,
 * `registerMoneyHandler` and their `deregister…`, and the events `connect` / `disconnect`.
 *
 * A thin adapter on core/transports/btp, no protocol of its own:
 * - the link is a BTP client connection (peer.ts `connectBtp`, RFC 23) to `options.server`,
 *   e.g. a `channels btp listen`;
 * - `sendData(prepare)` sends the serialized ILPv4 Prepare (RFC 27) in a BTP Message's `ilp`
 *   entry and resolves with the peer's serialized Fulfill or Reject, byte for byte;
 * - `sendMoney(amount)` pays `amount` base units in one claim on `options.channel`
 *   (settle.ts `ClaimSender`: the channel's next lane-0 voucher, committed to the store
 *   before the claim leaves, in a BTP Transfer of that amount; an amount that cannot leave
 *   before its voucher is made stays owed and goes once reconnected); with `options.settleThreshold`
 *   the plugin also pays by itself once that much is owed for Prepares the peer fulfilled
 *   (for use without a connector's balance middleware);
 * - the peer's Prepares go to the registered data handler (none: Reject F02); its claims are
 *   verified and committed through the wallet's payee (receiver.ts, the x402 payee's rules)
 *   and what a Transfer paid is then handed to the money handler (a duplicate: nothing);
 *   without a payee (`payee: false`) a claim is refused with a BTP Error F00.
 * - Reconnect: when the socket drops while connected, it reconnects with backoff (1 s doubling
 *   to 30 s) and at the next `sendData`/`sendMoney`; a claim left unanswered by the drop is
 *   resent, same messageId, before the next one (ClaimSender), and a receiver that had
 *   committed it answers it as a duplicate, so nothing is lost or counted twice.
 *
 * Errors thrown by `sendData`/`sendMoney` carry `ilpErrorCode` (what `ilp-connector` turns into
 * a Reject): T01 the peer unreachable, the peer's BTP Error code otherwise, F01 for a buffer that
 * is not a Prepare. Amounts are decimal strings on this interface (the connector's), bigint base
 * units inside.
 */
import { EventEmitter } from 'node:events'
import * as Ilp from 'ilp-packet'
import BtpPacket from 'btp-packet'
import { z } from 'zod'
import { ChannelsError, NetworkError, UsageError } from '../core/errors.js'
import { BtpError, connectBtp, fulfills, parseBtpUrl, type BtpConnection, type BtpHandlers, type ClaimReceipt, type ClaimSender, type ClaimSent } from '../core/transports/btp/index.js'
import { PaymentChannelManager, type IlpSettlement, type ManagerOptions } from '../manager/index.js'

/** Backoff of automatic reconnects: the first wait and the longest, milliseconds. */
export const RECONNECT_MIN_MS = 1000
export const RECONNECT_MAX_MS = 30_000

/** The ledger-plugin handlers `ilp-connector` registers: serialized ILP packets in and out; amounts as decimal strings. */
export type DataHandler = (data: Buffer) => Promise<Buffer>
export type MoneyHandler = (amount: string) => Promise<void>

/** A logger as `ilp-connector` hands one (`api.log`, `ilp-logger`); every method optional here. */
export interface PluginLog {
  info?(...args: unknown[]): void
  warn?(...args: unknown[]): void
  error?(...args: unknown[]): void
  debug?(...args: unknown[]): void
}

/**
 * A decimal string of base units (no sign, no leading zeros).
 * `ilp-connector` config values are strings; a bigint is accepted from a program.
 */
const baseUnits = z.union([z.string().regex(/^(0|[1-9]\d{0,76})$/, 'expected a decimal string of base units'), z.bigint().nonnegative()]).transform((v) => BigInt(v))

/** The plugin's own options, JSON-able (a connector's `accounts.<id>.options`). Unknown keys (the connector's `_store`, `_log`) are ignored. */
export const IlpPluginOptionsSchema = z.object({
  /** The peer: `btp+ws://name:secret@host:port` (`name` is our account at the peer and the claims' senderId). */
  server: z.string().refine((s) => /^btp\+wss?:\/\//.test(s), 'expected btp+ws://name:secret@host:port'),
  /** The outbound channel (id or unique prefix) to the peer's payee that `sendMoney` pays on; without it, `sendMoney` is refused. */
  channel: z.string().min(1).optional(),
  /** Base units owed for fulfilled outgoing Prepares before the plugin sends a claim by itself; absent: only `sendMoney` pays. */
  settleThreshold: baseUnits.optional(),
  /** This node's ILP address: `triggeredBy` of the Rejects the plugin makes (F02 no data handler). */
  ilpAddress: z.string().min(1).max(1023).default('private.channels'),
  /** The payee's terms for the peer's claims (as `channels btp listen`'s flags), or false: take no claims (F00). */
  payee: z.union([
    z.literal(false),
    z.object({
      /** ERC-20 token address the claims' channels must be in; default the native coin. */
      asset: z.string().optional(),
      /** Smallest deposit of a new inbound channel, base units. Default 0. */
      minDeposit: baseUnits.optional(),
      /** Smallest settle delay of a new inbound channel, seconds. Default 3600. */
      minSettleDelay: z.number().int().min(1).optional(),
    }).strict(),
  ]).default({}),
}).passthrough()

/**
 * Options of {@link ChannelsIlpPlugin}: {@link IlpPluginOptionsSchema}'s fields and the wallet,
 * either as data (a connector's config: `chain`, `wallet`, `store`, as `PaymentChannelManager`
 * takes them) or handed in by a program (`manager`, or a `settlement` from `manager.ilpSettlement()`).
 */
export type IlpPluginOptions = z.input<typeof IlpPluginOptionsSchema> & (
  | ManagerOptions
  | { manager: PaymentChannelManager }
  | { settlement: IlpSettlement }
)

/** An error `ilp-connector` turns into a Reject with this code (its error-handler reads `ilpErrorCode`). */
export class IlpPluginError extends ChannelsError {
  override name = 'Ilp.PluginError'
  override code = 'ILP_PLUGIN'
  constructor(readonly ilpErrorCode: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, data: { ilpErrorCode } })
  }
}

/** The ILP code of a failed exchange with the peer. */
function coded(err: unknown): unknown {
  if (err instanceof NetworkError) return Object.assign(err, { ilpErrorCode: 'T01' })
  if (err instanceof BtpError) return Object.assign(err, { ilpErrorCode: err.btpCode })
  return err
}

/**
 * An ILP plugin (version 2) whose peer is a BTP node and whose settlement is claims on our
 * payment channels (see the module comment). Emits `connect`, `disconnect`, and
 * `settlementError` (Error) when a claim its own `settleThreshold` sent failed.
 * @example
 * // ilp-connector config: accounts.merchant = { relation: 'peer', plugin: 'channels/ilp', assetCode: 'ETH', assetScale: 18,
 * //   balance: { maximum: '0', settleThreshold: '-1000000', settleTo: '0' },
 * //   options: { server: 'btp+ws://conn:s3cret@merchant:7768', channel: '0x3f2a…', chain: {kind: 'evm', caip2: 'eip155:1', rpcUrl}, wallet: {name: 'conn', privateKey}, store: '/var/lib/conn/channels.db' } }
 */
export class ChannelsIlpPlugin extends EventEmitter {
  /** The ledger plugin interface version `ilp-connector` checks (`Plugin.version === 2`). */
  static readonly version = 2

  private readonly o: z.output<typeof IlpPluginOptionsSchema>
  private readonly account: string
  private readonly log: PluginLog
  private readonly settlementLoader: () => Promise<IlpSettlement>
  private settlement?: Promise<IlpSettlement>
  private sender?: ClaimSender
  private conn?: BtpConnection
  private linking?: Promise<BtpConnection>
  /** connect() was called and disconnect() not since: a drop is followed by a reconnect. */
  private wanted = false
  private retry?: NodeJS.Timeout
  private attempts = 0
  private dataHandler?: DataHandler
  private moneyHandler?: MoneyHandler

  /**
   * @param options - see {@link IlpPluginOptions}; nothing is opened or connected before {@link connect}
   * @param api - what `ilp-connector` hands a plugin: `log` is used for settlement failures; `store` is not used (claims live in the wallet's store)
   * @throws {UsageError} an invalid option (the first issue named), or neither a wallet nor a manager
   */
  constructor(options: IlpPluginOptions, api: { log?: PluginLog; store?: unknown } = {}) {
    super()
    const r = IlpPluginOptionsSchema.safeParse(options)
    if (!r.success) throw new UsageError(`Invalid ILP plugin options: ${r.error.issues[0].path.join('.') || 'options'}: ${r.error.issues[0].message}.`)
    this.o = r.data
    this.account = parseBtpUrl(this.o.server).account
    this.log = api.log ?? (options as { _log?: PluginLog })._log ?? {}
    const policy = this.o.payee === false ? false : {
      asset: this.o.payee.asset, ...(this.o.payee.minDeposit !== undefined ? { minDeposit: this.o.payee.minDeposit } : {}),
      ...(this.o.payee.minSettleDelay !== undefined ? { minSettleDelay: this.o.payee.minSettleDelay } : {}),
    }
    const w = options as Partial<ManagerOptions> & { manager?: PaymentChannelManager; settlement?: IlpSettlement }
    if (w.settlement) {
      const given = w.settlement
      this.settlementLoader = async () => given
    } else if (w.manager) {
      const m = w.manager
      this.settlementLoader = () => m.ilpSettlement(policy)
    } else if (w.chain && w.wallet && w.store) {
      const { chain, wallet, store } = w
      let own: PaymentChannelManager | undefined // one store handle for the plugin's life, however often loading is retried
      this.settlementLoader = () => (own ??= new PaymentChannelManager({ chain, wallet, store })).ilpSettlement(policy)
    } else {
      throw new UsageError('The ILP plugin needs a wallet: options chain, wallet and store (as PaymentChannelManager takes them), or a manager, or a settlement.')
    }
  }

  /**
   * Loads the wallet (first time) and connects to the peer; resolves once authenticated, emitting `connect`.
   * @throws {BtpError} the peer refused the auth · {NetworkError} unreachable · {UsageError} the wallet's family has no claims
   */
  async connect(): Promise<void> {
    this.wanted = true
    await this.link()
  }

  /** Closes the connection and stops reconnecting; resolves once closed (`disconnect` emitted). */
  async disconnect(): Promise<void> {
    this.wanted = false
    clearTimeout(this.retry)
    this.retry = undefined
    await this.linking?.catch(() => {})
    const c = this.conn
    if (!c) return
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.close()
    await closed
  }

  isConnected(): boolean {
    return this.conn !== undefined
  }

  /**
   * Sends a serialized ILP Prepare to the peer (in a BTP Message) and resolves with its
   * serialized Fulfill or Reject. With `settleThreshold`, a Fulfill whose fulfillment hashes to
   * the condition counts the Prepare's amount as owed to the peer.
   * @throws {IlpPluginError} F01: `data` is not a Prepare, or the answer carries no ILP packet ·
   *   {NetworkError} (T01) not connected and reconnecting failed · {BtpError} the peer's error
   */
  async sendData(data: Buffer): Promise<Buffer> {
    let prepare: Ilp.IlpPrepare
    try {
      prepare = Ilp.deserializeIlpPrepare(data)
    } catch (err) {
      throw new IlpPluginError('F01', 'sendData takes a serialized ILP Prepare.', { cause: err })
    }
    let answer: { protocolName: string; data: Buffer }[]
    try {
      const c = await this.link()
      answer = await c.message([{ protocolName: 'ilp', contentType: BtpPacket.MIME_APPLICATION_OCTET_STREAM, data }])
    } catch (err) {
      throw coded(err)
    }
    const reply = answer.find((d) => d.protocolName === 'ilp')?.data
    if (!reply || (reply[0] !== Ilp.Type.TYPE_ILP_FULFILL && reply[0] !== Ilp.Type.TYPE_ILP_REJECT)) throw new IlpPluginError('F01', 'The peer\'s answer carries no ILP Fulfill or Reject.')
    if (this.o.settleThreshold !== undefined && reply[0] === Ilp.Type.TYPE_ILP_FULFILL && BigInt(prepare.amount) > 0n) {
      const { fulfillment } = Ilp.deserializeIlpFulfill(reply)
      if (fulfills(fulfillment, prepare.executionCondition)) this.owe(BigInt(prepare.amount))
    }
    return reply
  }

  /**
   * Pays the peer `amount` base units in one claim on `options.channel` (the voucher committed
   * before the claim leaves); "0" pays nothing. Reconnects first if the socket dropped.
   * An amount that cannot leave before its voucher is made (not connected) stays owed and goes
   * with the next claim, or by itself once reconnected: `ilp-connector`'s balance middleware counts
   * a settlement as paid when it calls this, failure or not. With `settleThreshold`, what is owed
   * for fulfilled Prepares goes in the same claim.
   * @param amount - a decimal string, below 2^64 (a BTP Transfer's amount)
   * @throws {UsageError} no channel configured, or an amount that is not a decimal string below 2^64 ·
   *   {InsufficientFundsError} the channel lacks it (still owed) · {BtpError} the peer refused the claim ·
   *   {NetworkError} (T01) not connected (still owed), or the claim unanswered (resent before the next one)
   */
  async sendMoney(amount: string): Promise<void> {
    if (!/^(0|[1-9]\d{0,19})$/.test(String(amount)) || BigInt(amount) >= 1n << 64n) throw new UsageError(`sendMoney takes a decimal string of base units below 2^64, not ${String(amount).slice(0, 40)}.`)
    const n = BigInt(amount)
    if (n === 0n) return
    const sender = await this.claims()
    // If this fails, the claim below fails before its voucher is made, and the amount stays owed.
    await this.link().catch(() => {})
    try {
      await sender.fulfilled(n)
      if (this.o.settleThreshold !== undefined) await sender.settle()
    } catch (err) {
      throw coded(err)
    }
  }

  /** @throws {UsageError} a data handler is registered already */
  registerDataHandler(handler: DataHandler): void {
    if (this.dataHandler) throw new UsageError('A data handler is registered already.')
    this.dataHandler = handler
  }

  deregisterDataHandler(): void {
    this.dataHandler = undefined
  }

  /** @throws {UsageError} a money handler is registered already */
  registerMoneyHandler(handler: MoneyHandler): void {
    if (this.moneyHandler) throw new UsageError('A money handler is registered already.')
    this.moneyHandler = handler
  }

  deregisterMoneyHandler(): void {
    this.moneyHandler = undefined
  }

  /** Base units owed to the peer and not yet sent in a claim: fulfilled Prepares below `settleThreshold`, or a `sendMoney` made while disconnected. */
  get owed(): bigint {
    return this.sender?.owedNow ?? 0n
  }

  /** The claims sender (made once, so an unanswered claim survives a reconnect). */
  private async claims(): Promise<ClaimSender> {
    if (this.sender) return this.sender
    if (!this.o.channel) throw new UsageError('The ILP plugin pays with claims on options.channel; none is configured.')
    const s = await this.load()
    this.sender ??= s.sender(() => this.conn ?? (() => {
      throw new NetworkError('The BTP connection is closed.')
    })(), { channel: this.o.channel, senderId: this.account || 'channels', threshold: this.o.settleThreshold ?? 0n })
    return this.sender
  }

  /** Counts a fulfilled Prepare; the claim it may trigger is sent in the background. */
  private owe(amount: bigint): void {
    this.settleInBackground(async () => (await this.claims()).fulfilled(amount))
  }

  /** Runs a settlement nobody awaits: a failure is logged and emitted as `settlementError` (what was not sent stays owed). */
  private settleInBackground(settle: () => Promise<ClaimSent | undefined>): void {
    settle()
      .then((sent) => sent && this.log.debug?.(`settled ${sent.paid} with claim ${sent.claim.messageId}`))
      .catch((err: Error) => {
        this.log.error?.(`settlement failed: ${err.message}`)
        this.emit('settlementError', err)
      })
  }

  private load(): Promise<IlpSettlement> {
    this.settlement ??= this.settlementLoader().catch((err) => {
      this.settlement = undefined
      throw err
    })
    return this.settlement
  }

  /** The live connection, connecting (once at a time) if there is none. */
  private link(): Promise<BtpConnection> {
    if (this.conn) return Promise.resolve(this.conn)
    if (!this.wanted) return Promise.reject(new NetworkError('The ILP plugin is not connected: call connect() first.'))
    this.linking ??= (async () => {
      const settlement = await this.load()
      if (this.o.channel) await this.claims()
      const c = await connectBtp(this.o.server, { handlers: this.handlers(settlement), ilpAddress: this.o.ilpAddress })
      if (!this.wanted) {
        c.close()
        throw new NetworkError('The ILP plugin was disconnected while connecting.')
      }
      this.conn = c
      this.attempts = 0
      c.once('close', () => {
        this.conn = undefined
        this.emit('disconnect')
        if (this.wanted) this.reconnectLater()
      })
      this.emit('connect')
      // What sendMoney could not send while the socket was down (threshold mode pays at its threshold).
      if (this.sender && this.o.settleThreshold === undefined && this.sender.owedNow > 0n) this.settleInBackground(() => this.sender!.settle())
      return c
    })().finally(() => (this.linking = undefined))
    return this.linking
  }

  /** Tries again after a backoff, until connected or disconnect() is called. */
  private reconnectLater(): void {
    if (this.retry || !this.wanted) return
    const wait = Math.min(RECONNECT_MIN_MS * 2 ** this.attempts++, RECONNECT_MAX_MS)
    this.retry = setTimeout(() => {
      this.retry = undefined
      this.link().catch((err: Error) => {
        this.log.warn?.(`reconnect failed: ${err.message}`)
        this.reconnectLater()
      })
    }, wait)
    this.retry.unref()
  }

  /** What the peer's packets reach: the data handler (Prepares) and the wallet's payee (claims). */
  private handlers(settlement: IlpSettlement): BtpHandlers {
    const receiver = settlement.receiver
    return {
      prepare: async (p) => {
        const handler = this.dataHandler
        if (!handler) return { code: 'F02', triggeredBy: this.o.ilpAddress, message: 'No data handler is registered.', data: Buffer.alloc(0) }
        try {
          return Ilp.deserializeIlpReply(await handler(Ilp.serializeIlpPrepare(p)))
        } catch (err) {
          return Ilp.errorToIlpReject(this.o.ilpAddress, err as never)
        }
      },
      claim: receiver && (async (entry, amount, peer) => {
        const receipt = (await receiver.handler(entry, amount, peer)) as ClaimReceipt
        const credited = BigInt(receipt.credited)
        if (!receipt.duplicate && credited > 0n && this.moneyHandler) {
          // The claim is committed: a money handler's failure (e.g. a connector's balance minimum) cannot undo it.
          await this.moneyHandler(credited.toString()).catch((err: Error) => this.log.error?.(`money handler failed for ${credited}: ${err.message}`))
        }
        return receipt
      }),
    }
  }
}
