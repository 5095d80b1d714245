/**
 * The two1 channel redeem script (src/families/bitcoin/script.ts): the seed's
 * example rebuilt byte for byte from its two pubkeys and lock time, its P2SH
 * address, parse round trips, and every refusal of parseRedeemScript (bitcoinjs
 * fixture style: `valid` / `invalid` tables).
 */
import { describe, expect, it } from 'vitest'
import { LITECOIN_REGTEST, BITCOIN_REGTEST, buildRedeemScript, depositOutput, parseRedeemScript } from '../../src/families/bitcoin/index.js'
import { toHex } from '../../src/families/bitcoin/script.js'

/** From /work/shared/seeds/two1-payment-channels-client.md (two1 docs). */
const SEED = {
  merchantPubkey: '02d79987da792634d39f5c14741774311ab9421d2775c2bc9a608489de9277aa83',
  customerPubkey: '03a5c2c5fe32a8ae5a8f67a314042cdd9eb33be822c6214d46109654ee269519fa',
  lockTime: 1450302052,
  redeemScript:
    '632102d79987da792634d39f5c14741774311ab9421d2775c2bc9a608489de9277aa83ad670464da7156b175682103a5c2c5fe32a8ae5a8f67a314042cdd9eb33be822c6214d46109654ee269519faac',
  p2shAddress: '3MuV5ndotUyvgMc4cq73JPHwBEVMEgHUSa',
}
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))
const params = (expiry = SEED.lockTime) => ({ payeePubkey: hex(SEED.merchantPubkey), payerPubkey: hex(SEED.customerPubkey), expiry })
const withExpiry = (expiryPush: string) =>
  SEED.redeemScript.replace('0464da7156', expiryPush)

describe('the two1 seed', () => {
  it('rebuilds the redeem script byte for byte from the two pubkeys and the lock time', () => {
    expect(toHex(buildRedeemScript(params()))).toBe(SEED.redeemScript)
  })
  it('gives the seed P2SH address on mainnet', () => {
    expect(depositOutput(SEED.redeemScript, { p2sh: true }).address).toBe(SEED.p2shAddress)
  })
  it('parses back to the same pubkeys and lock time (hex and bytes)', () => {
    for (const input of [SEED.redeemScript, hex(SEED.redeemScript)]) {
      const parsed = parseRedeemScript(input)
      expect({ payee: toHex(parsed.payeePubkey), payer: toHex(parsed.payerPubkey), expiry: parsed.expiry }).toEqual({
        payee: SEED.merchantPubkey, payer: SEED.customerPubkey, expiry: SEED.lockTime,
      })
    }
  })
})

describe('valid', () => {
  const VALID = [
    { name: 'smallest unix time (4-byte push)', expiry: 500_000_000, push: '040065cd1d' },
    { name: 'a 2038+ time needs a 5th byte for the sign', expiry: 0x80000000, push: '050000008000' },
    { name: 'largest lock time', expiry: 0xffffffff, push: '05ffffffff00' },
  ]
  it.each(VALID)('$name', ({ expiry, push }) => {
    const script = toHex(buildRedeemScript(params(expiry)))
    expect(script).toBe(withExpiry(push))
    expect(parseRedeemScript(script).expiry).toBe(expiry)
  })
  it('P2WSH by default; P2SH and P2WSH on regtest networks', () => {
    expect(depositOutput(SEED.redeemScript).address).toMatch(/^bc1q[a-z0-9]{58}$/)
    expect(depositOutput(SEED.redeemScript, { network: BITCOIN_REGTEST }).address).toMatch(/^bcrt1q/)
    expect(depositOutput(SEED.redeemScript, { network: LITECOIN_REGTEST }).address).toMatch(/^rltc1q/)
    // version byte 0x3a encodes as 'Q' (litecoind regtest's SCRIPT_ADDRESS2)
    expect(depositOutput(SEED.redeemScript, { network: LITECOIN_REGTEST, p2sh: true }).address).toMatch(/^Q/)
    expect(toHex(depositOutput(SEED.redeemScript).output)).toMatch(/^0020[0-9a-f]{64}$/)
  })
})

describe('invalid', () => {
  const INVALID: { name: string; script: string; error: string }[] = [
    { name: 'not hex', script: 'zz', error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'odd-length hex', script: SEED.redeemScript.slice(1), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'empty', script: '', error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'truncated push', script: SEED.redeemScript.slice(0, 20), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'trailing opcode', script: SEED.redeemScript + '75', error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'OP_NOTIF instead of OP_IF', script: '64' + SEED.redeemScript.slice(2), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'OP_CHECKSIG instead of OP_CHECKSIGVERIFY', script: SEED.redeemScript.replace('83ad67', '83ac67'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'OP_CHECKSEQUENCEVERIFY instead of CLTV', script: SEED.redeemScript.replace('56b175', '56b275'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'payer checked with CHECKSIGVERIFY', script: SEED.redeemScript.slice(0, -2) + 'ad', error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'block-height expiry', script: withExpiry('03a08601'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'small-number opcode expiry', script: withExpiry('55'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'non-minimal expiry (padded)', script: withExpiry('0564da715600'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'negative expiry', script: withExpiry('0464da71d6'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'expiry pushed with OP_PUSHDATA1', script: withExpiry('4c0464da7156'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'uncompressed-size payee pubkey', script: SEED.redeemScript.replace('2102d799', '2104d799'), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'payee pubkey not on the curve', script: SEED.redeemScript.replace(SEED.merchantPubkey, '02' + '00'.repeat(32)), error: 'Bitcoin.InvalidRedeemScriptError' },
    { name: 'payer pubkey not on the curve', script: SEED.redeemScript.replace(SEED.customerPubkey, '03' + 'ff'.repeat(32)), error: 'Bitcoin.InvalidRedeemScriptError' },
  ]
  it.each(INVALID)('$name', ({ script, error }) => {
    expect(() => parseRedeemScript(script)).toThrow(expect.objectContaining({ name: error, exitCode: 2 }))
  })

  it.each([
    { name: 'block height', expiry: 100_000 },
    { name: 'above 2^32-1', expiry: 2 ** 32 },
    { name: 'not an integer', expiry: 1450302052.5 },
  ])('buildRedeemScript refuses an expiry that is a $name', ({ expiry }) => {
    expect(() => buildRedeemScript(params(expiry))).toThrow(expect.objectContaining({ name: 'Bitcoin.InvalidRedeemScriptError' }))
  })

  it('pins the message of a refusal', () => {
    expect(() => parseRedeemScript(SEED.redeemScript.replace('83ad67', '83ac67'))).toThrowErrorMatchingInlineSnapshot(`
      [Bitcoin.InvalidRedeemScriptError: Not a channel redeem script: operation 2 is not OP_CHECKSIGVERIFY.
      Details: 632102d79987da792634d39f5c14741774311ab9421d2775c2bc9a608489de9277aa83ac670464da7156b175682103a5c2c5fe32a8ae5a8f67a314042cdd9eb33be822c6214d46109654ee269519faac]
    `)
  })
})
