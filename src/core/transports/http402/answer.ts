/**
 * Reading the merchant's answer to a paid request (any scheme): its refusal (a 402's challenge), its
 * `PAYMENT-RESPONSE` receipt, and the resource.
 */
import type { Dispatcher } from 'undici'
import { HEADER, decodePaymentRequired, decodePaymentResponse, type PaymentRequired, type PaymentResponse } from './protocol.js'
import type { Exchange } from './exchange.js'

/** The response as `buy` returns it. */
export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** The challenge of a 402 answering a paid request (a refusal, maybe corrective), if readable. */
export function refusalOf(headers: Dispatcher.ResponseData['headers']): PaymentRequired | undefined {
  const h = headers[HEADER.required]
  if (typeof h !== 'string') return undefined
  try {
    return decodePaymentRequired(h)
  } catch {
    return undefined
  }
}

/** The `PAYMENT-RESPONSE` receipt, if there is a readable one: the resource is served either way. */
export function readReceipt(header: string | string[] | undefined): PaymentResponse | undefined {
  if (typeof header !== 'string') return undefined
  try {
    const r = decodePaymentResponse(header)
    return r && typeof r === 'object' ? r : undefined
  } catch {
    return undefined
  }
}

/** A purchase's status from the receipt of a non-402 answer: `not_charged` only when the receipt says so. */
export function answered(receipt: PaymentResponse | undefined): 'paid' | 'not_charged' {
  return receipt && receipt.success === false ? 'not_charged' : 'paid'
}

/** The response's status, headers and body (read within the purchase's limits). */
export async function result(ex: Exchange, res: Dispatcher.ResponseData, from: URL): Promise<Answer> {
  return { status: res.statusCode, headers: res.headers, body: await ex.body(res, from) }
}
