/**
 * The merchant's payee keys on a Bitcoin-family network: a fresh key per channel, as
 * two1's merchant handed out a fresh public key for each channel it opened.
 *
 * The 402's bip122 entry offers `payTo` = the child at index `i` of the key's BIP84
 * external chain (m/84'/<coin>'/0'/0/<i>) and `extra.payeeIndex: i`; the payer echoes
 * the entry (with its channel's payTo and index) in `PAYMENT-SIGNATURE`'s `accepted`.
 * The paywall derives child(i) from the chain node it unlocked once at start, checks it
 * is `payTo` and, for a new channel, the redeem script's payee, and stores `i` with the
 * channel so the close is signed with that child. Index 0 is the key's base channel key:
 * channels made before fresh keys, and channels opened by hand to `keys show`'s pubkey.
 *
 * `i` is the next index after the highest stored on an inbound channel (see
 * {@link BitcoinChannelManager.nextPayeeIndex}): nothing is written per 402, and the
 * indexes stay dense so a BIP84 wallet restoring the mnemonic finds the payments.
 */
import type { BIP32Interface } from 'bip32'
import { MAX_PAYEE_INDEX, type BitcoinChannelManager } from './manager.js'
import { toHex } from './script.js'

/** The part of a 402 entry that names the payee: `payTo` and `extra.payeeIndex`. */
export interface PayeeNaming {
  payTo: string
  extra?: { payeeIndex?: unknown }
}

export class PayeeKeys {
  /** Derived pubkeys by index, a few recent ones (the offered one and those being paid). */
  private readonly cache = new Map<number, string>()

  private constructor(
    private readonly m: BitcoinChannelManager,
    private readonly chain: BIP32Interface,
  ) {}

  /**
   * Unlocks the merchant key's chain node once (the paywall then derives every payee
   * key without the keystore).
   * @throws {KeystoreError} keychain locked or wrong passphrase
   */
  static async unlock(m: BitcoinChannelManager): Promise<PayeeKeys> {
    return new PayeeKeys(m, await m.payeeChain())
  }

  /** The payee pubkey (hex) at `index`, a valid index. */
  pubkey(index: number): string {
    let p = this.cache.get(index)
    if (p === undefined) {
      p = toHex(this.chain.derive(index).publicKey)
      if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value!)
      this.cache.set(index, p)
    }
    return p
  }

  /**
   * What the bip122 entry offers now: the payee key at the next unused index.
   * @example keys.offer() // { payTo: '03c1…', payeeIndex: 4 }
   */
  offer(): { payTo: string; payeeIndex: number } {
    const payeeIndex = this.m.nextPayeeIndex()
    return { payTo: this.pubkey(payeeIndex), payeeIndex }
  }

  /**
   * The payee index an `accepted` entry names: `extra.payeeIndex`, 0 when absent (an
   * entry of a paywall before fresh keys, or `channels pay`), -1 when it is not an index.
   */
  indexOf(accepted: PayeeNaming): number {
    const i = accepted.extra?.payeeIndex
    if (i === undefined) return 0
    return typeof i === 'number' && Number.isInteger(i) && i >= 0 && i <= MAX_PAYEE_INDEX ? i : -1
  }

  /**
   * Whether `accepted` names a payee key this paywall offers or has offered: its index
   * is at most the one offered now and `payTo` is that index's key.
   */
  offers(accepted: PayeeNaming): boolean {
    const i = this.indexOf(accepted)
    return i >= 0 && i <= this.m.nextPayeeIndex() && typeof accepted.payTo === 'string' && accepted.payTo.toLowerCase() === this.pubkey(i)
  }
}
