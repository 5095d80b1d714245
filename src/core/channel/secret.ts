/**
 * Hash locks' secrets (DESIGN §11, the mediator seed): the payer draws a 32-byte secret,
 * locks vouchers to `sha256(secret)` (the contract's rule, and Interledger's condition and
 * fulfillment unchanged), and encrypts the secret to the payee's secp256k1 public key so
 * that a hub in between cannot learn it before the payee has accepted the hub's voucher.
 *
 * Encryption is ECIES in `eciesjs`'s format (secp256k1 ECDH, HKDF-SHA256, AES-256-GCM), computed by libsecp256k1
 * and node:crypto (./ecies.ts says why and how it is checked against eciesjs). Secrets and hashes are 0x-prefixed
 * lowercase hex; ciphertexts are 0x hex too.
 */
import { randomBytes, createHash } from 'node:crypto'
import { eciesDecrypt, eciesEncrypt } from './ecies.js'
import { InvalidVoucherError, UsageError } from '../errors.js'

/** A secret and the hash lock it opens. */
export interface HashLock {
  /** 32 random bytes, 0x hex: the preimage (ILP fulfillment). */
  secret: string
  /** `sha256(secret)`, 0x hex: a voucher's `secretHash` (ILP condition). */
  secretHash: string
}

const HEX = /^0x(?:[0-9a-f]{2})+$/

/** `sha256(secret)` as a voucher's `secretHash`. @throws {UsageError} `secret` is not 0x hex bytes */
export function secretHashOf(secret: string): string {
  const s = secret.toLowerCase()
  if (!HEX.test(s)) throw new UsageError(`A secret must be 0x-prefixed hex bytes, not "${secret.slice(0, 20)}".`)
  return '0x' + createHash('sha256').update(Buffer.from(s.slice(2), 'hex')).digest('hex')
}

/**
 * Proof that a party knows `secret` without showing it: `sha256(secret ‖ challenge)`, 0x hex. A payer asks a hub
 * for it with a fresh challenge (`GET <hub>/lock/<hash>?challenge=`): only a hub the payee revealed the secret to
 * can answer, and no one listening learns the secret.
 * @param secret - 0x hex bytes · @param challenge - 0x hex bytes
 * @throws {UsageError} either is not 0x hex bytes
 */
export function secretProof(secret: string, challenge: string): string {
  const [s, c] = [secret.toLowerCase(), challenge.toLowerCase()]
  if (!HEX.test(s) || !HEX.test(c)) throw new UsageError('A secret and a challenge are 0x-prefixed hex bytes.')
  return '0x' + createHash('sha256').update(Buffer.from(s.slice(2) + c.slice(2), 'hex')).digest('hex')
}

/** Draws a fresh 32-byte secret and its hash (DESIGN §11: the payer draws it). */
export function drawSecret(): HashLock {
  const secret = '0x' + randomBytes(32).toString('hex')
  return { secret, secretHash: secretHashOf(secret) }
}

/**
 * Encrypts a payment's secret and its amount to the payee's secp256k1 public key (ECIES in
 * eciesjs's format, ./ecies.ts): the plaintext is the 32-byte secret followed by the amount as a 32-byte big-endian
 * integer. The amount rides along so that the payee reveals the secret only for a voucher worth
 * it: else a hub could forward less than the payer paid it for and still learn the secret that
 * makes the payer's voucher redeemable (DESIGN §11).
 * @param publicKey - 0x hex, compressed (33 bytes) or uncompressed (65 bytes): the payee's `extra.payToPubkey`
 * @param secret - 0x hex, 32 bytes
 * @param amount - what the payee must receive, base units (< 2^256)
 * @returns the ciphertext, 0x hex
 * @throws {UsageError} the key, the secret or the amount is not what it should be
 */
export function encryptSecret(publicKey: string, secret: string, amount: bigint): string {
  const key = publicKey.toLowerCase()
  const form = key.slice(0, 4)
  if (!HEX.test(key) || !((key.length === 68 && (form === '0x02' || form === '0x03')) || (key.length === 132 && form === '0x04'))) throw new UsageError(`The payee's public key must be 33 or 65 bytes of 0x hex, not "${publicKey.slice(0, 20)}…".`)
  secretHashOf(secret) // the same check of the secret's form
  if (secret.length !== 66) throw new UsageError('A payment\'s secret is 32 bytes.')
  if (amount < 0n || amount >= 1n << 256n) throw new UsageError('The amount must fit 256 bits.')
  const plain = Buffer.concat([Buffer.from(secret.slice(2), 'hex'), Buffer.from(amount.toString(16).padStart(64, '0'), 'hex')])
  try {
    return '0x' + Buffer.from(eciesEncrypt(Buffer.from(key.slice(2), 'hex'), plain)).toString('hex')
  } catch {
    throw new UsageError(`The payee's public key ${publicKey.slice(0, 20)}… is not a point of secp256k1.`)
  }
}

/**
 * Decrypts a payment's secret and amount encrypted to this key ({@link encryptSecret}) and checks
 * the secret against the hash it must open: a payee never trusts a ciphertext to hold the preimage it claims.
 * @param privateKey - 0x hex, 32 bytes
 * @param ciphertext - 0x hex, from {@link encryptSecret}
 * @param secretHash - the hash lock the secret must open
 * @returns the secret (0x hex) and the amount the payer meant the payee to receive (base units)
 * @throws {InvalidVoucherError} it does not decrypt with this key, is not 64 bytes, or its sha256 is not `secretHash`
 */
export function decryptSecret(privateKey: string, ciphertext: string, secretHash: string): { secret: string; amount: bigint } {
  const c = ciphertext.toLowerCase()
  if (!HEX.test(c) || c.length > 2 + 2 * 1024) throw new InvalidVoucherError('The encrypted secret is not 0x hex (at most 1 KiB).')
  let plain: Buffer
  try {
    plain = Buffer.from(eciesDecrypt(Buffer.from(privateKey.replace(/^0x/, ''), 'hex'), Buffer.from(c.slice(2), 'hex')))
  } catch {
    throw new InvalidVoucherError('The encrypted secret does not decrypt with this wallet\'s key: it was encrypted to another key, or altered.')
  }
  if (plain.length !== 64) throw new InvalidVoucherError('The encrypted secret is not a 32-byte secret and a 32-byte amount.')
  const secret = '0x' + plain.subarray(0, 32).toString('hex')
  if (secretHashOf(secret) !== secretHash.toLowerCase()) throw new InvalidVoucherError('The decrypted secret does not open the hash lock (sha256 differs).')
  return { secret, amount: BigInt('0x' + plain.subarray(32).toString('hex')) }
}
