/**
 * ECIES over secp256k1 in `eciesjs`'s format and defaults, computed natively.
 *
 * The format is eciesjs 0.5's (its `ECIES_CONFIG` defaults), byte for byte: an ephemeral key pair; the shared point
 * `ephemeral secret × receiver's public key`; the AES key `HKDF-SHA256(ephemeral public key ‖ shared point)` (both
 * uncompressed, 65 bytes; no salt, no info; 32 bytes); AES-256-GCM with a 16-byte random nonce; the payload
 * `ephemeral public key (65) ‖ nonce (16) ‖ tag (16) ‖ ciphertext`.
 *
 * Why not eciesjs itself on the hot path: it does its elliptic-curve arithmetic in pure JavaScript
 * (`@noble/curves`), ≈ 22 ms per encryption and per decryption on this project's 2-core machine, two of them per
 * routed payment (payer and payee) — two thirds of a routed payment's round trip (issue 12 §3, measured with
 * `--cpu-prof`). Here the scalar multiplications are libsecp256k1's (the `secp256k1` native binding the paywall
 * already recovers signers with, families/evm/recover.ts) and HKDF and AES-GCM are node:crypto's (OpenSSL):
 * nothing of the cryptography is ours, only the concatenation eciesjs defines. eciesjs stays the reference: the
 * property test `test/property/ecies.test.ts` checks that each side opens what the other sealed and that both refuse
 * the same altered payloads; and it is the fallback where the binding cannot load ({@link eciesBackend} says which).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** Sizes of eciesjs's default payload parts, bytes. */
const POINT = 65, NONCE = 16, TAG = 16

/** The part of the `secp256k1` package's API used here (its native build, `secp256k1/bindings`). */
interface NativeSecp256k1 {
  privateKeyVerify(seckey: Uint8Array): boolean
  publicKeyCreate(seckey: Uint8Array, compressed: boolean): Uint8Array
  ecdh(pubkey: Uint8Array, seckey: Uint8Array, options: { hashfn(x: Uint8Array, y: Uint8Array): Uint8Array }, output: Uint8Array): Uint8Array
}

interface Backend {
  name: 'libsecp256k1' | 'eciesjs'
  encrypt(publicKey: Uint8Array, plain: Uint8Array): Uint8Array
  decrypt(privateKey: Uint8Array, payload: Uint8Array): Uint8Array
}

/** The shared point as eciesjs hashes it: uncompressed, 0x04 ‖ x ‖ y. */
const uncompressed = (x: Uint8Array, y: Uint8Array) => Buffer.concat([Buffer.from([4]), x, y])

function nativeBackend(secp: NativeSecp256k1): Backend {
  const sharedKey = (ephemeralPublic: Uint8Array, point: Uint8Array) =>
    Buffer.from(hkdfSync('sha256', Buffer.concat([ephemeralPublic, point]), Buffer.alloc(0), Buffer.alloc(0), 32))
  const multiply = (publicKey: Uint8Array, secret: Uint8Array) => secp.ecdh(publicKey, secret, { hashfn: uncompressed }, Buffer.alloc(POINT))
  return {
    name: 'libsecp256k1',
    encrypt(publicKey, plain) {
      let ephemeral: Buffer
      do ephemeral = randomBytes(32)
      while (!secp.privateKeyVerify(ephemeral))
      const ephemeralPublic = secp.publicKeyCreate(ephemeral, false)
      const key = sharedKey(ephemeralPublic, multiply(publicKey, ephemeral))
      const nonce = randomBytes(NONCE)
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG })
      const sealed = Buffer.concat([cipher.update(plain), cipher.final()])
      return Buffer.concat([ephemeralPublic, nonce, cipher.getAuthTag(), sealed])
    },
    decrypt(privateKey, payload) {
      if (payload.length < POINT + NONCE + TAG) throw new Error('payload too short')
      // eciesjs reads exactly 65 bytes of uncompressed point; libsecp256k1 would also take the "hybrid" 0x06/0x07
      // encodings, which eciesjs refuses: refuse them too, so both accept the same payloads.
      if (payload[0] !== 4) throw new Error('the ephemeral key is not an uncompressed point')
      const ephemeralPublic = payload.subarray(0, POINT)
      const key = sharedKey(ephemeralPublic, multiply(ephemeralPublic, privateKey))
      const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(POINT, POINT + NONCE), { authTagLength: TAG })
      decipher.setAuthTag(payload.subarray(POINT + NONCE, POINT + NONCE + TAG))
      return Buffer.concat([decipher.update(payload.subarray(POINT + NONCE + TAG)), decipher.final()])
    },
  }
}

function eciesjsBackend(): Backend {
  const { encrypt, decrypt } = require('eciesjs') as typeof import('eciesjs')
  return { name: 'eciesjs', encrypt: (publicKey, plain) => encrypt(publicKey, plain), decrypt: (privateKey, payload) => decrypt(privateKey, payload) }
}

let backend: Backend | undefined
function load(): Backend {
  if (!backend) {
    try {
      // `secp256k1/bindings` is the native module alone (the package's index silently falls back to pure JS).
      backend = nativeBackend(require('secp256k1/bindings') as NativeSecp256k1)
    } catch {
      backend = eciesjsBackend()
    }
  }
  return backend
}

/** Which implementation seals and opens secrets here: libsecp256k1 + node:crypto, or the eciesjs fallback. */
export function eciesBackend(): 'libsecp256k1' | 'eciesjs' {
  return load().name
}

/**
 * Encrypts `plain` to a secp256k1 public key (ECIES, eciesjs's format).
 * @param publicKey - 33 bytes compressed (0x02/0x03) or 65 bytes uncompressed (0x04)
 * @returns the payload, 97 bytes + `plain.length`
 * @throws {Error} the public key is not a point of the curve
 */
export function eciesEncrypt(publicKey: Uint8Array, plain: Uint8Array): Uint8Array {
  return load().encrypt(publicKey, plain)
}

/**
 * Decrypts an eciesjs-format payload with a secp256k1 secret key.
 * @param privateKey - 32 bytes
 * @throws {Error} the payload is malformed, was sealed to another key, or was altered (the GCM tag does not verify)
 */
export function eciesDecrypt(privateKey: Uint8Array, payload: Uint8Array): Uint8Array {
  return load().decrypt(privateKey, payload)
}

/** Both implementations, for the differential test only. @internal */
export const eciesBackends = { native: () => nativeBackend(require('secp256k1/bindings') as NativeSecp256k1), eciesjs: eciesjsBackend }
