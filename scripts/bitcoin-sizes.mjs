/**
 * Issue 4 point 5: vsize of our Bitcoin channel transactions (deposit, refund, the
 * payee's countersigned payment) for P2WSH and P2SH deposits, built and signed by the
 * shipped builders (dist/), against two1's legacy P2SH transactions — the real mainnet
 * ones of the two1 seed (test/fixtures/two1-seed.json). Same shapes: a deposit with one
 * input and a change output, a refund with one output, a payment with payee + change.
 */
import { readFileSync } from 'node:fs'
import { Transaction, payments } from 'bitcoinjs-lib'
import { BITCOIN_MAINNET, BitcoinBIP32, buildDepositTransaction, buildPaymentTransaction, buildRedeemScript, buildRefundTransaction, countersignPayment } from '../dist/families/bitcoin/index.js'

export function bitcoinSizes() {
  const seed = JSON.parse(readFileSync(new URL('../test/fixtures/two1-seed.json', import.meta.url), 'utf8'))
  const two1 = Object.fromEntries(['deposit', 'refund', 'full'].map((k) => [k === 'full' ? 'payment' : k, Transaction.fromHex(seed[k]).virtualSize()]))

  const node = BitcoinBIP32.fromSeed(Buffer.alloc(32, 3))
  const payer = node.derivePath("m/84'/0'/0'/0/0")
  const payee = node.derivePath("m/84'/0'/0'/0/1")
  const redeemScript = buildRedeemScript({ payeePubkey: payee.publicKey, payerPubkey: payer.publicKey, expiry: 1_800_000_000 })
  const utxo = { txid: '11'.repeat(32), vout: 0, value: 10_000_000n }
  const address = payments.p2wpkh({ pubkey: payer.publicKey }).address
  const ours = {}
  for (const p2sh of [false, true]) {
    const d = buildDepositTransaction({ payerKey: payer, utxos: [utxo], redeemScript, amount: 1_000_000n, feeRate: 1, p2sh, network: BITCOIN_MAINNET })
    const deposit = { txid: d.txid, vout: d.vout, value: d.value, txHex: d.txHex }
    const refund = buildRefundTransaction({ redeemScript, deposit, p2sh, payerKey: payer, refundAddress: address, feeRate: 1 })
    const half = buildPaymentTransaction({ redeemScript, deposit, p2sh, payerKey: payer, payeeAmount: 50_000n, fee: 1_000n })
    const full = countersignPayment({ redeemScript, deposit, p2sh, paymentTx: half.txHex, payeeKey: payee })
    const vs = (hex) => Transaction.fromHex(hex).virtualSize()
    ours[p2sh ? 'p2sh' : 'p2wsh'] = { deposit: vs(d.txHex), refund: vs(refund.txHex), payment: vs(full) }
  }
  const ratio = (k) => Object.fromEntries(Object.entries(ours[k]).map(([t, v]) => [t, Math.round((v / two1[t]) * 1000) / 1000]))
  return { two1, p2wsh: ours.p2wsh, p2sh: ours.p2sh, ratio_to_two1: { p2wsh: ratio('p2wsh'), p2sh: ratio('p2sh') } }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(bitcoinSizes(), null, 2))
