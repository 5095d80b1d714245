/**
 * The paywall's CPU-bound check of a `PAYMENT-SIGNATURE` header — base64, JSON, the
 * x402 v2 envelope and voucher schemas, and the EIP-712 signer recovery — as one pure
 * function, runnable on worker threads through a piscina pool.
 *
 * Why threads: the paywall's one event loop serves HTTP and owns the SQLite writer
 * (group commit, DESIGN §7); decoding and recovering a voucher are ≈ half of its CPU
 * per paid request and need neither. On worker threads they run beside the event loop
 * on the other cores, while everything that touches stored state (nonce, amount,
 * deposit, charged) stays on the one thread that commits it. A worker only computes
 * who signed, under the domain the family's payee names (`X402Payee.signerDomain`,
 * core/scheme/seller.ts); its rules are still applied by `X402Payee.accept` on the main thread.
 */
import { decodePaymentSignature, PaymentHeaderError, type ChannelRequirement, type PaymentPayload } from './protocol.js'
import type { Recovered, SignerDomain } from '../../scheme/seller.js'
import type { Voucher } from '../../channel/voucher.js'

// Recovered is declared with the payee seam (core/scheme/seller.ts), so a family's payee can take it without importing this transport.
export type { Recovered }

/**
 * The outcome of {@link checkPaymentHeader}: decoded (with the signer for EVM vouchers; a routed
 * payload, which carries no voucher, has none), or the HTTP status and message of the refusal.
 */
export type HeaderCheck =
  | { ok: true; accepted: ChannelRequirement; payload: PaymentPayload; recovered?: Recovered }
  | { ok: false; status: number; message: string }

/** A family's signer recovery under its domain (`X402Payee.recoverSigner`). @throws for a malformed or malleable signature */
export type RecoverSigner = (voucher: Voucher, domain: SignerDomain) => string

/**
 * Decodes a `PAYMENT-SIGNATURE` header and, when the paywall's family names a signer
 * domain and the payment is on its network, recovers the voucher's signer under it
 * (EVM: the EIP-712 domain; Bitcoin payments have no domain and are checked by the
 * payee's transaction rules instead).
 * @param header - the raw header value
 * @param domain - the payee's `signerDomain`; none: decode only
 * @param recover - the family's recovery under `domain`
 * @returns never throws for bad input: a malformed header is `{ ok: false, status: 400 | 431 }`,
 *   a bad signature is `recovered.error`
 * @throws only for a bug (anything but PaymentHeaderError / a recovery refusal)
 */
export function checkPaymentHeader(header: string, domain?: SignerDomain, recover?: RecoverSigner): HeaderCheck {
  let decoded
  try {
    decoded = decodePaymentSignature(header)
  } catch (err) {
    if (err instanceof PaymentHeaderError) return { ok: false, status: err.status, message: err.message }
    throw err
  }
  const { payload } = decoded
  // A routed payload (issue 12) is a secret, not a signature: nothing to recover.
  if (!domain || !recover || decoded.accepted.network !== domain.network || payload.type === 'routed') return { ok: true, ...decoded }
  let recovered: Recovered
  try {
    recovered = { contract: domain.contract, signer: recover(payload.voucher, domain) }
  } catch (err) {
    recovered = { contract: domain.contract, error: (err as Error).message }
  }
  return { ok: true, ...decoded, recovered }
}

/** One header to check on a worker thread (structured-cloned: bigint travels as is). */
export interface CheckTask {
  header: string
  /** The payee's signer domain (plain data: it crosses the thread boundary); none: decode only. */
  domain?: SignerDomain
}

/** A pool of worker threads running {@link checkPaymentHeader}. */
export interface HeaderVerifier {
  check(header: string, domain?: SignerDomain): Promise<HeaderCheck>
  close(): Promise<void>
}

/**
 * Starts `threads` worker threads (piscina) that load `worker`, a module whose default
 * export runs {@link checkPaymentHeader} on a {@link CheckTask} (`dist/verify-worker.js`).
 * Resolves once a worker has loaded the module and answered (an empty header, refused),
 * so the paywall fails at start, not on its first paid request, when the module is missing.
 * @param threads - ≥ 1
 * @throws {Error} when the worker module cannot be loaded
 */
export async function startHeaderVerifier(worker: URL, threads: number): Promise<HeaderVerifier> {
  const { Piscina } = await import('piscina')
  // Up to 16 tasks in flight per thread: with one at a time, the thread idled while the event loop was busy elsewhere.
  const pool = new Piscina<CheckTask, HeaderCheck>({ filename: worker.href, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, concurrentTasksPerWorker: 16 })
  try {
    await pool.run({ header: '' })
  } catch (err) {
    await pool.destroy()
    throw err
  }
  return {
    check: (header, domain) => pool.run({ header, domain }),
    close: () => pool.destroy(),
  }
}
