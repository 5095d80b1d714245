/**
 * Typed errors for the whole core. Every error the CLI can show derives from
 * {@link ChannelsError}, which carries a namespaced `name`, a stable `code`, the
 * process exit code of DESIGN §9, and optional `details` / `metaMessages` that say
 * what to do next. Commands map errors to exit codes and `--json` error objects in
 * one place (`src/cli/base.ts`).
 */

/** Exit codes of DESIGN §9. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  priceAboveMax: 3,
  paymentRefused: 4,
  insufficientFunds: 5,
  networkUnreachable: 6,
  keystoreUnavailable: 7,
  channelState: 8,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface ChannelsErrorOptions {
  /** Extra human-readable detail (one line). */
  details?: string
  /** Hints printed under the message, e.g. what to run next. */
  metaMessages?: string[]
  cause?: unknown
  /** Structured data for `--json` (amounts as decimal strings). */
  data?: Record<string, unknown>
}

/** Base of every error the core throws on purpose (viem `BaseError` shape). */
export class ChannelsError extends Error {
  override name = 'ChannelsError'
  readonly shortMessage: string
  readonly details?: string
  readonly metaMessages: string[]
  readonly data: Record<string, unknown>
  /** Stable machine code, e.g. `INSUFFICIENT_FUNDS`. */
  code = 'UNEXPECTED'
  /** Process exit code (DESIGN §9). */
  exitCode: ExitCode = ExitCode.unexpected

  constructor(shortMessage: string, options: ChannelsErrorOptions = {}) {
    const lines = [shortMessage]
    if (options.details) lines.push(`Details: ${options.details}`)
    if (options.metaMessages?.length) lines.push(...options.metaMessages)
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause })
    this.shortMessage = shortMessage
    this.details = options.details
    this.metaMessages = options.metaMessages ?? []
    this.data = options.data ?? {}
  }
}

/** Bad command-line input or a bad value in a file or header we were given. Exit 2. */
export class UsageError extends ChannelsError {
  override name = 'UsageError'
  override code = 'USAGE'
  override exitCode: ExitCode = ExitCode.usage
}

/** The 402 asks more than `--max-price` allows. Exit 3. */
export class PriceTooHighError extends ChannelsError {
  override name = 'Buy.PriceTooHighError'
  override code = 'PRICE_ABOVE_MAX'
  override exitCode: ExitCode = ExitCode.priceAboveMax
}

/** The merchant refused our payment. Exit 4. */
export class PaymentRefusedError extends ChannelsError {
  override name = 'Buy.PaymentRefusedError'
  override code = 'PAYMENT_REFUSED'
  override exitCode: ExitCode = ExitCode.paymentRefused
}

/**
 * Not enough funds in a channel or a wallet (Lotus `ErrInsufficientFunds`).
 * `shortfall` is in base units (wei, satoshis).
 */
export class InsufficientFundsError extends ChannelsError {
  override name = 'Channel.InsufficientFundsError'
  override code = 'INSUFFICIENT_FUNDS'
  override exitCode: ExitCode = ExitCode.insufficientFunds
  readonly shortfall: bigint
  constructor(message: string, shortfall: bigint, options: ChannelsErrorOptions = {}) {
    super(message, { ...options, data: { shortfall: shortfall.toString(), ...options.data } })
    this.shortfall = shortfall
  }
}

/** RPC node or merchant unreachable, or answering for the wrong chain. Exit 6. */
export class NetworkError extends ChannelsError {
  override name = 'Network.UnreachableError'
  override code = 'NETWORK'
  override exitCode: ExitCode = ExitCode.networkUnreachable
}

/** OS keychain or encrypted key file unusable (locked, missing, wrong passphrase). Exit 7. */
export class KeystoreError extends ChannelsError {
  override name = 'Keys.KeystoreError'
  override code = 'KEYSTORE'
  override exitCode: ExitCode = ExitCode.keystoreUnavailable
}

/** The channel's state forbids the operation (e.g. collect before settleAt). Exit 8. */
export class ChannelStateError extends ChannelsError {
  override name = 'Channel.StateError'
  override code = 'CHANNEL_STATE'
  override exitCode: ExitCode = ExitCode.channelState
}

/** A record that should exist does not (unknown channel id, unknown key). Exit 2. */
export class NotFoundError extends UsageError {
  override name = 'NotFoundError'
  override code = 'NOT_FOUND'
}

/** The local database is unusable: newer than this binary, corrupt or read-only. Exit 1. */
export class StoreError extends ChannelsError {
  override name = 'Store.Error'
  override code = 'STORE'
}

/** A voucher refused by `voucher check`/`voucher add`. Exit 2 (bad input). */
export class InvalidVoucherError extends UsageError {
  override name = 'Voucher.InvalidVoucherError'
  override code = 'INVALID_VOUCHER'
}
