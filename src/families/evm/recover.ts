/**
 * The voucher's EIP-712 digest, its signing (the payer's hot path) and signer recovery
 * (the paywall's).
 *
 * The digest is hashed by hand from precomputed parts (type hashes, and one domain
 * separator per chain and contract) instead of walking the types with ethers'
 * `TypedDataEncoder` on every call, with the native `keccak` binding (≈7× faster than
 * the pure-JS keccak of `@noble/hashes`, which is its fallback). The signer is
 * recovered with libsecp256k1 through the `secp256k1` native binding (≈25× ethers'
 * pure-JS recover), and the payer's vouchers are signed with it too ({@link signDigest},
 * ≈9× ethers' pure-JS `SigningKey.sign`, the same bytes); ethers is the fallback only when the
 * binding cannot load ({@link verifierBackend} says which one is in use). Both bindings load on first use.
 * `test/unit/recover.test.ts` checks both against ethers on random vouchers, `test/unit/sign.test.ts` the
 * signatures against ethers' byte for byte, `test/unit/voucher.test.ts` the digest against the contract's
 * `voucherDigest`.
 */
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { UsageError } from '../../core/errors.js'
import type { UnsignedVoucher } from './chain.js'

const require = createRequire(import.meta.url)
/**
 * noble's pure-JS keccak-256, loaded on first use: commands that import this module and
 * never hash (`status`, `list`) do not pay for loading it and hashing the type strings.
 */
let nobleKeccak: ((data: Uint8Array) => Uint8Array) | undefined
const keccak_256 = (data: Uint8Array): Uint8Array => (nobleKeccak ??= (require('@noble/hashes/sha3') as typeof import('@noble/hashes/sha3')).keccak_256)(data)
const UINT64_MAX = (1n << 64n) - 1n
const UINT256_MAX = (1n << 256n) - 1n
/** secp256k1 group order / 2: signatures with a higher s are malleable twins. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/

const utf8 = (s: string) => Buffer.from(s, 'utf8')
interface NativeKeccakState {
  initialize(rate: number, capacity: number): void
  absorb(data: Buffer): void
  squeeze(length: number): Buffer
}

/**
 * keccak-256 for the per-voucher hashes: the `keccak` package's native sponge when it
 * loads and hashes a known vector right (its stream wrapper costs more than the hash),
 * else noble's pure-JS keccak.
 */
let keccak = (data: Uint8Array): Uint8Array => {
  keccak = keccak_256
  try {
    const pkg = require.resolve('keccak/package.json')
    const State = (createRequire(pkg)('node-gyp-build') as (dir: string) => new () => NativeKeccakState)(dirname(pkg))
    const state = new State()
    const native = (d: Uint8Array): Uint8Array => {
      state.initialize(1088, 512)
      state.absorb(Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength))
      return state.squeeze(32)
    }
    const probe = utf8('channels')
    if (Buffer.from(native(probe)).equals(Buffer.from(keccak_256(probe)))) keccak = native
  } catch {
    /* keep the pure-JS keccak */
  }
  return keccak(data)
}

/** The EIP-712 type hashes and the domain's name and version hashes (computed on first use). */
let constants: ReturnType<typeof typeHashes> | undefined
const hashes = () => (constants ??= typeHashes())
function typeHashes() {
  return {
    DOMAIN_TYPEHASH: keccak_256(utf8('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)')),
    MERGE_TYPEHASH: keccak_256(utf8('Merge(uint64 lane,uint64 nonce)')),
    VOUCHER_TYPEHASH: keccak_256(utf8(
      'Voucher(bytes32 channelId,uint64 lane,uint64 nonce,uint256 amount,bytes32 secretHash,uint64 timeLockMin,' +
      'uint64 timeLockMax,uint64 minSettleAt,Merge[] merges)Merge(uint64 lane,uint64 nonce)',
    )),
    NAME_HASH: keccak_256(utf8('PaymentChannels')),
    VERSION_HASH: keccak_256(utf8('1')),
    NO_MERGES_HASH: keccak_256(new Uint8Array(0)),
  }
}

/** Domain separators by chain id, then contract (a paywall sees one or two). */
const domains = new Map<bigint, Map<string, Uint8Array>>()

function putUint(buf: Buffer, offset: number, value: bigint, max: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > max) throw new UsageError(`Voucher ${what} ${String(value)} is out of range.`)
  if (max === UINT64_MAX) {
    buf.fill(0, offset, offset + 24)
    buf.writeBigUInt64BE(value, offset + 24)
  } else buf.write(value.toString(16).padStart(64, '0'), offset, 32, 'hex')
}

function putBytes32(buf: Buffer, offset: number, hex: string, what: string): void {
  if (typeof hex !== 'string' || !BYTES32_RE.test(hex)) throw new UsageError(`Voucher ${what} must be 32 bytes of hex.`)
  buf.write(hex.slice(2), offset, 32, 'hex')
}

/**
 * EIP-712 domain separator of the PaymentChannels contract, cached per chain and contract.
 * @throws {UsageError} the contract is not an address (or has a bad EIP-55 checksum)
 */
export function domainSeparator(chainId: bigint, contract: string): Uint8Array {
  let byContract = domains.get(chainId)
  let sep = byContract?.get(contract)
  if (!sep) {
    if (!ADDRESS_RE.test(contract)) throw new UsageError(`Contract address ${contract} is not 20 bytes of hex.`)
    const lower = contract.slice(2).toLowerCase()
    if (contract.slice(2) !== lower && contract.slice(2) !== lower.toUpperCase() && checksumAddress(lower) !== contract) {
      throw new UsageError(`Contract address ${contract} has a bad EIP-55 checksum.`)
    }
    const { DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH } = hashes()
    const buf = Buffer.alloc(160)
    buf.set(DOMAIN_TYPEHASH, 0)
    buf.set(NAME_HASH, 32)
    buf.set(VERSION_HASH, 64)
    putUint(buf, 96, chainId, UINT256_MAX, 'chainId')
    buf.write(lower, 140, 20, 'hex')
    sep = keccak_256(buf)
    if (domains.size > 16) domains.clear()
    if (!byContract || !domains.has(chainId)) domains.set(chainId, (byContract = new Map()))
    if (byContract.size > 64) byContract.clear()
    byContract.set(contract, sep)
  }
  return sep
}

/**
 * EIP-712 digest of a voucher, as 32 bytes (what the contract's `voucherDigest` returns).
 * @throws {UsageError} a field out of its Solidity type's range
 */
export function voucherDigestBytes(v: UnsignedVoucher, chainId: bigint, contract: string): Uint8Array {
  const sep = domainSeparator(chainId, contract)
  const { NO_MERGES_HASH, MERGE_TYPEHASH, VOUCHER_TYPEHASH } = hashes()
  let mergesHash = NO_MERGES_HASH
  if (v.merges.length) {
    const all = Buffer.alloc(32 * v.merges.length)
    const one = Buffer.alloc(96)
    one.set(MERGE_TYPEHASH, 0)
    v.merges.forEach((m, i) => {
      putUint(one, 32, m.lane, UINT64_MAX, 'merge lane')
      putUint(one, 64, m.nonce, UINT64_MAX, 'merge nonce')
      all.set(keccak(one), 32 * i)
    })
    mergesHash = keccak(all)
  }
  const s = Buffer.alloc(320)
  s.set(VOUCHER_TYPEHASH, 0)
  putBytes32(s, 32, v.channelId, 'channelId')
  putUint(s, 64, v.lane, UINT64_MAX, 'lane')
  putUint(s, 96, v.nonce, UINT64_MAX, 'nonce')
  putUint(s, 128, v.amount, UINT256_MAX, 'amount')
  putBytes32(s, 160, v.secretHash, 'secretHash')
  putUint(s, 192, v.timeLockMin, UINT64_MAX, 'timeLockMin')
  putUint(s, 224, v.timeLockMax, UINT64_MAX, 'timeLockMax')
  putUint(s, 256, v.minSettleAt, UINT64_MAX, 'minSettleAt')
  s.set(mergesHash, 288)
  const d = Buffer.alloc(66)
  d[0] = 0x19
  d[1] = 0x01
  d.set(sep, 2)
  d.set(keccak(s), 34)
  return keccak(d)
}

/** EIP-55 mixed-case form of a lowercase 40-digit hex address (without `0x`). */
function checksumAddress(lower: string): string {
  const h = keccak_256(utf8(lower))
  let out = '0x'
  for (let i = 0; i < 40; i++) {
    const nibble = i % 2 === 0 ? h[i >> 1] >> 4 : h[i >> 1] & 15
    out += nibble >= 8 ? lower[i].toUpperCase() : lower[i]
  }
  return out
}

/** A few thousand payers' checksummed addresses, so a repeat payer costs no extra keccak. */
const checksums = new Map<string, string>()
function cachedChecksum(lower: string): string {
  let a = checksums.get(lower)
  if (a === undefined) {
    a = checksumAddress(lower)
    if (checksums.size >= 4096) checksums.clear()
    checksums.set(lower, a)
  }
  return a
}

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array, options?: object, output?: Uint8Array): { signature: Uint8Array; recid: number }
}

/** Recovers the 64-byte uncompressed public key (without the 0x04 prefix) that signed `digest`. */
type Recover = (digest: Uint8Array, rs: Buffer, recid: number) => Uint8Array
/** Signs a 32-byte digest with a 32-byte private key: the 65-byte r‖s‖v signature as 0x hex. */
type Sign = (digest: Uint8Array, key: Buffer) => string

/** secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/**
 * The digest as RFC 6979 hashes it for the nonce: reduced mod n. The libsecp256k1 bundled
 * with `secp256k1` feeds the nonce function the unreduced bytes, noble (ethers) the reduced
 * ones; signing `digest mod n` is the same ECDSA (the scalar is reduced anyway) and makes
 * both draw the same nonce. A digest ≥ n starts with 15 0xff bytes (a chance of ≈2^-128).
 */
function reducedDigest(digest: Uint8Array): Uint8Array {
  if (digest[0] !== 0xff) return digest
  const d = BigInt('0x' + Buffer.from(digest).toString('hex'))
  return d < N ? digest : Buffer.from((d - N).toString(16).padStart(64, '0'), 'hex')
}

function loadSecp256k1(): { name: 'libsecp256k1' | 'ethers'; recover: Recover; sign: Sign } {
  try {
    // `secp256k1/bindings` is the native module alone (its index silently falls back to elliptic).
    const native = require('secp256k1/bindings') as NativeSecp256k1
    const out = new Uint8Array(65)
    const rsOut = Buffer.alloc(64)
    const sigOut = Buffer.alloc(65)
    return {
      name: 'libsecp256k1',
      recover: (digest, rs, recid) => native.ecdsaRecover(rs, recid, digest, false, out).subarray(1),
      // libsecp256k1 signs with RFC 6979 nonces and normalizes s to the lower half, as noble does for ethers.
      sign: (digest, key) => {
        const { recid } = native.ecdsaSign(reducedDigest(digest), key, {}, rsOut)
        sigOut.set(rsOut, 0)
        // As ethers' SigningKey.sign: any non-zero recovery id (bit 1 only for an r ≥ n, ≈2^-128) is 28.
        sigOut[64] = recid ? 0x1c : 0x1b
        return '0x' + sigOut.toString('hex')
      },
    }
  } catch {
    const { SigningKey, Signature, hexlify } = require('ethers') as typeof import('ethers')
    return {
      name: 'ethers',
      recover: (digest, rs, recid) => {
        const sig = Signature.from({ r: hexlify(rs.subarray(0, 32)), s: hexlify(rs.subarray(32, 64)), v: 27 + recid })
        return Buffer.from(SigningKey.recoverPublicKey(digest, sig).slice(4), 'hex')
      },
      sign: (digest, key) => new SigningKey(key).sign(digest).serialized,
    }
  }
}

let backend: ReturnType<typeof loadSecp256k1> | undefined

/** Which secp256k1 implementation signs and recovers signers here: the native binding or the ethers fallback. */
export function verifierBackend(): 'libsecp256k1' | 'ethers' {
  backend ??= loadSecp256k1()
  return backend.name
}

const PRIVATE_KEY_RE = /^0x[0-9a-fA-F]{64}$/

/**
 * Signs a 32-byte digest with a secp256k1 private key, byte for byte as ethers'
 * `new SigningKey(privateKey).sign(digest).serialized` (RFC 6979 nonce, low s,
 * v = 27 or 28), with libsecp256k1 when its binding loads, else with ethers
 * ({@link verifierBackend} says which).
 * @param privateKey - 32 bytes, or their 0x hex (what `signer.signingKey.privateKey` holds)
 * @param digest - the 32 bytes to sign (e.g. {@link voucherDigestBytes})
 * @returns the 65-byte r‖s‖v signature as 0x-prefixed hex
 * @throws {UsageError} the key is not 32 bytes, is 0 or ≥ n; the digest is not 32 bytes
 * @example
 * signDigest('0x' + '01'.repeat(32), new Uint8Array(32))
 * // '0x…1b' (132 hex characters)
 */
export function signDigest(privateKey: string | Uint8Array, digest: Uint8Array): string {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new UsageError('A digest to sign must be 32 bytes.')
  let key: Buffer
  if (typeof privateKey === 'string') {
    if (!PRIVATE_KEY_RE.test(privateKey)) throw new UsageError('A private key must be 32 bytes of hex.')
    key = Buffer.from(privateKey.slice(2), 'hex')
  } else if (privateKey instanceof Uint8Array && privateKey.length === 32) {
    key = Buffer.from(privateKey.buffer, privateKey.byteOffset, 32)
  } else throw new UsageError('A private key must be 32 bytes.')
  backend ??= loadSecp256k1()
  try {
    return backend.sign(digest, key)
  } catch (err) {
    throw new UsageError('The private key is not a valid secp256k1 key.', { cause: err })
  }
}

/**
 * Recovers the signer of a 65-byte r‖s‖v signature over a 32-byte digest, refusing
 * malformed, high-s and bad-v signatures (OpenZeppelin ECDSA refuses them too).
 * @returns the EIP-55 address of the signer
 * @throws {UsageError} malformed or malleable signature, or no address recovers
 */
export function recoverDigestSigner(digest: Uint8Array, signature: string): string {
  return addressOfKey(recoverKeyView(digest, signature))
}

/**
 * Recovers the public key behind a 65-byte r‖s‖v signature over a 32-byte digest, and its
 * address, with one recovery (libsecp256k1 when it loads): what an Interledger claim carries
 * beside a voucher (`ChannelScheme.voucherProof`). Refuses what {@link recoverDigestSigner} refuses.
 * @returns `publicKey`: the 64-byte uncompressed key without its 0x04 prefix (a copy, the caller's
 *   to keep); `signer`: its EIP-55 address
 * @throws {UsageError} malformed or malleable signature, or no key recovers
 * @example
 * recoverDigestKey(voucherDigestBytes(v, 31337n, contract), v.signature)
 * // { publicKey: Uint8Array(64), signer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' }
 */
export function recoverDigestKey(digest: Uint8Array, signature: string): { publicKey: Uint8Array; signer: string } {
  // The native recover writes into one shared buffer: copy before the next call does.
  const publicKey = Uint8Array.from(recoverKeyView(digest, signature))
  return { publicKey, signer: addressOfKey(publicKey) }
}

/** The EIP-55 address of a 64-byte uncompressed public key (without its 0x04 prefix). */
const addressOfKey = (publicKey: Uint8Array): string => cachedChecksum(Buffer.from(keccak(publicKey).subarray(12)).toString('hex'))

/** The signer's 64-byte public key, in the backend's buffer (valid until its next call); the checks of {@link recoverDigestSigner}. */
function recoverKeyView(digest: Uint8Array, signature: string): Uint8Array {
  if (typeof signature !== 'string' || !SIGNATURE_RE.test(signature)) throw new UsageError('Voucher signature must be 65 bytes of hex.')
  const s = BigInt('0x' + signature.slice(66, 130))
  if (s > HALF_N) throw new UsageError('Voucher signature has a high s value (malleable twin); refused.')
  const vByte = parseInt(signature.slice(130, 132), 16)
  if (vByte !== 27 && vByte !== 28) throw new UsageError('Voucher signature has an invalid recovery byte.')
  backend ??= loadSecp256k1()
  let pub: Uint8Array
  try {
    pub = backend.recover(digest, Buffer.from(signature.slice(2, 130), 'hex'), vByte - 27)
  } catch (err) {
    throw new UsageError('Voucher signature does not recover to an address.', { cause: err })
  }
  return pub
}
