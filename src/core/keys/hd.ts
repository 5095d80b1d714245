/**
 * BIP32 HD keys over tiny-secp256k1 (WASM): how `keys new`/`keys import` derive a mnemonic's
 * EVM and Bitcoin keys. Key derivation belongs to the keys, not to a chain family: the Bitcoin
 * family's `ecc.ts` re-exports this factory, and the keys never import a family.
 */
import * as ecc from 'tiny-secp256k1'
import { BIP32Factory } from 'bip32'

/** HD keys (`BIP32.fromSeed(seed).derivePath(…)`). */
export const BIP32 = BIP32Factory(ecc)
