/**
 * The payee's checks on a half-signed payment transaction (two1's "merchant
 * verifies and saves the transaction"), one typed error per rule.
 *
 * Relay rule: the payee's close must relay on the chain's nodes, not only be valid —
 * version 1 or 2, outputs above the chain's dust threshold (its dust relay fee: 3 sat/vB
 * on Bitcoin, 30 on Litecoin), a change output to a standard script (P2PKH, P2SH,
 * P2WPKH, P2WSH) — or the payee could not close before the payer's refund.
 *
 * Time-lock rule: a payment must be final at once — nLockTime 0 and input
 * sequence 0xffffffff. A lower sequence is refused even with nLockTime 0: with
 * version ≥ 2 it would be a BIP68 relative lock that could hold the payee's close
 * past the expiry, and the builder never writes one.
 */
import { Transaction, opcodes, script as bscript } from 'bitcoinjs-lib'
import { ecc } from './ecc.js'
import {
  AmountBelowPriceError, AmountNotIncreasedError, DustOutputError, FeeTooHighError, FeeTooLowError, InvalidSignatureError,
  MalformedTransactionError, NonStandardTransactionError, OverspendError, PayeeOutputError, SighashTypeError, TimeLockedPaymentError,
  UnexpectedOutputError, WrongInputError, WrongSpendScriptError,
} from './errors.js'
import { keyOutputScript, parseRedeemScript, toBytes, toHex, type BytesLike, type KeyOutputType } from './script.js'
import { SEQUENCE_FINAL, dustThreshold, estimateVsize, hashToTxid, txidToHash, type DepositOutpoint } from './spend.js'

/** Default fee floor: Bitcoin Core's default minimum relay fee, 1 sat/vB. */
export const DEFAULT_MIN_FEE_RATE = 1
/** Default fee cap: bitcoinjs' `Psbt` default `maximumFeeRate`, 5000 sat/vB. */
export const DEFAULT_MAX_FEE_RATE = 5000

/** What {@link verifyPaymentTransaction} checks a payment against. */
export interface VerifyPaymentParams {
  /** The channel's redeem script. */
  redeemScript: BytesLike
  /** The deposit the payment must spend, and only it. */
  deposit: DepositOutpoint
  /** The payment transaction (hex), signed by the payer only. */
  paymentTx: string
  /** Whether the deposit is P2SH (two1) rather than P2WSH. */
  p2sh?: boolean
  /** How the payee is paid: P2WPKH (default) or P2PKH of the payee key in the script, or an explicit output script. */
  payeeOutput?: KeyOutputType | Uint8Array
  /** The payee amount of the best payment so far, in satoshis (default 0): the new one must be above it. */
  previousAmount?: bigint
  /** The least the payee amount must grow by, in satoshis (default 0). */
  price?: bigint
  /** Fee floor, in sat/vB of the fully signed close (default 1). */
  minFeeRate?: number
  /** Fee cap, in sat/vB of the fully signed close (default 5000). */
  maxFeeRate?: number
  /** Absolute fee cap, in satoshis; replaces the rate cap when given. */
  maxFee?: bigint
  /** The chain's dust relay fee, sat/vB (default Bitcoin's 3; Litecoin's is 30): outputs below its dust threshold are refused. */
  dustRelayFee?: number
}

/** A payment the payee accepted. */
export interface VerifiedPayment {
  /** What the payee gets, in satoshis. */
  payeeAmount: bigint
  /** What goes back to the payer, in satoshis (0 without a change output). */
  payerChange: bigint
  /** Deposit minus outputs, in satoshis. */
  fee: bigint
  /** Index of the payee output. */
  payeeOutputIndex: number
  /** The payer's DER signature with its sighash byte. */
  payerSignature: Uint8Array
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => toHex(a) === toHex(b)

/** Whether an output script is one of the templates every node relays as change: P2PKH, P2SH, P2WPKH, P2WSH. */
function isStandardChangeScript(s: Uint8Array): boolean {
  const { OP_DUP, OP_HASH160, OP_EQUALVERIFY, OP_CHECKSIG, OP_EQUAL, OP_0 } = opcodes
  if (s.length === 25) return s[0] === OP_DUP && s[1] === OP_HASH160 && s[2] === 20 && s[23] === OP_EQUALVERIFY && s[24] === OP_CHECKSIG
  if (s.length === 23) return s[0] === OP_HASH160 && s[1] === 20 && s[22] === OP_EQUAL
  if (s.length === 22 || s.length === 34) return s[0] === OP_0 && s[1] === s.length - 2
  return false
}

function decodeTx(hex: string): Transaction {
  try {
    return Transaction.fromHex(hex)
  } catch (cause) {
    throw new MalformedTransactionError('The payment transaction does not decode.', 'decode', { cause })
  }
}

/** The payer signature out of `<payer sig> OP_TRUE <redeem script>`, in a scriptSig (P2SH) or witness (P2WSH). */
function payerSignatureOf(tx: Transaction, redeemScript: Uint8Array, p2sh: boolean): Uint8Array {
  const input = tx.ins[0]!
  let sig: Uint8Array | number | undefined
  if (p2sh) {
    if (input.witness.length > 0) throw new WrongSpendScriptError('A P2SH payment carries a witness.', 'layout')
    const chunks = bscript.decompile(input.script)
    if (!chunks || chunks.length !== 3 || !bscript.isPushOnly(chunks)) {
      throw new WrongSpendScriptError('The scriptSig is not <payer sig> OP_TRUE <redeem script>.', 'layout')
    }
    if (chunks[1] !== opcodes.OP_1) throw new WrongSpendScriptError('The payment does not take the IF (payee) branch.', 'branch')
    if (!(chunks[2] instanceof Uint8Array) || !bytesEqual(chunks[2], redeemScript)) {
      throw new WrongSpendScriptError('The payment spends with another redeem script.', 'redeem-script')
    }
    sig = chunks[0]
  } else {
    if (input.script.length > 0) throw new WrongSpendScriptError('A P2WSH payment carries a scriptSig.', 'layout')
    if (input.witness.length !== 3) {
      throw new WrongSpendScriptError('The witness is not [payer sig, 0x01, witness script].', 'layout')
    }
    if (!bytesEqual(input.witness[1]!, Uint8Array.of(1))) {
      throw new WrongSpendScriptError('The payment does not take the IF (payee) branch.', 'branch')
    }
    if (!bytesEqual(input.witness[2]!, redeemScript)) {
      throw new WrongSpendScriptError('The payment spends with another witness script.', 'redeem-script')
    }
    sig = input.witness[0]
  }
  if (!(sig instanceof Uint8Array) || sig.length === 0) throw new InvalidSignatureError('The payer signature is missing.', 'missing')
  return sig
}

function checkPayerSignature(tx: Transaction, sig: Uint8Array, redeemScript: Uint8Array, payerPubkey: Uint8Array, deposit: DepositOutpoint, p2sh: boolean) {
  let decoded: { signature: Uint8Array; hashType: number }
  try {
    decoded = bscript.signature.decode(sig)
  } catch (cause) {
    throw new InvalidSignatureError('The payer signature is not strict DER.', 'encoding', { cause })
  }
  if (decoded.hashType !== Transaction.SIGHASH_ALL) {
    throw new SighashTypeError(`The payer signed with sighash type 0x${decoded.hashType.toString(16)}, not SIGHASH_ALL.`, 'sighash', {
      data: { hashType: decoded.hashType },
    })
  }
  const hash = p2sh
    ? tx.hashForSignature(0, redeemScript, Transaction.SIGHASH_ALL)
    : tx.hashForWitnessV0(0, redeemScript, deposit.value, Transaction.SIGHASH_ALL)
  if (!ecc.verify(hash, payerPubkey, decoded.signature)) {
    throw new InvalidSignatureError('The signature is not the payer’s on this transaction.', 'not-payer')
  }
  if (!ecc.verify(hash, payerPubkey, decoded.signature, true)) {
    throw new InvalidSignatureError('The payer signature has a high S (non-standard, BIP146 LOW_S).', 'high-s')
  }
}

/**
 * Checks a half-signed payment as the payee before storing it: it spends exactly
 * the deposit through the IF branch with the payer's SIGHASH_ALL signature, is
 * final at once, pays the payee more than before (by at least `price`, above
 * dust), keeps outputs within the deposit and a fee between the floor and the cap.
 * @param params - The channel, the payment and the policy (amounts in satoshis, fee rates in sat/vB).
 * @returns The payee amount, the payer change and the fee, in satoshis.
 * @throws {MalformedTransactionError} The hex does not decode.
 * @throws {WrongInputError} Not exactly one input, or not the deposit outpoint.
 * @throws {TimeLockedPaymentError} nLockTime ≠ 0 or sequence ≠ 0xffffffff.
 * @throws {WrongSpendScriptError} Not the IF-branch layout with this redeem script.
 * @throws {InvalidSignatureError} Missing, non-DER, high-S, or not the payer's.
 * @throws {SighashTypeError} Not SIGHASH_ALL.
 * @throws {OverspendError} Outputs above the deposit.
 * @throws {PayeeOutputError} No output (or several) paying the payee's script.
 * @throws {UnexpectedOutputError} More than a payee and a change output.
 * @throws {AmountNotIncreasedError} Payee amount not above `previousAmount`.
 * @throws {AmountBelowPriceError} Payee amount grew by less than `price`.
 * @throws {NonStandardTransactionError} Version not 1 or 2, or change to a non-standard script.
 * @throws {DustOutputError} An output below the chain's dust threshold (`dustRelayFee`).
 * @throws {FeeTooLowError} Fee below `minFeeRate` × the close's vsize.
 * @throws {FeeTooHighError} Fee above `maxFee` or `maxFeeRate` × vsize.
 * @throws {InvalidRedeemScriptError} The redeem script itself is not a channel script.
 * @example
 * verifyPaymentTransaction({ redeemScript, deposit, paymentTx, previousAmount: 1000n, price: 500n })
 * // { payeeAmount: 1500n, payerChange: 97500n, fee: 1000n, payeeOutputIndex: 0, payerSignature: Uint8Array(71) }
 */
export function verifyPaymentTransaction(params: VerifyPaymentParams): VerifiedPayment {
  const redeemScript = toBytes(params.redeemScript, 'redeem script')
  const { payeePubkey, payerPubkey } = parseRedeemScript(redeemScript)
  const { deposit } = params
  const p2sh = params.p2sh ?? false
  const tx = decodeTx(params.paymentTx)

  if (tx.ins.length !== 1) {
    throw new WrongInputError(`The payment has ${tx.ins.length} inputs; it must spend the deposit alone.`, 'inputs')
  }
  const input = tx.ins[0]!
  if (!bytesEqual(input.hash, txidToHash(deposit.txid)) || input.index !== deposit.vout) {
    throw new WrongInputError('The payment spends another outpoint than the deposit.', 'outpoint', {
      details: `${hashToTxid(input.hash)}:${input.index} instead of ${deposit.txid}:${deposit.vout}`,
    })
  }
  if (tx.version !== 1 && tx.version !== 2) {
    throw new NonStandardTransactionError(`The payment has version ${tx.version}; nodes relay versions 1 and 2 only.`, 'version', { data: { version: tx.version } })
  }
  if (tx.locktime !== 0) {
    throw new TimeLockedPaymentError(`The payment is time-locked (nLockTime ${tx.locktime}).`, 'locktime', { data: { locktime: tx.locktime } })
  }
  if (input.sequence !== SEQUENCE_FINAL) {
    throw new TimeLockedPaymentError(`The payment input is not final (sequence 0x${input.sequence.toString(16)}).`, 'sequence', {
      data: { sequence: input.sequence },
    })
  }

  const payerSignature = payerSignatureOf(tx, redeemScript, p2sh)
  checkPayerSignature(tx, payerSignature, redeemScript, payerPubkey, deposit, p2sh)

  const total = tx.outs.reduce((sum, out) => sum + out.value, 0n)
  if (total > deposit.value) {
    throw new OverspendError(`The outputs (${total} sat) exceed the deposit (${deposit.value} sat).`, 'overspend', {
      data: { outputs: total.toString(), deposit: deposit.value.toString() },
    })
  }

  const wanted = params.payeeOutput ?? 'p2wpkh'
  const payeeScript = wanted instanceof Uint8Array ? wanted : keyOutputScript(payeePubkey, wanted)
  const matches = tx.outs.flatMap((out, i) => (bytesEqual(out.script, payeeScript) ? [i] : []))
  if (matches.length === 0) {
    const otherType = typeof wanted === 'string' ? keyOutputScript(payeePubkey, wanted === 'p2wpkh' ? 'p2pkh' : 'p2wpkh') : undefined
    const wrongScript = otherType && tx.outs.some((out) => bytesEqual(out.script, otherType))
    throw new PayeeOutputError(
      wrongScript ? `The payee key is paid, but not with ${wanted}.` : 'No output pays the payee.',
      wrongScript ? 'wrong-script' : 'missing',
      { details: `expected output script ${toHex(payeeScript)}` },
    )
  }
  if (matches.length > 1) throw new PayeeOutputError('Several outputs pay the payee.', 'duplicate')
  if (tx.outs.length > 2) {
    throw new UnexpectedOutputError(`The payment has ${tx.outs.length} outputs; only the payee and the payer change are allowed.`, 'outputs')
  }
  const payeeOutputIndex = matches[0]!
  const payeeOut = tx.outs[payeeOutputIndex]!
  const changeOut = tx.outs.find((_, i) => i !== payeeOutputIndex)
  const payeeAmount = payeeOut.value
  const previousAmount = params.previousAmount ?? 0n
  const price = params.price ?? 0n

  if (payeeAmount <= previousAmount) {
    throw new AmountNotIncreasedError(`The payee amount ${payeeAmount} sat is not above the previous ${previousAmount} sat.`, 'not-increased', {
      data: { amount: payeeAmount.toString(), previous: previousAmount.toString() },
    })
  }
  if (payeeAmount - previousAmount < price) {
    throw new AmountBelowPriceError(`The payment adds ${payeeAmount - previousAmount} sat; the price is ${price} sat.`, 'below-price', {
      data: { added: (payeeAmount - previousAmount).toString(), price: price.toString() },
    })
  }
  if (changeOut && !isStandardChangeScript(changeOut.script)) {
    throw new NonStandardTransactionError('The change output pays a non-standard script (nodes relay P2PKH, P2SH, P2WPKH and P2WSH change).', 'change-script', {
      details: `output script ${toHex(changeOut.script)}`,
    })
  }
  for (const [who, out] of [['payee', payeeOut], ['change', changeOut]] as const) {
    const dust = out && dustThreshold(out.script, params.dustRelayFee)
    if (out && out.value < dust!) {
      throw new DustOutputError(`The ${who} output (${out.value} sat) is below the dust threshold (${dust} sat).`, `${who}-dust`)
    }
  }

  const fee = deposit.value - total
  const vsize = estimateVsize(tx, 2, redeemScript, p2sh)
  const minFee = BigInt(Math.ceil(vsize * (params.minFeeRate ?? DEFAULT_MIN_FEE_RATE)))
  const maxFee = params.maxFee ?? BigInt(Math.floor(vsize * (params.maxFeeRate ?? DEFAULT_MAX_FEE_RATE)))
  if (fee < minFee) {
    throw new FeeTooLowError(`The fee ${fee} sat is below the floor ${minFee} sat (${vsize} vB).`, 'fee-low', {
      data: { fee: fee.toString(), minFee: minFee.toString() },
    })
  }
  if (fee > maxFee) {
    throw new FeeTooHighError(`The fee ${fee} sat is above the cap ${maxFee} sat (${vsize} vB).`, 'fee-high', {
      data: { fee: fee.toString(), maxFee: maxFee.toString() },
    })
  }
  return { payeeAmount, payerChange: changeOut?.value ?? 0n, fee, payeeOutputIndex, payerSignature }
}
