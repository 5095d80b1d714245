/**
 * Waiting for a transaction's receipt without ethers' hang on nodes that mine on demand.
 */
import type { JsonRpcProvider, TransactionReceipt, TransactionResponse } from 'ethers'

/**
 * The receipt of `tx` once mined; null when the node dropped it.
 *
 * ethers' `tx.wait()` looks for the receipt once, then again only on a block newer than its
 * subscription: on a node that mines on demand (anvil), a receipt landing in between was
 * never seen and the wait hung for good (about one open in 500 on the devnet). The receipt
 * is also polled at the provider's interval; whichever sees it first wins, and ethers'
 * `wait()` still turns a revert into its error.
 * @throws ethers' CALL_EXCEPTION when the transaction reverted
 */
export async function waitMined(provider: JsonRpcProvider, tx: TransactionResponse): Promise<TransactionReceipt | null> {
  let settled = false
  const polled = async () => {
    while (!settled && !(await provider.getTransactionReceipt(tx.hash))) await new Promise((ok) => setTimeout(ok, provider.pollingInterval))
    return tx.wait()
  }
  try {
    return await Promise.race([tx.wait(), polled()])
  } finally {
    settled = true
  }
}
