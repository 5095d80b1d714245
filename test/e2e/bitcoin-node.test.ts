/**
 * The channel transactions on a real node: litecoind -regtest (the Bitcoin Core
 * 0.21 script rules). The deposit, the countersigned payment and the refund are
 * each accepted by the node and mined; the refund is refused before the expiry
 * (non-final) and accepted once the median time past passes it (time moved with
 * setmocktime and blocks). Both P2WSH and P2SH. This is the check of the witness
 * and scriptSig order that the unit tests' interpreter can only approximate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Transaction } from 'bitcoinjs-lib'
import { BitcoinBIP32, buildPaymentTransaction, buildRedeemScript, buildRefundTransaction, countersignPayment, keyOutputScript } from '../../src/families/bitcoin/index.js'
import type { RegtestNode } from '../../src/devnet/litecoind.js'
import type { BitcoinBackend } from '../../src/families/bitcoin/backend.js'
import { buildDepositTransaction } from '../../src/families/bitcoin/deposit.js'
import { toHex } from '../../src/families/bitcoin/script.js'
import { payments } from 'bitcoinjs-lib'
import { toBitcoinjsNetwork } from '../../src/families/bitcoin/networks.js'
import { ChannelStateError } from '../../src/core/errors.js'
import { describeBitcoin, startBitcoinChain, type BitcoinChain } from '../helpers/bitcoin.js'

describeBitcoin('litecoind regtest node', () => {
  const root = BitcoinBIP32.fromSeed(Buffer.alloc(32, 9))
  const PAYER = root.derivePath("m/84'/1'/0'/0/0")
  const PAYEE = root.derivePath("m/84'/1'/0'/0/1")

  let chain: BitcoinChain
  let node: RegtestNode
  let backend: BitcoinBackend
  let payerAddress: string

  beforeAll(async () => {
    chain = await startBitcoinChain({ autoMine: false })
    ;({ node, backend } = chain)
    payerAddress = payments.p2wpkh({ pubkey: PAYER.publicKey, network: toBitcoinjsNetwork(node.params) }).address!
    await node.mine(3, payerAddress)
    await node.mine(100, payments.p2wpkh({ pubkey: PAYEE.publicKey, network: toBitcoinjsNetwork(node.params) }).address!)
  }, 120_000)

  afterAll(async () => {
    await chain?.stop()
  })

  async function openChannel(p2sh: boolean, expiry: number, amount = 1_000_000n) {
    const redeemScript = buildRedeemScript({ payeePubkey: PAYEE.publicKey, payerPubkey: PAYER.publicKey, expiry })
    const utxos = await backend.utxos(toHex(keyOutputScript(PAYER.publicKey)))
    const d = buildDepositTransaction({ payerKey: PAYER, utxos, redeemScript, amount, feeRate: 2, p2sh, network: node.params })
    expect(await backend.broadcast(d.txHex)).toBe(d.txid)
    await node.mine(1, payerAddress)
    expect((await backend.outputStatus(d.txid, 0)).confirmations).toBe(1)
    return { redeemScript, deposit: { txid: d.txid, vout: 0, value: amount, txHex: d.txHex }, built: d }
  }

  it('the node identifies itself by its genesis and the payer sees its mature coins only', async () => {
    await backend.checkNetwork()
    expect(node.caip2).toMatch(/^bip122:[0-9a-f]{32}$/)
    const coins = await backend.utxos(toHex(keyOutputScript(PAYER.publicKey)))
    // 3 coinbases mined to the payer, all mature after 100 more blocks; later ones are change.
    expect(coins.length).toBeGreaterThanOrEqual(1)
    for (const c of coins) expect(c.value).toBeGreaterThan(0n)
  })

  describe.each([false, true])('on litecoind regtest, p2sh=%s', (p2sh) => {
    it('a countersigned payment is accepted and mined with exact amounts', async () => {
      const { redeemScript, deposit, built } = await openChannel(p2sh, Math.floor(Date.now() / 1000) + 86400)
      expect(built.fee).toBeGreaterThan(0n)
      const half = buildPaymentTransaction({ redeemScript, deposit, p2sh, payerKey: PAYER, payeeAmount: 123_456n, fee: 1_000n, network: node.params })
      const full = countersignPayment({ redeemScript, deposit, p2sh, paymentTx: half.txHex, payeeKey: PAYEE, network: node.params })
      const txid = await backend.broadcast(full)
      await node.mine(1, payerAddress)
      const mined = await backend.getTransaction(txid)
      expect(mined?.confirmations).toBe(1)
      expect(mined!.tx.outs[0]!.value).toBe(123_456n)
      expect(mined!.tx.outs[1]!.value).toBe(1_000_000n - 123_456n - 1_000n)
      expect((await backend.outputStatus(deposit.txid, 0)).unspent).toBe(false)
      const spender = await backend.findSpender(deposit.txid, 0, [], 0)
      expect(spender?.tx.getId()).toBe(txid)
    })

    it('a half-signed payment alone is refused by the node (the payee signature is required)', async () => {
      const { redeemScript, deposit } = await openChannel(p2sh, Math.floor(Date.now() / 1000) + 86400)
      const half = buildPaymentTransaction({ redeemScript, deposit, p2sh, payerKey: PAYER, payeeAmount: 10_000n, fee: 1_000n, network: node.params })
      await expect(backend.broadcast(half.txHex)).rejects.toBeInstanceOf(ChannelStateError)
    })

    it('the refund is refused before the expiry and accepted after it', async () => {
      const tip = await backend.tip()
      const expiry = tip.time + 3600
      const { redeemScript, deposit } = await openChannel(p2sh, expiry)
      const refund = buildRefundTransaction({ redeemScript, deposit, p2sh, payerKey: PAYER, refundAddress: payerAddress, feeRate: 2, network: node.params })
      await expect(backend.broadcast(refund.txHex)).rejects.toThrow(/non-final/)
      // Move the node's clock past the expiry; the median time past follows after 11 blocks.
      await chain.warpTo(expiry + 600)
      expect((await backend.tip()).medianTime).toBeGreaterThanOrEqual(expiry)
      const txid = await backend.broadcast(refund.txHex)
      await node.mine(1, payerAddress)
      const mined = await backend.getTransaction(txid)
      expect(mined?.confirmations).toBe(1)
      expect(mined!.tx.outs[0]!.value).toBe(refund.value)
      expect(refund.value + refund.fee).toBe(1_000_000n)
      expect(Transaction.fromHex(refund.txHex).locktime).toBe(expiry)
    })
  })
});
