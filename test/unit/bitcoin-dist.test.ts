/**
 * The Bitcoin channel API as a library user gets it: `import … from 'channels'`
 * resolves to dist/index.js (run `npm run build` first).
 */
import { describe, expect, it } from 'vitest'
// eslint-disable-next-line @typescript-eslint/ban-ts-comment -- not @ts-expect-error: that fails whenever dist's .d.ts is there
// @ts-ignore -- dist is built JS; its .d.ts may be absent before the first build
import { parseRedeemScript, verifyPaymentTransaction, InvalidRedeemScriptError, LITECOIN_REGTEST } from '../../dist/families/bitcoin/index.js'

describe('dist exports', () => {
  it('parseRedeemScript and verifyPaymentTransaction come from the built package', () => {
    const seed =
      '632102d79987da792634d39f5c14741774311ab9421d2775c2bc9a608489de9277aa83ad670464da7156b175682103a5c2c5fe32a8ae5a8f67a314042cdd9eb33be822c6214d46109654ee269519faac'
    expect(parseRedeemScript(seed).expiry).toBe(1450302052)
    expect(() => parseRedeemScript('00')).toThrow(InvalidRedeemScriptError)
    expect(typeof verifyPaymentTransaction).toBe('function')
    expect(LITECOIN_REGTEST).toMatchObject({ bech32: 'rltc', pubKeyHash: 0x6f, scriptHash: 0x3a })
  })
})
