/**
 * The payer's deposit transaction: its own P2WPKH coins into the channel's
 * P2WSH (or P2SH) output, change back to the same key. Built as a PSBT with
 * bitcoinjs; coin selection is largest-first, fee from the signed size.
 */
import { Transaction, type Signer } from 'bitcoinjs-lib'
import { InsufficientFundsError } from '../../core/errors.js'
import { InvalidChannelParametersError } from './errors.js'
import { toBitcoinjsNetwork, type BitcoinNetworkParams } from './networks.js'
import { keyOutputScript, toBytes, type BytesLike } from './script.js'
import { depositScriptPubkey, dustThreshold, newPsbt, txidToHash } from './spend.js'

/** A coin of the payer's P2WPKH address. */
export interface Utxo {
  txid: string
  vout: number
  /** Satoshis. */
  value: bigint
}

/** A deposit transaction ready to broadcast. */
export interface BuiltDeposit {
  /** Signed transaction (hex). */
  txHex: string
  txid: string
  /** Index of the channel output (always 0). */
  vout: number
  /** Channel output value, satoshis. */
  value: bigint
  /** Satoshis. */
  fee: bigint
  /** Change back to the payer, satoshis (0 when it would be dust). */
  change: bigint
  /** The coins it spends. */
  inputs: Utxo[]
}

/** vbytes of one P2WPKH input with a maximal signature (41 + 108/4, rounded up). */
const P2WPKH_INPUT_VSIZE = 68

/**
 * Builds and signs the deposit: output 0 pays `amount` to the channel script,
 * output 1 returns the change to the payer's P2WPKH (dropped to the fee when dust).
 * @param p.utxos - spendable (mature) coins of the payer's P2WPKH address
 * @param p.feeRate - sat/vB
 * @throws {InsufficientFundsError} the coins do not cover amount + fee (with the shortfall)
 * @throws {InvalidChannelParametersError} amount not above the channel output's dust threshold
 */
export function buildDepositTransaction(p: {
  payerKey: Signer
  utxos: readonly Utxo[]
  redeemScript: BytesLike
  amount: bigint
  feeRate: number
  p2sh?: boolean
  network: BitcoinNetworkParams
}): BuiltDeposit {
  const redeemScript = toBytes(p.redeemScript, 'redeem script')
  const channelScript = depositScriptPubkey(redeemScript, p.p2sh ?? false)
  if (p.amount < dustThreshold(channelScript, p.network.dustRelayFee)) {
    throw new InvalidChannelParametersError(`A deposit of ${p.amount} sat is below the dust threshold ${dustThreshold(channelScript, p.network.dustRelayFee)} sat.`)
  }
  const ownScript = keyOutputScript(Uint8Array.from(p.payerKey.publicKey), 'p2wpkh')
  const network = toBitcoinjsNetwork(p.network)
  const coins = [...p.utxos].sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : 0))
  const fixedVsize = 11 + channelScript.length + 9 + ownScript.length + 9
  const chosen: Utxo[] = []
  let total = 0n
  let fee = 0n
  for (const coin of coins) {
    chosen.push(coin)
    total += coin.value
    fee = BigInt(Math.ceil((fixedVsize + P2WPKH_INPUT_VSIZE * chosen.length) * p.feeRate))
    if (total >= p.amount + fee) break
  }
  if (total < p.amount + fee || chosen.length === 0) {
    const need = p.amount + (fee || BigInt(Math.ceil((fixedVsize + P2WPKH_INPUT_VSIZE) * p.feeRate)))
    throw new InsufficientFundsError(`The payer's coins hold ${total} sat; the deposit needs ${need} sat with its fee.`, need - total, {
      metaMessages: ['Send coins to the key\'s address (`channels keys show`) or choose a smaller deposit.'],
    })
  }
  let change = total - p.amount - fee
  if (change < dustThreshold(ownScript, p.network.dustRelayFee)) change = 0n
  const psbt = newPsbt(network)
  for (const c of chosen) psbt.addInput({ hash: txidToHash(c.txid), index: c.vout, witnessUtxo: { script: ownScript, value: c.value } })
  psbt.addOutput({ script: channelScript, value: p.amount })
  if (change > 0n) psbt.addOutput({ script: ownScript, value: change })
  psbt.signAllInputs(p.payerKey)
  psbt.finalizeAllInputs()
  const tx: Transaction = psbt.extractTransaction(true)
  return { txHex: tx.toHex(), txid: tx.getId(), vout: 0, value: p.amount, fee: total - p.amount - change, change, inputs: chosen }
}
