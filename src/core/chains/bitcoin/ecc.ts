/**
 * The secp256k1 backend of bitcoinjs, set up once: tiny-secp256k1 (WASM) for
 * bitcoinjs itself, and the `ECPair` / `BIP32` factories built on it.
 */
import { initEccLib } from 'bitcoinjs-lib'
import * as ecc from 'tiny-secp256k1'
import { ECPairFactory } from 'ecpair'
import { BIP32Factory } from 'bip32'

initEccLib(ecc)

/** Single keys (`ECPair.fromPrivateKey`, `ECPair.fromWIF`). */
export const ECPair = ECPairFactory(ecc)
/** HD keys (`BIP32.fromSeed(seed).derivePath(…)`). */
export const BIP32 = BIP32Factory(ecc)
export { ecc }
