/**
 * The claim receiver (DESIGN §12): what a BTP peer does with a `payment-channel-claim`.
 * Parses it strictly (claim.ts), checks the proof it carries (its `additionalHash` is the
 * voucher's digest, its `publicKey` the key behind the signature), then verifies and commits
 * the voucher through the family's seam ({@link X402Payee.accept}: signature by the channel's
 * payer, nonce above the lane's last, total within the deposit, the channel ours and open —
 * committed to SQLite before this resolves; a refusal writes nothing, not even the channel's
 * row), then answers, then emits `CLAIM_RECEIVED`. Claims on one channel are taken in the order
 * they arrived, those on different channels side by side ({@link claimReceiver}).
 *
 * A claim in a Transfer pays the Transfer's amount: it is charged like a paywall price (the
 * channel's `charged` grows by it, and the claim's total must cover the new `charged`). In a
 * Message it pays nothing (a top-up).
 *
 * Duplicates: a messageId seen (in this process, the last {@link MAX_REMEMBERED}) with the same
 * signature is answered again with `duplicate: true` and counted once; with another claim it is
 * refused. A claim whose voucher is already the lane's held voucher (a resend after a dropped
 * socket or a restart) is answered `duplicate: true` and credits nothing.
 */
import { EventEmitter } from 'node:events'
import type { Recovered, X402Payee } from '../../scheme/seller.js'
import { sameVoucher } from '../../channel/voucher.js'
import { VoucherRefusedError } from '../../channel/accept.js'
import { groupCommit } from '../../store/group-commit.js'
import { parseClaim, voucherFromClaim, type ClaimProof } from './claim.js'
import { BtpError, type BtpHandlers } from './peer.js'

/** messageIds remembered for duplicate detection. */
export const MAX_REMEMBERED = 10_000

/** The event a committed claim emits (also one JSON line of `--events`). Amounts are decimal strings of base units. */
export interface ClaimReceivedEvent {
  type: 'CLAIM_RECEIVED'
  /** The peer's auth_username. */
  peer: string
  messageId: string
  senderId: string
  channelId: string
  nonce: string
  /** The lane's cumulative total the claim signs. */
  transferredAmount: string
  /** What this claim paid (the Transfer's amount; 0 in a Message). */
  credited: string
  /** The channel's `charged` after it. */
  charged: string
  /** Unix milliseconds of the commit. */
  at: number
}

/** The answer to a claim (the Response's `payment-channel-claim` entry, JSON). */
export interface ClaimReceipt {
  messageId: string
  channelId: string
  nonce: string
  transferredAmount: string
  credited: string
  duplicate: boolean
}

/**
 * A claim handler for a BTP peer ({@link BtpHandlers.claim}), and the emitter of its events.
 *
 * Cost per claim: one EIP-712 hash and one signer recovery (`proof`, libsecp256k1 in the EVM
 * family), whose signer is handed to {@link X402Payee.accept} as `recovered` so it does not
 * recover again; the commit shares a transaction and an fsync with the claims (and paywall
 * payments) committed in the same turn (core/store/group-commit.ts).
 *
 * Order: a peer may send many claims without waiting (BTP requests are answered out of order).
 * Claims on one channel are taken in the order they arrived: each one's duplicate checks and
 * `accept` start once the channel's claim before it has been committed or refused, so a claim
 * of nonce n + 1 never overtakes nonce n (which would then be refused `nonce_too_low`, its
 * Transfer never credited). Claims with one messageId are ordered the same way, so a resend
 * that arrives while its first copy is being committed is answered as a duplicate. Claims on
 * different channels run side by side and share commits. Malformed claims and bad proofs are
 * refused at once (they depend on nothing stored).
 *
 * Durability: the next claim of a channel starts at its predecessor's COMMIT (`accept` with
 * `durable: false`), not after its fsync, so one channel's claims go one per commit; every
 * answer but a refusal (a claim taken, or a duplicate of a remembered or held one) still waits
 * for an fdatasync of the WAL begun after the COMMIT it reports (an empty durable group commit,
 * shared with the claims of its turn): nothing is answered as held before it is on disk.
 * @param payee - the family's payee (ChannelScheme.seller)
 * @param proof - the family's `ChannelScheme.voucherProof`, for the same wallet as `payee`: the
 *   signer it recovers under the wallet's contract is the one `payee.signerDomain` names
 */
export function claimReceiver(payee: X402Payee, proof: ClaimProof): { handler: NonNullable<BtpHandlers['claim']>; events: EventEmitter } {
  const events = new EventEmitter()
  const seen = new Map<string, { signature: string; receipt: ClaimReceipt }>()
  const domain = payee.signerDomain
  /** The last claim queued under each key (`c:` channel, `m:` messageId), settled (never rejected) once it is committed or refused. */
  const tails = new Map<string, Promise<void>>()
  /** Runs `take` once every claim queued before under any of `keys` is committed or refused; at once when none is. */
  const inOrder = <T>(keys: string[], take: () => Promise<T>): Promise<T> => {
    const before = keys.flatMap((k) => tails.get(k) ?? [])
    const run = before.length ? Promise.all(before).then(take) : take()
    const done = run.then(() => {}, () => {})
    for (const k of keys) tails.set(k, done)
    void done.then(() => keys.forEach((k) => tails.get(k) === done && tails.delete(k)))
    return run
  }
  /** On disk before it is answered: resolves after an fdatasync of the WAL begun after every COMMIT made so far (an empty group commit). */
  const durable = () => groupCommit(payee.store, () => undefined)
  /** The answer to a messageId already answered here: the same claim again, or a refusal. */
  const answered = (messageId: string, signature: string): ClaimReceipt | undefined => {
    const before = seen.get(messageId)
    if (!before) return undefined
    if (before.signature === signature) return { ...before.receipt, duplicate: true }
    throw new BtpError('F00', 'NotAcceptedError', `messageId ${messageId} was used by another claim.`, 'duplicate_message')
  }

  const handler = async (entry: { contentType: number; data: Buffer }, amount: bigint, peer: string): Promise<ClaimReceipt> => {
    const claim = parseClaim(entry.data, entry.contentType)
    const v = voucherFromClaim(claim)
    const again = answered(claim.messageId, v.signature)
    if (again) return durable().then(() => again)
    let p: ReturnType<ClaimProof>
    try {
      p = proof(v)
    } catch (err) {
      throw new BtpError('F00', 'NotAcceptedError', (err as Error).message.split('\n')[0], 'bad_signature')
    }
    if (p.digest !== claim.additionalHash) throw new BtpError('F00', 'NotAcceptedError', 'additionalHash is not the voucher\'s EIP-712 digest under this contract.', 'bad_hash')
    if (p.publicKey !== claim.publicKey) throw new BtpError('F00', 'NotAcceptedError', 'publicKey is not the key that signed the claim.', 'bad_public_key')
    const recovered: Recovered | undefined = domain && { contract: domain.contract, signer: p.signer }
    const taken = inOrder([`c:${v.channelId}`, `m:${claim.messageId}`], async (): Promise<{ receipt: ClaimReceipt; charged?: bigint }> => {
      // Again: a claim with this messageId may have been answered while this one waited.
      const again = answered(claim.messageId, v.signature)
      if (again) return { receipt: again }
      const receipt: ClaimReceipt = {
        messageId: claim.messageId, channelId: v.channelId, nonce: v.nonce.toString(), transferredAmount: v.amount.toString(), credited: '0', duplicate: false,
      }
      const held = payee.store.vouchers.latest(payee.network, v.channelId, 0n)
      // The whole voucher, not its signature alone: a claim reusing a held signature over other fields is not that voucher.
      if (held && sameVoucher(held, v)) return { receipt: { ...receipt, duplicate: true } }
      try {
        const { charged } = await payee.accept({ type: 'voucher', channelId: v.channelId, voucher: v }, amount, payee.requirement(amount), recovered, { durable: false })
        const done = { ...receipt, credited: amount.toString() }
        // Remembered at its COMMIT, so that a resend queued behind the channel's next claims finds it.
        if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value as string)
        seen.set(claim.messageId, { signature: v.signature, receipt: done })
        return { receipt: done, charged }
      } catch (err) {
        if (err instanceof VoucherRefusedError) throw new BtpError('F00', 'NotAcceptedError', err.shortMessage, err.reason)
        throw err
      }
    })
    const { receipt, charged } = await taken
    await durable()
    if (charged === undefined) return receipt
    // After the answer is on its way: listeners never delay or fail it.
    setImmediate(() => {
      const e: ClaimReceivedEvent = {
        type: 'CLAIM_RECEIVED', peer, messageId: claim.messageId, senderId: claim.senderId, channelId: v.channelId, nonce: receipt.nonce,
        transferredAmount: receipt.transferredAmount, credited: receipt.credited, charged: charged.toString(), at: Date.now(),
      }
      events.emit('CLAIM_RECEIVED', e)
    })
    return receipt
  }
  return { handler, events }
}
