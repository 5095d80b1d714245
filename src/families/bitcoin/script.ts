/**
 * The two1 channel redeem script, byte for byte:
 *
 *     OP_IF <payee pubkey> OP_CHECKSIGVERIFY
 *     OP_ELSE <expiry> OP_CHECKLOCKTIMEVERIFY OP_DROP
 *     OP_ENDIF <payer pubkey> OP_CHECKSIG
 *
 * and the deposit outputs paying to it (P2WSH by default, P2SH as two1 did).
 */
import { opcodes, payments, script as bscript } from 'bitcoinjs-lib'
import { ecc } from './ecc.js'
import { InvalidRedeemScriptError } from './errors.js'
import { BITCOIN_MAINNET, toBitcoinjsNetwork, type BitcoinNetworkParams } from './networks.js'

/** Bytes as a `Uint8Array`, or their hex. */
export type BytesLike = Uint8Array | string

/** The three parameters of a channel's redeem script. */
export interface RedeemScriptParams {
  /** The payee's (merchant's) compressed channel pubkey, 33 bytes. */
  payeePubkey: Uint8Array
  /** The payer's (customer's) compressed channel pubkey, 33 bytes. */
  payerPubkey: Uint8Array
  /** When the payer may take the deposit back: a unix time in seconds (≥ 500,000,000, ≤ 2³²−1). */
  expiry: number
}

/** Bitcoin Core `LOCKTIME_THRESHOLD`: lock times below are block heights, above unix times. */
export const LOCKTIME_THRESHOLD = 500_000_000
const MAX_LOCKTIME = 0xffffffff

/** Decodes hex or copies bytes; hex must be even-length `[0-9a-f]`. */
export function toBytes(value: BytesLike, what = 'value'): Uint8Array {
  if (typeof value !== 'string') return Uint8Array.from(value)
  const hex = value.startsWith('0x') ? value.slice(2) : value
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new InvalidRedeemScriptError(`The ${what} is not hex.`, { details: value.slice(0, 80) })
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Hex of some bytes. */
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function checkPubkey(pubkey: Uint8Array, who: string): void {
  if (pubkey.length !== 33 || (pubkey[0] !== 0x02 && pubkey[0] !== 0x03) || !ecc.isPoint(pubkey)) {
    throw new InvalidRedeemScriptError(`The ${who} pubkey is not a compressed secp256k1 point.`, {
      details: toHex(pubkey),
      data: { reason: `${who}-pubkey` },
    })
  }
}

function checkExpiry(expiry: number): void {
  if (!Number.isSafeInteger(expiry) || expiry < LOCKTIME_THRESHOLD || expiry > MAX_LOCKTIME) {
    throw new InvalidRedeemScriptError('The expiry is not a unix time usable as a lock time.', {
      details: `${expiry} (expected an integer in [${LOCKTIME_THRESHOLD}, ${MAX_LOCKTIME}])`,
      data: { reason: 'expiry' },
    })
  }
}

/**
 * Builds the two1 channel redeem script; the expiry is a minimal script number.
 * @param params - Payee pubkey, payer pubkey, expiry (unix time, seconds).
 * @returns The script bytes (80 bytes for a 4-byte expiry).
 * @throws {InvalidRedeemScriptError} A pubkey is not a compressed point, or the expiry is not a unix time.
 * @example
 * toHex(buildRedeemScript({ payeePubkey, payerPubkey, expiry: 1450302052 }))
 * // '632102d799…83ad670464da7156b175682103a5c2…faac'
 */
export function buildRedeemScript({ payeePubkey, payerPubkey, expiry }: RedeemScriptParams): Uint8Array {
  checkPubkey(payeePubkey, 'payee')
  checkPubkey(payerPubkey, 'payer')
  checkExpiry(expiry)
  return bscript.compile([
    opcodes.OP_IF, payeePubkey, opcodes.OP_CHECKSIGVERIFY,
    opcodes.OP_ELSE, bscript.number.encode(expiry), opcodes.OP_CHECKLOCKTIMEVERIFY, opcodes.OP_DROP,
    opcodes.OP_ENDIF, payerPubkey, opcodes.OP_CHECKSIG,
  ])
}

/**
 * Reads a channel redeem script back; anything but the exact two1 script (as
 * {@link buildRedeemScript} would write it) is refused.
 * @param script - The script, as bytes or hex.
 * @returns Its payee pubkey, payer pubkey and expiry (unix time, seconds).
 * @throws {InvalidRedeemScriptError} Not hex, not decodable, another shape, a bad pubkey, a non-minimal or out-of-range expiry.
 * @example parseRedeemScript('6321…ac').expiry // 1450302052
 */
export function parseRedeemScript(script: BytesLike): RedeemScriptParams {
  const bytes = toBytes(script, 'redeem script')
  const chunks = bscript.decompile(bytes)
  const refuse = (why: string): never => {
    throw new InvalidRedeemScriptError(`Not a channel redeem script: ${why}.`, {
      details: toHex(bytes).slice(0, 200),
      data: { reason: 'shape' },
    })
  }
  if (!chunks) return refuse('it does not decode')
  const shape = [
    opcodes.OP_IF, 'pubkey', opcodes.OP_CHECKSIGVERIFY,
    opcodes.OP_ELSE, 'expiry', opcodes.OP_CHECKLOCKTIMEVERIFY, opcodes.OP_DROP,
    opcodes.OP_ENDIF, 'pubkey', opcodes.OP_CHECKSIG,
  ] as const
  if (chunks.length !== shape.length) return refuse(`${chunks.length} operations instead of ${shape.length}`)
  shape.forEach((want, i) => {
    const got = chunks[i]
    if (typeof want === 'number' && got !== want) refuse(`operation ${i} is not ${bscript.toASM([want])}`)
    if (typeof want === 'string' && typeof got === 'number') refuse(`operation ${i} is an opcode, not the ${want}`)
  })
  const payeePubkey = chunks[1] as Uint8Array
  const payerPubkey = chunks[8] as Uint8Array
  let expiry: number
  try {
    expiry = bscript.number.decode(chunks[4] as Uint8Array, 5, true)
  } catch (cause) {
    throw new InvalidRedeemScriptError('Not a channel redeem script: the expiry is not a minimal script number.', {
      cause,
      data: { reason: 'expiry' },
    })
  }
  const params = { payeePubkey: Uint8Array.from(payeePubkey), payerPubkey: Uint8Array.from(payerPubkey), expiry }
  // Same shape, but non-minimal pushes or a stray encoding: the bytes must be ours exactly.
  if (toHex(buildRedeemScript(params)) !== toHex(bytes)) refuse('it is not minimally encoded')
  return params
}

/** A deposit's locking script and address. */
export interface DepositOutput {
  /** The address to fund. */
  address: string
  /** The output script (scriptPubKey) of the deposit. */
  output: Uint8Array
}

/**
 * The deposit address and output script of a redeem script: P2WSH by default, P2SH with `p2sh: true`.
 * @param redeemScript - A channel redeem script (checked with {@link parseRedeemScript}).
 * @param options - `p2sh` for a two1-compatible P2SH deposit; `network` (default Bitcoin mainnet).
 * @returns The address and output script.
 * @throws {InvalidRedeemScriptError} The script is not a channel redeem script.
 * @example depositOutput(script, { p2sh: true }).address // '3MuV5ndotUyvgMc4cq73JPHwBEVMEgHUSa'
 */
export function depositOutput(
  redeemScript: BytesLike,
  options: { p2sh?: boolean; network?: BitcoinNetworkParams } = {},
): DepositOutput {
  const bytes = toBytes(redeemScript, 'redeem script')
  parseRedeemScript(bytes)
  const network = toBitcoinjsNetwork(options.network ?? BITCOIN_MAINNET)
  const payment = options.p2sh
    ? payments.p2sh({ redeem: { output: bytes }, network })
    : payments.p2wsh({ redeem: { output: bytes }, network })
  return { address: payment.address!, output: payment.output! }
}

/** The P2WPKH address of a channel pubkey (hex) on a network: where its coins for deposits go. */
export function fundingAddressOf(pubkey: string, params: BitcoinNetworkParams | Omit<BitcoinNetworkParams, 'name'>): string {
  return payments.p2wpkh({ pubkey: Buffer.from(pubkey, 'hex'), network: toBitcoinjsNetwork({ name: '', ...params }) }).address!
}

/** How a channel key is paid: P2WPKH (default) or P2PKH (as two1 did). */
export type KeyOutputType = 'p2wpkh' | 'p2pkh'

/**
 * The output script paying a channel key.
 * @param pubkey - A compressed pubkey.
 * @param type - `p2wpkh` (default) or `p2pkh`.
 * @returns The output script.
 * @example toHex(keyOutputScript(pubkey)) // '0014…'
 */
export function keyOutputScript(pubkey: Uint8Array, type: KeyOutputType = 'p2wpkh'): Uint8Array {
  return type === 'p2pkh' ? payments.p2pkh({ pubkey }).output! : payments.p2wpkh({ pubkey }).output!
}
