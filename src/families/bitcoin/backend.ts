/**
 * What a Bitcoin channel needs from a node, through Bitcoin Core's JSON-RPC
 * interface (DESIGN §5): the chain's identity (`getblockhash 0`), time
 * (`getblockchaininfo`), the payer's coins (`scantxoutset`, no wallet needed),
 * transactions (`getrawtransaction`, `gettxout`), broadcasting
 * (`sendrawtransaction`) and fee rates (`estimatesmartfee`).
 *
 * Amounts are read from raw transactions (bigint satoshis), never from the RPCs'
 * floating-point BTC fields.
 */
import { Transaction } from 'bitcoinjs-lib'
import { ChannelStateError, NetworkError } from '../../core/errors.js'
import { BitcoinRpc, BitcoinRpcError, RPC_CODES, type BitcoinRpcOptions } from './rpc.js'
import type { Utxo } from './deposit.js'
import { hashToTxid } from './spend.js'
import { bip122Id } from './networks.js'

/** Coinbase outputs are spendable after this many confirmations (Bitcoin Core `COINBASE_MATURITY`). */
export const COINBASE_MATURITY = 100

/** A transaction as the node knows it. */
export interface NodeTx {
  hex: string
  tx: Transaction
  /** 0 while in the mempool. */
  confirmations: number
  blockhash?: string
}

export class BitcoinBackend {
  readonly rpc: BitcoinRpc

  /**
   * @param caip2 - expected `bip122:<genesis prefix>`; checked by {@link checkNetwork}
   * @param fallbackFeeRate - sat/vB when the node has no estimate (regtest, a young node)
   */
  constructor(
    readonly caip2: string,
    rpcUrl: string,
    readonly fallbackFeeRate = 2,
    o: BitcoinRpcOptions = {},
  ) {
    this.rpc = new BitcoinRpc(rpcUrl, o)
  }

  /** @throws {NetworkError} unreachable node, or a node of another chain */
  async checkNetwork(): Promise<void> {
    const genesis = await this.rpc.call<string>('getblockhash', [0])
    if (bip122Id(genesis) !== this.caip2) {
      throw new NetworkError(`The node at ${this.rpc.url} is on chain ${bip122Id(genesis)}, not ${this.caip2}.`, {
        metaMessages: ['Point the network\'s rpcUrl at a node of that chain, or fix its caip2 in config.'],
      })
    }
  }

  /** Height of a block by hash. */
  async blockHeight(blockhash: string): Promise<number> {
    return (await this.rpc.call<{ height: number }>('getblockheader', [blockhash])).height
  }

  /** Height and median time past (what OP_CHECKLOCKTIMEVERIFY compares with, unix seconds): one `getblockchaininfo`. */
  async chainInfo(): Promise<{ height: number; medianTime: number; bestBlock: string }> {
    const info = await this.rpc.call<{ blocks: number; bestblockhash: string; mediantime: number }>('getblockchaininfo')
    return { height: info.blocks, medianTime: info.mediantime, bestBlock: info.bestblockhash }
  }

  /** {@link chainInfo} and the tip block's own time, unix seconds (one more call, for the header). */
  async tip(): Promise<{ height: number; time: number; medianTime: number }> {
    const info = await this.chainInfo()
    const header = await this.rpc.call<{ time: number }>('getblockheader', [info.bestBlock])
    return { height: info.height, time: header.time, medianTime: info.medianTime }
  }

  /**
   * Spendable coins of an output script (`scantxoutset raw(<script>)`): confirmed,
   * coinbases only once mature. Values come from the raw transactions.
   * @param scriptHex - output script, hex
   */
  async utxos(scriptHex: string): Promise<Utxo[]> {
    const scan = await this.rpc.call<{ success: boolean; height: number; unspents: { txid: string; vout: number; height: number }[] }>(
      'scantxoutset', ['start', [`raw(${scriptHex})`]],
    )
    const out: Utxo[] = []
    for (const u of scan.unspents) {
      const blockhash = await this.rpc.call<string>('getblockhash', [u.height])
      const tx = Transaction.fromHex(await this.rpc.call<string>('getrawtransaction', [u.txid, false, blockhash]))
      if (tx.isCoinbase() && scan.height - u.height + 1 < COINBASE_MATURITY) continue
      out.push({ txid: u.txid, vout: u.vout, value: tx.outs[u.vout]!.value })
    }
    return out
  }

  /** A transaction by id, or undefined when the node does not know it (needs `-txindex` once it is mined). */
  async getTransaction(txid: string): Promise<NodeTx | undefined> {
    try {
      const r = await this.rpc.call<{ hex: string; confirmations?: number; blockhash?: string }>('getrawtransaction', [txid, true])
      return { hex: r.hex, tx: Transaction.fromHex(r.hex), confirmations: r.confirmations ?? 0, blockhash: r.blockhash }
    } catch (err) {
      if (err instanceof BitcoinRpcError && err.rpcCode === RPC_CODES.invalidAddressOrKey) return undefined
      throw err
    }
  }

  /** Whether an output is unspent (mempool spends count as spent), and its confirmations. */
  async outputStatus(txid: string, vout: number): Promise<{ unspent: boolean; confirmations: number }> {
    const r = await this.rpc.call<{ confirmations: number } | null>('gettxout', [txid, vout, true])
    return r ? { unspent: true, confirmations: r.confirmations } : { unspent: false, confirmations: 0 }
  }

  /**
   * Broadcasts a transaction (`sendrawtransaction`); one already mined counts as sent.
   * @returns its txid
   * @throws {ChannelStateError} the node refuses it (non-final, conflicting, script failure), with the node's reason
   */
  async broadcast(txHex: string): Promise<string> {
    const txid = Transaction.fromHex(txHex).getId()
    try {
      return await this.rpc.call<string>('sendrawtransaction', [txHex])
    } catch (err) {
      if (err instanceof BitcoinRpcError && err.rpcCode === RPC_CODES.alreadyInChain) return txid
      if (err instanceof BitcoinRpcError && (err.rpcCode === RPC_CODES.verifyRejected || err.rpcCode === RPC_CODES.verifyError)) {
        throw new ChannelStateError(`The node refused transaction ${txid}: ${err.shortMessage}`, { cause: err, data: { txid, rpcCode: err.rpcCode } })
      }
      throw err
    }
  }

  /** Fee rate for confirmation within `blocks`, sat/vB (`estimatesmartfee`, else the fallback). */
  async feeRate(blocks = 6): Promise<number> {
    const r = await this.rpc.call<{ feerate?: number }>('estimatesmartfee', [blocks])
    // BTC per kvB → sat/vB; a rate, not an amount, so a float is fine here.
    return r.feerate ? Math.max(1, Math.ceil(r.feerate * 1e5)) : this.fallbackFeeRate
  }

  /**
   * The transaction that spent `txid:vout`, searched in `candidates` first (our own
   * payments and refund), then in the blocks from `fromHeight` to the tip.
   */
  async findSpender(txid: string, vout: number, candidates: string[], fromHeight: number): Promise<NodeTx | undefined> {
    for (const id of candidates) {
      const t = await this.getTransaction(id)
      if (t && t.tx.ins.some((i) => hashToTxid(i.hash) === txid && i.index === vout)) return t
    }
    const { height } = await this.chainInfo()
    for (let h = Math.max(0, fromHeight); h <= height; h++) {
      const hash = await this.rpc.call<string>('getblockhash', [h])
      const block = await this.rpc.call<{ tx: { txid: string; hex: string; vin: { txid?: string; vout?: number }[] }[] }>('getblock', [hash, 2])
      const hit = block.tx.find((t) => t.vin.some((i) => i.txid === txid && i.vout === vout))
      if (hit) return { hex: hit.hex, tx: Transaction.fromHex(hit.hex), confirmations: height - h + 1, blockhash: hash }
    }
    return undefined
  }
}
