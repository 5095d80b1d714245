/**
 * Paying x402's `exact` scheme (issue 13 §2, DESIGN §14): the one-off payment ordinary x402 sellers
 * take. The wallet signs a transfer of exactly the price (EVM: an EIP-3009 authorization of the token,
 * through the family's {@link ExactPayer}); the merchant's facilitator submits it and answers with the
 * transaction in `PAYMENT-RESPONSE`.
 *
 * Money rules: the entry is checked as hostile input (by the family, on chain) before anything is
 * signed; the purchase is checked against the budgets and recorded (scheme `exact`, its authorization)
 * in one SQLite transaction before the signed authorization leaves the process; it counts whatever the
 * merchant answers, since the merchant can redeem the authorization until its `validBefore`.
 */
import { encodePaymentSignatureHeader } from '@x402/core/http'
import type { ExactPayer, X402Payer } from '../../scheme/buyer.js'
import type { ExactPayload, ExactRequirement } from '../../scheme/x402.js'
import { PaymentRefusedError, PriceTooHighError } from '../../errors.js'
import { formatAmount } from '../../units.js'
import { SpendingLedger } from '../../spending/history.js'
import { HEADER, X402_VERSION, type PaymentRequired } from './protocol.js'
import { readReceipt, refusalOf, result, type Answer } from './answer.js'
import type { Exchange, Outgoing } from './exchange.js'

/** The x402 Foundation's one-off scheme's name in a 402 entry. */
export const EXACT_SCHEME = 'exact'

/** Largest `amount` an entry may name: 2^256 − 1 (the ERC-20 `uint256`), at most 78 digits. */
const MAX_UINT256 = 2n ** 256n - 1n

/** An `exact` entry this wallet may pay, and its price in base units of its `asset`. */
export interface ExactOffer {
  entry: ExactRequirement
  price: bigint
}

/**
 * The cheapest `exact` entry of the 402 on `network` whose asset is `priceAsset` and whose amount is at
 * most `maxPrice`; or why there is none that fits (undefined when the 402 has no `exact` entry there).
 * Entries are hostile: one whose fields are not of x402's shape is skipped.
 * @param priceAsset - `--max-price`'s asset as a 402 entry's `asset` names it (token address); undefined: the native coin, which `exact` never charges
 * @param maxPrice - base units of `priceAsset`
 * @returns `offer`, or `refusal`: a {@link PriceTooHighError} (exit 3) when every entry in the asset costs more, or none is in it
 * @example pickExact(payer, challenge.accepts, 1000n, '0x5FbD…') // { offer: { entry: {scheme: 'exact', amount: '1000', …}, price: 1000n } }
 */
export function pickExact(payer: X402Payer, accepts: readonly unknown[], maxPrice: bigint, priceAsset: string | undefined): { offer?: ExactOffer; refusal?: PriceTooHighError } {
  const network = payer.network.caip2
  const ours = accepts.filter((a): a is ExactRequirement => isExactEntry(a) && a.network === network)
  if (ours.length === 0 || !payer.exact) return {}
  const inAsset = ours.filter((a) => priceAsset !== undefined && a.asset.toLowerCase() === priceAsset.toLowerCase())
  if (inAsset.length === 0) {
    const a = ours[0]
    const show = (x: bigint, asset?: string) => formatAmount(x, payer.asset(asset))
    return {
      refusal: new PriceTooHighError(
        `The merchant charges ${show(BigInt(a.amount), a.asset)} (x402 \`exact\`), not in --max-price's asset (${show(maxPrice, priceAsset)}).`,
        { data: { price: a.amount, asset: a.asset, maxPrice: maxPrice.toString() }, metaMessages: ['Give --max-price in the merchant\'s token (e.g. --max-price 0.01usdc when the network\'s config names it usdc).'] },
      ),
    }
  }
  const cheapest = inAsset.map((entry) => ({ entry, price: BigInt(entry.amount) })).sort((x, y) => (x.price < y.price ? -1 : x.price > y.price ? 1 : 0))[0]
  if (cheapest.price > maxPrice) {
    const show = (x: bigint) => formatAmount(x, payer.asset(cheapest.entry.asset))
    return {
      refusal: new PriceTooHighError(`The price ${show(cheapest.price)} (x402 \`exact\`) is above --max-price ${show(maxPrice)}.`, {
        data: { price: cheapest.price.toString(), maxPrice: maxPrice.toString() },
        metaMessages: ['Raise --max-price to pay it.'],
      }),
    }
  }
  return { offer: cheapest }
}

/** Whether `a` has the shape of an x402 v2 `exact` entry: strings where x402 has them, `amount` base units within uint256. */
function isExactEntry(a: unknown): a is ExactRequirement {
  if (!a || typeof a !== 'object') return false
  const e = a as Record<string, unknown>
  return e.scheme === EXACT_SCHEME && typeof e.network === 'string' && typeof e.asset === 'string' && typeof e.payTo === 'string' &&
    typeof e.amount === 'string' && /^(0|[1-9]\d{0,77})$/.test(e.amount) && BigInt(e.amount) <= MAX_UINT256 &&
    typeof e.maxTimeoutSeconds === 'number' && (e.extra === undefined || (typeof e.extra === 'object' && e.extra !== null))
}

/** What an `exact` purchase adds to the result of `buy`. */
export interface ExactPaid {
  /** Price paid, base units of the entry's asset (0n when the receipt does not say it was settled). */
  paid: bigint
  scheme: typeof EXACT_SCHEME
  /** The transfer's transaction hash from the merchant's receipt, when it sent one. */
  transaction?: string
  /** What was signed: its `nonce` names it on chain (EIP-3009 `authorizationState`). */
  authorization: ExactPayload['authorization']
}

/**
 * Pays `offer` and retries the request with it: check (the family, on chain), budgets (early), sign,
 * record with the budget check (one transaction), send `PAYMENT-SIGNATURE`, read the receipt.
 * @param challenge - the 402 (its `resource` goes with the payment, as x402's own client sends it)
 * @throws {PaymentRefusedError} the family refused the entry, or the merchant refused the payment (a 402) ·
 *   {BudgetExceededError} (nothing signed is sent, nothing stored) · {InsufficientFundsError} · {NetworkError}
 */
export async function payExact(
  payer: X402Payer & { exact: ExactPayer }, offer: ExactOffer, challenge: PaymentRequired,
  c: { target: URL; ex: Exchange; outgoing: (signature: string) => Outgoing; say: (s: string) => void },
): Promise<Answer & ExactPaid> {
  const { entry, price } = offer
  const { ex, target, say } = c
  const show = (x: bigint) => formatAmount(x, payer.asset(entry.asset))
  say(`402: ${show(price)} (x402 \`exact\`: a one-off transfer to ${entry.payTo}); checking the token ${entry.asset}…`)
  // The asset in its canonical form: budgets count by it, whatever the case the merchant wrote it in.
  const { asset } = await ex.within('checking the merchant\'s token on chain', payer.exact.check(entry))
  // Budgets: refused here before the key is unlocked; checked again, atomically, when recorded.
  const ledger = new SpendingLedger(payer.store, { network: payer.network.caip2, asset: payer.asset(asset), assetAddress: asset, url: target, price })
  ledger.check()
  const payload = await ex.within('signing the transfer authorization', payer.exact.sign(entry))
  const a = payload.authorization
  if (BigInt(a.value) !== price || a.to.toLowerCase() !== entry.payTo.toLowerCase()) {
    throw new PaymentRefusedError(`The signed authorization (${a.value} to ${a.to}) is not the entry's (${entry.amount} to ${entry.payTo}); nothing was sent.`)
  }
  // Budgets checked again and the purchase recorded, in one transaction, before the authorization leaves.
  const purchase = ledger.recordExact(a)
  const until = new Date(Number(a.validBefore) * 1000).toISOString()
  ex.note = `The authorization to transfer ${show(price)} to ${entry.payTo} (nonce ${a.nonce}) is recorded and counts against budgets; the merchant can redeem it until ${until}.`
  const signature = encodePaymentSignatureHeader({ x402Version: X402_VERSION, resource: challenge.resource, accepted: entry, payload } as never)
  const res = await ex.send(target, c.outgoing(signature))
  if (res.statusCode === 402) {
    const refusal = refusalOf(res.headers)
    await ex.discard(res, target)
    const error = refusal?.error ?? 'no reason given'
    ledger.answer(purchase, { status: 'refused', error })
    throw new PaymentRefusedError(`The merchant refused the x402 \`exact\` payment: ${error}`, {
      data: { scheme: EXACT_SCHEME, nonce: a.nonce, validBefore: a.validBefore },
      metaMessages: [`The signed authorization stays recorded and counts against budgets: the merchant can redeem it until ${until}.`],
    })
  }
  const receipt = readReceipt(res.headers[HEADER.response])
  const settled = receipt?.success === true
  ledger.answer(purchase, { status: settled ? 'paid' : 'not_charged', receipt })
  const transaction = typeof receipt?.transaction === 'string' && receipt.transaction ? receipt.transaction : undefined
  say(settled ? `Paid ${show(price)} to ${entry.payTo}${transaction ? ` (transaction ${transaction})` : ''}.` : 'The merchant\'s answer does not say the transfer was settled; it counts until the authorization expires.')
  return { ...(await result(ex, res, target)), paid: settled ? price : 0n, scheme: EXACT_SCHEME, ...(transaction ? { transaction } : {}), authorization: a }
}
