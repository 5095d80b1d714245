/**
 * The channel's transactions, built and signed as PSBTs with bitcoinjs: the
 * payer's refund (ELSE branch, after the expiry), the payer's half-signed
 * payment (IF branch) and the payee's countersignature. The payee's checks live
 * in verify.ts and are re-exported here.
 */
import { Transaction, address as baddress, type Signer } from 'bitcoinjs-lib'
import { InsufficientFundsError } from '../../core/errors.js'
import { InvalidChannelParametersError } from './errors.js'
import { BITCOIN_MAINNET, toBitcoinjsNetwork, type BitcoinNetworkParams } from './networks.js'
import { keyOutputScript, parseRedeemScript, toBytes, toHex, type BytesLike, type KeyOutputType } from './script.js'
import {
  ELSE_BRANCH, IF_BRANCH, SEQUENCE_FINAL, SEQUENCE_LOCKTIME, addDepositInput, dustThreshold, estimateVsize, finalizeDeposit,
  newPsbt, type DepositOutpoint,
} from './spend.js'
import { verifyPaymentTransaction, type VerifiedPayment, type VerifyPaymentParams } from './verify.js'

export { verifyPaymentTransaction, type VerifiedPayment, type VerifyPaymentParams }

/** What every channel spend needs. */
interface ChannelSpend {
  /** The channel's redeem script. */
  redeemScript: BytesLike
  /** The deposit output (with `txHex` when `p2sh`). */
  deposit: DepositOutpoint
  /** Whether the deposit is P2SH (two1) rather than P2WSH (default). */
  p2sh?: boolean
  /** Network parameters for addresses (default Bitcoin mainnet). */
  network?: BitcoinNetworkParams
}

function checkSigner(key: Signer, pubkey: Uint8Array, who: string): void {
  if (toHex(key.publicKey) !== toHex(pubkey)) {
    throw new InvalidChannelParametersError(`The ${who} key is not the ${who} key of the redeem script.`, {
      details: `${toHex(key.publicKey)} ≠ ${toHex(pubkey)}`,
    })
  }
}

const outputScript = (spec: KeyOutputType | Uint8Array, pubkey: Uint8Array) =>
  spec instanceof Uint8Array ? spec : keyOutputScript(pubkey, spec)

/**
 * Builds and signs the refund: the whole deposit less the fee back to the payer,
 * through the ELSE branch (`[payer sig, '', redeem script]`), with nLockTime =
 * expiry and sequence 0xfffffffe so OP_CHECKLOCKTIMEVERIFY passes once the
 * median time past reaches the expiry.
 * @param params - The channel spend, the payer's key, the refund address and the fee rate in sat/vB.
 * @returns The fully signed refund (hex), its fee and refunded value in satoshis.
 * @throws {InvalidChannelParametersError} Wrong payer key, bad address, P2SH without `deposit.txHex`.
 * @throws {InsufficientFundsError} The deposit does not cover the fee plus a non-dust output.
 * @example buildRefundTransaction({ redeemScript, deposit, payerKey, refundAddress: 'bc1q…', feeRate: 2 }).fee // 296n
 */
export function buildRefundTransaction(
  params: ChannelSpend & { payerKey: Signer; refundAddress: string; feeRate: number },
): { txHex: string; fee: bigint; value: bigint } {
  const redeemScript = toBytes(params.redeemScript, 'redeem script')
  const { payerPubkey, expiry } = parseRedeemScript(redeemScript)
  checkSigner(params.payerKey, payerPubkey, 'payer')
  const network = toBitcoinjsNetwork(params.network ?? BITCOIN_MAINNET)
  let script: Uint8Array
  try {
    script = baddress.toOutputScript(params.refundAddress, network)
  } catch (cause) {
    throw new InvalidChannelParametersError(`The refund address ${params.refundAddress} is not valid on ${params.network?.name ?? 'bitcoin'}.`, { cause })
  }
  const build = (value: bigint) => {
    const psbt = newPsbt(network).setLocktime(expiry)
    addDepositInput(psbt, redeemScript, params.deposit, params.p2sh ?? false, SEQUENCE_LOCKTIME)
    psbt.addOutput({ script, value })
    return psbt
  }
  const template = build(params.deposit.value).data.globalMap.unsignedTx.toBuffer()
  const vsize = estimateVsize(Transaction.fromBuffer(template), 1, redeemScript, params.p2sh ?? false)
  const fee = BigInt(Math.ceil(vsize * params.feeRate))
  const value = params.deposit.value - fee
  const dust = dustThreshold(script, params.network?.dustRelayFee)
  if (value < dust) {
    throw new InsufficientFundsError('The deposit does not cover the refund fee and a non-dust output.', dust - value)
  }
  const psbt = build(value)
  psbt.signInput(0, params.payerKey)
  finalizeDeposit(psbt, [payerPubkey], ELSE_BRANCH, redeemScript, params.p2sh ?? false)
  return { txHex: psbt.extractTransaction(true).toHex(), fee, value }
}

/** A payment as the payer built it. */
export interface BuiltPayment {
  /** The half-signed payment (hex): `<payer sig> OP_TRUE <redeem script>`, for the payee to check and countersign. */
  txHex: string
  /** The payee output's value, in satoshis. */
  payeeAmount: bigint
  /** The payer's change, in satoshis (0 when it would be dust and went to the fee). */
  payerChange: bigint
  /** The fee, in satoshis. */
  fee: bigint
}

/**
 * Builds the payer's half of a payment: the deposit through the IF branch to
 * the payee's (cumulative) amount and the payer's change, signed SIGHASH_ALL by
 * the payer, nLockTime 0, sequence final. Change below dust goes to the fee.
 * @param params - The channel spend, the payer's key, the payee amount and the fee in satoshis,
 *   and how each side is paid (P2WPKH of its channel key by default, P2PKH, or a script).
 * @returns The half-signed transaction (hex) and its amounts.
 * @throws {InvalidChannelParametersError} Wrong payer key, payee amount not positive or below dust, P2SH without `deposit.txHex`.
 * @throws {InsufficientFundsError} The amount and the fee exceed the deposit.
 * @example buildPaymentTransaction({ redeemScript, deposit, payerKey, payeeAmount: 1000n, fee: 500n }).payerChange // 98500n
 */
export function buildPaymentTransaction(
  params: ChannelSpend & {
    payerKey: Signer
    payeeAmount: bigint
    fee: bigint
    payeeOutput?: KeyOutputType | Uint8Array
    payerChangeOutput?: KeyOutputType | Uint8Array
  },
): BuiltPayment {
  const redeemScript = toBytes(params.redeemScript, 'redeem script')
  const { payeePubkey, payerPubkey } = parseRedeemScript(redeemScript)
  checkSigner(params.payerKey, payerPubkey, 'payer')
  const payeeScript = outputScript(params.payeeOutput ?? 'p2wpkh', payeePubkey)
  const changeScript = outputScript(params.payerChangeOutput ?? 'p2wpkh', payerPubkey)
  const dustRelayFee = params.network?.dustRelayFee
  if (params.payeeAmount < dustThreshold(payeeScript, dustRelayFee) || params.fee < 0n) {
    throw new InvalidChannelParametersError(`A payee amount of ${params.payeeAmount} sat is below dust, or the fee is negative.`)
  }
  let change = params.deposit.value - params.payeeAmount - params.fee
  if (change < 0n) {
    throw new InsufficientFundsError(`The channel holds ${params.deposit.value} sat; ${params.payeeAmount} sat plus a ${params.fee} sat fee do not fit.`, -change)
  }
  if (change < dustThreshold(changeScript, dustRelayFee)) change = 0n
  const network = toBitcoinjsNetwork(params.network ?? BITCOIN_MAINNET)
  const psbt = newPsbt(network)
  addDepositInput(psbt, redeemScript, params.deposit, params.p2sh ?? false, SEQUENCE_FINAL)
  psbt.addOutput({ script: payeeScript, value: params.payeeAmount })
  if (change > 0n) psbt.addOutput({ script: changeScript, value: change })
  psbt.signInput(0, params.payerKey)
  finalizeDeposit(psbt, [payerPubkey], IF_BRANCH, redeemScript, params.p2sh ?? false)
  return {
    txHex: psbt.extractTransaction(true).toHex(),
    payeeAmount: params.payeeAmount,
    payerChange: change,
    fee: params.deposit.value - params.payeeAmount - change,
  }
}

/**
 * The payee's close: checks the half-signed payment (all of
 * {@link verifyPaymentTransaction}'s rules, with the policy given), adds the
 * payee's SIGHASH_ALL signature and finalizes the IF-branch spend
 * `[payer sig, payee sig, 0x01, redeem script]`.
 * @param params - The same as {@link verifyPaymentTransaction}, plus the payee's key (and `deposit.txHex` for P2SH).
 * @returns The fully signed payment (hex), ready for `sendrawtransaction`.
 * @throws {InvalidChannelParametersError} Wrong payee key, P2SH without `deposit.txHex`.
 * @throws {PaymentTransactionError} Any refusal of {@link verifyPaymentTransaction}.
 * @example countersignPayment({ redeemScript, deposit, paymentTx, payeeKey }) // '02000000000101…'
 */
export function countersignPayment(params: VerifyPaymentParams & { payeeKey: Signer; network?: BitcoinNetworkParams }): string {
  const redeemScript = toBytes(params.redeemScript, 'redeem script')
  const { payeePubkey, payerPubkey } = parseRedeemScript(redeemScript)
  checkSigner(params.payeeKey, payeePubkey, 'payee')
  const { payerSignature } = verifyPaymentTransaction({ dustRelayFee: params.network?.dustRelayFee, ...params })
  const half = Transaction.fromHex(params.paymentTx)
  const p2sh = params.p2sh ?? false
  const psbt = newPsbt(toBitcoinjsNetwork(params.network ?? BITCOIN_MAINNET)).setVersion(half.version).setLocktime(half.locktime)
  addDepositInput(psbt, redeemScript, params.deposit, p2sh, half.ins[0]!.sequence)
  for (const out of half.outs) psbt.addOutput({ script: out.script, value: out.value })
  psbt.updateInput(0, { partialSig: [{ pubkey: payerPubkey, signature: payerSignature }] })
  psbt.signInput(0, params.payeeKey)
  finalizeDeposit(psbt, [payerPubkey, payeePubkey], IF_BRANCH, redeemScript, p2sh)
  return psbt.extractTransaction(true).toHex()
}
