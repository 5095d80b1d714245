/**
 * The secp256k1 backend of bitcoinjs, set up once: tiny-secp256k1 (WASM) for
 * bitcoinjs itself, and the `ECPair` / `BIP32` factories built on it (`BIP32` is the keys' own).
 */
import { initEccLib } from 'bitcoinjs-lib'
import * as ecc from 'tiny-secp256k1'
import { ECPairFactory } from 'ecpair'

initEccLib(ecc)

/** Single keys (`ECPair.fromPrivateKey`, `ECPair.fromWIF`). */
export const ECPair = ECPairFactory(ecc)
/** HD keys (`BIP32.fromSeed(seed).derivePath(…)`), the keys' own factory (keys/hd.ts). */
export { BIP32 } from '../../core/keys/hd.js'
export { ecc }
