/**
 * How a channel deposit is spent: the PSBT input, the scriptSig / witness of each
 * branch, size estimates and Bitcoin Core's dust threshold. Shared by the
 * builders (transactions.ts) and the payee's checks (verify.ts).
 */
import { Psbt, Transaction, payments, script as bscript, type Network } from 'bitcoinjs-lib'
import { witnessStackToScriptWitness } from 'bitcoinjs-lib/src/psbt/psbtutils'
import { InvalidChannelParametersError } from './errors.js'
import { toBytes, toHex } from './script.js'
import { BITCOIN_DUST_RELAY_FEE } from './networks.js'

/** The deposit output a channel spends. */
export interface DepositOutpoint {
  /** Deposit transaction id (big-endian hex, as RPCs print it). */
  txid: string
  /** Index of the deposit output. */
  vout: number
  /** Its value, in satoshis. */
  value: bigint
  /**
   * The whole deposit transaction (hex). Needed to sign a P2SH deposit: a PSBT
   * signs legacy inputs only against the full parent transaction (BIP174
   * `non_witness_utxo`). Checked against `txid` and `value` when given.
   */
  txHex?: string
}

/** Input sequence of the payment: final, so neither nLockTime nor BIP68 apply. */
export const SEQUENCE_FINAL = 0xffffffff
/** Input sequence of the refund: non-final, so OP_CHECKLOCKTIMEVERIFY accepts it (BIP65). */
export const SEQUENCE_LOCKTIME = 0xfffffffe
/** The IF-branch selector: exactly 0x01 (MINIMALIF in witness scripts; OP_1 in a scriptSig). */
export const IF_BRANCH = Uint8Array.of(0x01)
/** The ELSE-branch selector: the empty vector (OP_0). */
export const ELSE_BRANCH = new Uint8Array(0)
/** Longest DER signature plus the sighash byte, for size estimates. */
const MAX_SIG_LENGTH = 73

/** Reverses the RPC txid into the internal byte order. */
export const txidToHash = (txid: string): Uint8Array => toBytes(txid, 'txid').reverse()
/** The RPC txid (big-endian hex) of an input's internal-order hash. */
export const hashToTxid = (hash: Uint8Array): string => toHex(Uint8Array.from(hash).reverse())

/** The deposit's output script for a redeem script. */
export function depositScriptPubkey(redeemScript: Uint8Array, p2sh: boolean): Uint8Array {
  return p2sh ? payments.p2sh({ redeem: { output: redeemScript } }).output! : payments.p2wsh({ redeem: { output: redeemScript } }).output!
}

/**
 * Adds the deposit as the PSBT's only input.
 * @throws {InvalidChannelParametersError} P2SH without `deposit.txHex`, or a `txHex` that is not the deposit.
 */
export function addDepositInput(psbt: Psbt, redeemScript: Uint8Array, deposit: DepositOutpoint, p2sh: boolean, sequence: number): void {
  const hash = txidToHash(deposit.txid)
  if (!p2sh) {
    psbt.addInput({
      hash, index: deposit.vout, sequence,
      witnessUtxo: { script: depositScriptPubkey(redeemScript, false), value: deposit.value },
      witnessScript: redeemScript,
    })
    return
  }
  if (!deposit.txHex) {
    throw new InvalidChannelParametersError('Signing a P2SH deposit needs the whole deposit transaction (deposit.txHex).')
  }
  const parent = Transaction.fromHex(deposit.txHex)
  const out = parent.outs[deposit.vout]
  if (parent.getId() !== deposit.txid || !out || out.value !== deposit.value) {
    throw new InvalidChannelParametersError('deposit.txHex is not the deposit transaction, or its output differs.', {
      details: `${deposit.txid}:${deposit.vout} ${deposit.value} sat`,
    })
  }
  psbt.addInput({ hash, index: deposit.vout, sequence, nonWitnessUtxo: toBytes(deposit.txHex), redeemScript })
}

/** The scriptSig (P2SH) or witness (P2WSH) spending the deposit with these stack items. */
export function spendScripts(items: Uint8Array[], redeemScript: Uint8Array, p2sh: boolean) {
  return p2sh
    ? { finalScriptSig: bscript.compile([...items, redeemScript]), finalScriptWitness: undefined }
    : { finalScriptSig: undefined, finalScriptWitness: witnessStackToScriptWitness([...items, redeemScript]) }
}

/**
 * Finalizes the deposit input of a PSBT with a stack: the partial signatures of
 * `signers` in that order (deepest first), then the branch selector, then the
 * redeem script. IF branch: `<payer sig> <payee sig> 0x01`; the script runs
 * `OP_IF` (pops 0x01), `<payee> OP_CHECKSIGVERIFY` (pops the payee sig, on top),
 * then `<payer> OP_CHECKSIG` (pops the payer sig). ELSE branch: `<payer sig> ''`.
 */
export function finalizeDeposit(psbt: Psbt, signers: Uint8Array[], branch: Uint8Array, redeemScript: Uint8Array, p2sh: boolean): void {
  psbt.finalizeInput(0, (_index: number, input: { partialSig?: { pubkey: Uint8Array; signature: Uint8Array }[] }) => {
    const sigs = signers.map((pubkey) => {
      const partial = input.partialSig?.find((p) => toHex(p.pubkey) === toHex(pubkey))
      if (!partial) throw new InvalidChannelParametersError(`No signature of ${toHex(pubkey)} to finalize with.`)
      return partial.signature
    })
    return spendScripts([...sigs, branch], redeemScript, p2sh)
  })
}

/**
 * Virtual size of a transaction once its deposit input carries `sigCount`
 * maximal signatures, the branch selector and the redeem script.
 */
export function estimateVsize(tx: Transaction, sigCount: number, redeemScript: Uint8Array, p2sh: boolean): number {
  const copy = tx.clone()
  const items = [...Array.from({ length: sigCount }, () => new Uint8Array(MAX_SIG_LENGTH)), IF_BRANCH]
  const { finalScriptSig } = spendScripts(items, redeemScript, p2sh)
  copy.setInputScript(0, finalScriptSig ?? new Uint8Array(0))
  copy.setWitness(0, p2sh ? [] : [...items, redeemScript])
  return copy.virtualSize()
}

/**
 * Bitcoin Core's dust threshold of an output script: `GetDustThreshold` in
 * src/policy/policy.cpp — the output's size plus the size of an input spending it
 * (148 bytes, or 67 vbytes for a witness program), times the dust relay fee. At
 * Bitcoin's 3 sat/vB: 546 sat for P2PKH, 294 for P2WPKH, 330 for P2WSH; at Litecoin's
 * 30 sat/vB ten times that.
 * @param script - An output script.
 * @param dustRelayFee - sat/vB, the chain's (see `dustRelayFeeOf`); default Bitcoin's 3
 * @returns The smallest value that relays, in satoshis.
 */
export function dustThreshold(script: Uint8Array, dustRelayFee = BITCOIN_DUST_RELAY_FEE): bigint {
  const varint = script.length < 0xfd ? 1 : 3
  const outputSize = 8 + varint + script.length
  const isWitnessProgram =
    script.length >= 4 && script.length <= 42 &&
    (script[0] === 0x00 || (script[0]! >= 0x51 && script[0]! <= 0x60)) && script[1] === script.length - 2
  const spendSize = isWitnessProgram ? 32 + 4 + 1 + Math.floor(107 / 4) + 4 : 32 + 4 + 1 + 107 + 4
  return BigInt((outputSize + spendSize) * dustRelayFee)
}

/** A PSBT for these network parameters, version 2. */
export const newPsbt = (network: Network): Psbt => new Psbt({ network }).setVersion(2)

/**
 * Virtual size of a fully signed close (the countersigned payment) with a payee and a
 * change output, both P2WPKH: what a payment's fee must cover at the chosen rate.
 */
export function closeVsize(redeemScript: Uint8Array, p2sh: boolean): number {
  const tx = new Transaction()
  tx.version = 2
  tx.addInput(new Uint8Array(32), 0, SEQUENCE_FINAL)
  const p2wpkh = new Uint8Array(22)
  p2wpkh[1] = 20
  tx.addOutput(p2wpkh, 0n)
  tx.addOutput(p2wpkh, 0n)
  return estimateVsize(tx, 2, redeemScript, p2sh)
}
