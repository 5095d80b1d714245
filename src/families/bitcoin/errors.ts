/**
 * Typed errors of the Bitcoin-family channel scripts and transactions. Each rule
 * the payee checks on a payment has its own class, so callers (the paywall, the
 * tests) can tell them apart by `name` without parsing messages.
 */
import { ChannelsError, ExitCode, UsageError, type ChannelsErrorOptions } from '../../core/errors.js'

/** A redeem script that is not the two1 channel script (bad opcode, pubkey or expiry). Exit 2. */
export class InvalidRedeemScriptError extends UsageError {
  override name = 'Bitcoin.InvalidRedeemScriptError'
  override code = 'BITCOIN_INVALID_REDEEM_SCRIPT'
}

/** Bad parameters given to a builder (key not in the script, amounts that do not add up). Exit 2. */
export class InvalidChannelParametersError extends UsageError {
  override name = 'Bitcoin.InvalidChannelParametersError'
  override code = 'BITCOIN_INVALID_PARAMETERS'
}

/**
 * Base of every refusal of a payment transaction by {@link verifyPaymentTransaction}.
 * Exit 4 (payment refused). `reason` is a short stable tag, also in `data.reason`.
 */
export class PaymentTransactionError extends ChannelsError {
  override name = 'Bitcoin.PaymentTransactionError'
  override code = 'BITCOIN_PAYMENT_REFUSED'
  override exitCode: ExitCode = ExitCode.paymentRefused
  readonly reason: string
  constructor(message: string, reason: string, options: ChannelsErrorOptions = {}) {
    super(message, { ...options, data: { reason, ...options.data } })
    this.reason = reason
  }
}

/** The transaction hex does not decode. */
export class MalformedTransactionError extends PaymentTransactionError {
  override name = 'Bitcoin.MalformedTransactionError'
}

/** The transaction spends something other than exactly the channel deposit. */
export class WrongInputError extends PaymentTransactionError {
  override name = 'Bitcoin.WrongInputError'
}

/** The scriptSig / witness is not `<payer sig> OP_TRUE <redeem script>` for this channel. */
export class WrongSpendScriptError extends PaymentTransactionError {
  override name = 'Bitcoin.WrongSpendScriptError'
}

/** The payer's signature is missing, not by the payer's key, not low-S DER, or does not commit to this transaction. */
export class InvalidSignatureError extends PaymentTransactionError {
  override name = 'Bitcoin.InvalidSignatureError'
}

/** The payer signed with a sighash type other than SIGHASH_ALL. */
export class SighashTypeError extends PaymentTransactionError {
  override name = 'Bitcoin.SighashTypeError'
}

/** No output pays the payee's channel key with the expected script type, or several do. */
export class PayeeOutputError extends PaymentTransactionError {
  override name = 'Bitcoin.PayeeOutputError'
}

/** More outputs than the payee output and one payer change output. */
export class UnexpectedOutputError extends PaymentTransactionError {
  override name = 'Bitcoin.UnexpectedOutputError'
}

/** The payee amount is not above the previous payment's. */
export class AmountNotIncreasedError extends PaymentTransactionError {
  override name = 'Bitcoin.AmountNotIncreasedError'
}

/** The payee amount grew by less than the price. */
export class AmountBelowPriceError extends PaymentTransactionError {
  override name = 'Bitcoin.AmountBelowPriceError'
}

/** An output is below Bitcoin Core's dust threshold: the transaction would not relay. */
export class DustOutputError extends PaymentTransactionError {
  override name = 'Bitcoin.DustOutputError'
}

/** The fee (deposit minus outputs) is below the floor: the close might not confirm in time. */
export class FeeTooLowError extends PaymentTransactionError {
  override name = 'Bitcoin.FeeTooLowError'
}

/** The fee is above the cap (bitcoinjs-style absurd-fee guard). */
export class FeeTooHighError extends PaymentTransactionError {
  override name = 'Bitcoin.FeeTooHighError'
}

/** nLockTime ≠ 0 or a non-final input sequence: the payee could not close at once. */
export class TimeLockedPaymentError extends PaymentTransactionError {
  override name = 'Bitcoin.TimeLockedPaymentError'
}

/**
 * A transaction the chain's nodes would not relay although it is valid: a version other
 * than 1 or 2, or a change output to a non-standard script (Bitcoin Core `IsStandardTx`).
 */
export class NonStandardTransactionError extends PaymentTransactionError {
  override name = 'Bitcoin.NonStandardTransactionError'
}

/** The outputs add up to more than the deposit. */
export class OverspendError extends PaymentTransactionError {
  override name = 'Bitcoin.OverspendError'
}
