/**
 * Amount parsing and formatting (src/core/units.ts), table-driven: `valid` inputs
 * with the base units they mean, `invalid` inputs that must be a UsageError (exit 2)
 * naming the value. The assets are the ones the families build (families/<kind>/asset.ts):
 * units.ts itself knows no family.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_SATOSHIS, MAX_UINT256, formatAmount, formatUnits, parseAmount, parseBaseUnits, shortHex } from '../../src/core/units.js';
import type { Asset } from '../../src/core/asset.js';
import { ExitCode, UsageError } from '../../src/core/errors.js';
import { erc20Asset, evmAsset, evmNativeAsset } from '../../src/families/evm/asset.js';
import { bitcoinAsset } from '../../src/families/bitcoin/asset.js';

/** The assets of the devnets and of Bitcoin mainnet, as the families build them. */
const ETH: Asset = evmNativeAsset('eip155:31337');
const BTC: Asset = bitcoinAsset({ caip2: 'bip122:000000000019d6689c085ae165831e93', bitcoin: { bech32: 'bc' } });
const LTC: Asset = bitcoinAsset({ caip2: 'bip122:530827f38f93b43ed12af0b3ad25a288', bitcoin: { bech32: 'rltc' } });
const TOKEN = '0x3f2a91aa0000000000000000000000000000c0de';
const USDC: Asset = erc20Asset('eip155:31337', TOKEN, { symbol: 'USDC', decimals: 6 });
const UNKNOWN_TOKEN: Asset = erc20Asset('eip155:31337', TOKEN);

const MAX = ((1n << 256n) - 1n).toString();
const OVER = (1n << 256n).toString();

const fixtures = {
  parseAmount: {
    valid: [
      { input: '50', asset: ETH, expected: 50n },
      { input: '0', asset: ETH, expected: 0n },
      { input: '0.01eth', asset: ETH, expected: 10n ** 16n },
      { input: '1eth', asset: ETH, expected: 10n ** 18n },
      { input: '1ETH', asset: ETH, expected: 10n ** 18n },
      { input: '0.5 ether', asset: ETH, expected: 5n * 10n ** 17n },
      { input: '1000sat', asset: BTC, expected: 1000n },
      { input: '1000sats', asset: BTC, expected: 1000n },
      { input: '1.5gwei', asset: ETH, expected: 1_500_000_000n },
      { input: '7wei', asset: ETH, expected: 7n },
      { input: '0.00000001btc', asset: BTC, expected: 1n },
      { input: '1.000000000000000001eth', asset: ETH, expected: 10n ** 18n + 1n },
      { input: ' 42 ', asset: ETH, expected: 42n },
      { input: MAX, asset: ETH, expected: MAX_UINT256 },
      // either coin's unit on either Bitcoin-family chain, as always
      { input: '0.01ltc', asset: BTC, expected: 1_000_000n },
      { input: '0.01btc', asset: LTC, expected: 1_000_000n },
      { input: '1000sat', asset: LTC, expected: 1000n },
      { input: '21000000btc', asset: BTC, expected: MAX_SATOSHIS },
      // a token with a known symbol: its symbol is its unit
      { input: '1.5usdc', asset: USDC, expected: 1_500_000n },
      { input: '1.5USDC', asset: USDC, expected: 1_500_000n },
      { input: '1000', asset: USDC, expected: 1000n },
      // a token without: base units only
      { input: '1000', asset: UNKNOWN_TOKEN, expected: 1000n },
      // no asset: base units only
      { input: '50', asset: undefined, expected: 50n },
      { input: MAX, asset: undefined, expected: MAX_UINT256 },
    ] as { input: string; asset?: Asset; expected: bigint }[],
    invalid: [
      { name: '2^256', input: OVER, asset: ETH, message: /above 2\^256/ },
      { name: 'negative', input: '-1', asset: ETH },
      { name: 'exponent', input: '1e21', asset: ETH, message: /Use base units/ },
      { name: 'hex', input: '0x10', asset: ETH, message: /Use base units/ },
      { name: 'empty', input: '', asset: ETH },
      { name: 'blank', input: '   ', asset: ETH },
      { name: 'too many decimals', input: '1.0000000000000000001eth', asset: ETH, message: /eth has at most 18 decimals/ },
      { name: 'decimal without unit', input: '0.5', asset: ETH, message: /a decimal needs a unit/ },
      { name: 'unknown unit', input: '12abc', asset: ETH, message: /"12abc": abc is not a unit of this EVM network/ },
      { name: 'sat has no decimals', input: '1.5sat', asset: BTC, message: /sat has at most 0 decimals/ },
      { name: 'leading dot', input: '.5eth', asset: ETH },
      { name: 'two dots', input: '1.2.3eth', asset: ETH },
      { name: 'unit only', input: 'eth', asset: ETH },
      { name: 'btc above 2^256', input: `${OVER}btc`, asset: BTC, message: /above 2\^256/ },
      // the asset's units only (issue 9, bug 7)
      { name: 'a Bitcoin unit on EVM', input: '100sat', asset: ETH, message: /"100sat": sat is not a unit of this EVM network/ },
      { name: 'btc on EVM', input: '0.5btc', asset: ETH, message: /btc is not a unit of this EVM network/ },
      { name: 'an EVM unit on Bitcoin', input: '0.01eth', asset: BTC, message: /"0\.01eth": eth is not a unit of this Bitcoin-family network/ },
      { name: 'gwei on Litecoin', input: '5gwei', asset: LTC, message: /gwei is not a unit of this Bitcoin-family network/ },
      { name: 'above 21 million coins', input: '21000000.00000001btc', asset: BTC, message: /above 21 million coins/ },
      { name: 'above 21 million coins, in sat', input: (MAX_SATOSHIS + 1n).toString(), asset: LTC, message: /above 21 million coins/ },
      { name: 'eth on a token', input: '1eth', asset: USDC, message: /eth is not a unit of USDC/ },
      { name: 'too many decimals of a token', input: '0.0000001usdc', asset: USDC, message: /usdc has at most 6 decimals/ },
      { name: 'a unit on an unknown token', input: '1.5usdc', asset: UNKNOWN_TOKEN, message: /usdc is not a unit of the token 0x3f2a91aa0000000000000000000000000000c0de/ },
      { name: 'a unit without an asset', input: '0.01eth', asset: undefined, message: /unknown unit "eth"/ },
      { name: '2^256 without an asset', input: OVER, asset: undefined, message: /above 2\^256/ },
    ] as { name: string; input: string; asset?: Asset; message?: RegExp }[],
  },
  parseBaseUnits: {
    valid: [
      { input: '0', expected: 0n },
      { input: '1', expected: 1n },
      { input: '1000', expected: 1000n },
      { input: MAX, expected: MAX_UINT256 },
    ],
    invalid: [
      { name: 'number, not string', input: 1000 as unknown },
      { name: 'bigint, not string', input: 1000n as unknown },
      { name: 'null', input: null as unknown },
      { name: 'empty', input: '' },
      { name: 'leading zero', input: '01' },
      { name: 'negative', input: '-1' },
      { name: 'decimal', input: '1.5' },
      { name: 'unit', input: '1eth' },
      { name: 'hex', input: '0x10' },
      { name: 'exponent', input: '1e3' },
      { name: 'space', input: ' 1' },
      { name: '2^256', input: OVER, message: /above 2\^256/ },
      { name: '79 digits', input: '1' + '0'.repeat(78) },
    ],
  },
  formatUnits: [
    { value: 0n, decimals: 18, unit: 'eth', expected: '0 eth' },
    { value: 10n ** 18n, decimals: 18, unit: 'eth', expected: '1 eth' },
    { value: 1_500_000_000_000_000_000n, decimals: 18, unit: 'eth', expected: '1.5 eth' },
    { value: 1n, decimals: 18, unit: 'eth', expected: '0.000000000000000001 eth' },
    { value: 10n ** 16n, decimals: 18, unit: 'eth', expected: '0.01 eth' },
    { value: 1234n, decimals: 0, unit: 'sat', expected: '1234 sat' },
    { value: 150_000_000n, decimals: 8, unit: 'btc', expected: '1.5 btc' },
    { value: -25n * 10n ** 17n, decimals: 18, unit: 'eth', expected: '-2.5 eth' },
    { value: MAX_UINT256, decimals: 0, unit: 'wei', expected: `${MAX} wei` },
  ],
};

/** `"…" ` as the error names a string value (parseAmount quotes the raw input). */
const named = (input: unknown) => (typeof input === 'string' ? `"${input}"` : String(input));

describe('parseAmount', () => {
  it.each(fixtures.parseAmount.valid)('$input in $asset.id → $expected', ({ input, asset, expected }) => {
    expect(parseAmount(input, 'amount', asset)).toBe(expected);
  });

  it.each(fixtures.parseAmount.invalid)('refuses $name ($input) with a UsageError naming it', ({ input, asset, message }) => {
    const matcher = expect.objectContaining({
      name: 'UsageError',
      code: 'USAGE',
      exitCode: ExitCode.usage,
      shortMessage: expect.stringContaining(`Invalid --deposit ${named(input)}`),
    });
    expect(() => parseAmount(input, '--deposit', asset)).toThrow(UsageError);
    expect(() => parseAmount(input, '--deposit', asset)).toThrow(matcher);
    if (message) expect(() => parseAmount(input, '--deposit', asset)).toThrow(message);
  });

  it('usage errors exit 2', () => {
    expect(ExitCode.usage).toBe(2);
    expect(() => parseAmount('0.5')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('round-trips what formatUnits prints for eth', () => {
    for (const v of [0n, 1n, 10n ** 16n, 123_456_789_000_000_000n, 10n ** 18n * 21_000_000n]) {
      expect(parseAmount(formatUnits(v, 18, 'eth'), 'amount', ETH)).toBe(v);
    }
  });

  it('pins the message of a unit of another family, with the units to use instead', () => {
    expect(() => parseAmount('100sat', '--max-price', ETH)).toThrowErrorMatchingInlineSnapshot(`
      [UsageError: Invalid --max-price "100sat": sat is not a unit of this EVM network.
      Use wei, gwei, eth, ether or base units.]
    `);
    expect(() => parseAmount('0.01eth', 'buy.bitcoinDeposit', LTC)).toThrowErrorMatchingInlineSnapshot(`
      [UsageError: Invalid buy.bitcoinDeposit "0.01eth": eth is not a unit of this Bitcoin-family network.
      Use sat, sats, btc, ltc or base units.]
    `);
  });

  it('pins the message of a decimal without unit', () => {
    expect(() => parseAmount('0.5', '--max-price')).toThrowErrorMatchingInlineSnapshot(`
      [UsageError: Invalid --max-price "0.5": a decimal needs a unit.
      Base units are whole numbers; write "0.5eth" or "1000sat".]
    `);
  });
});

describe('parseBaseUnits', () => {
  it.each(fixtures.parseBaseUnits.valid)('$input → $expected', ({ input, expected }) => {
    expect(parseBaseUnits(input)).toBe(expected);
  });

  it.each(fixtures.parseBaseUnits.invalid)('refuses $name with a UsageError naming it', ({ input, message }) => {
    expect(() => parseBaseUnits(input, 'amount')).toThrow(UsageError);
    expect(() => parseBaseUnits(input, 'amount')).toThrow(expect.objectContaining({ exitCode: ExitCode.usage }));
    // the bad value appears in the message (JSON-quoted, or quoted when above 2^256 − 1)
    const shown = typeof input === 'bigint' ? String(input) : JSON.stringify(input);
    expect(() => parseBaseUnits(input, 'amount')).toThrow(shown);
    if (message) expect(() => parseBaseUnits(input, 'amount')).toThrow(message);
  });
});

describe('formatUnits', () => {
  it.each(fixtures.formatUnits)('$value with $decimals decimals → $expected', ({ value, decimals, unit, expected }) => {
    expect(formatUnits(value, decimals, unit)).toBe(expected);
  });
});

// ── formatAmount: amounts for people (issue 9 §3.5) ─────────────────────────

const E = (n: number) => 10n ** BigInt(n);

const FORMAT: { name: string; value: bigint; asset: Asset; digits?: number; expected: string }[] = [
  { name: 'EVM 0', value: 0n, asset: ETH, expected: '0 ETH' },
  { name: 'EVM 1', value: 1n, asset: ETH, expected: '1 wei' },
  { name: 'EVM 999', value: 999n, asset: ETH, expected: '999 wei' },
  { name: 'EVM 1000', value: 1000n, asset: ETH, expected: '1,000 wei' },
  { name: 'EVM 10^9 − 1', value: E(9) - 1n, asset: ETH, expected: '999,999,999 wei' },
  { name: 'EVM 10^9', value: E(9), asset: ETH, expected: '1 gwei' },
  { name: 'EVM 1.5 × 10^9', value: 1_500_000_000n, asset: ETH, expected: '1.5 gwei' },
  { name: 'EVM 10^14 − 1', value: E(14) - 1n, asset: ETH, expected: '99,999.999999999 gwei' },
  { name: 'EVM 10^14', value: E(14), asset: ETH, expected: '0.0001 ETH' },
  { name: 'EVM 10^17', value: E(17), asset: ETH, expected: '0.1 ETH' },
  { name: 'EVM 10^18', value: E(18), asset: ETH, expected: '1 ETH' },
  { name: 'EVM 1.5 × 10^18', value: 15n * E(17), asset: ETH, expected: '1.5 ETH' },
  { name: 'EVM 10^18 + 1', value: E(18) + 1n, asset: ETH, expected: '1.000000000000000001 ETH' },
  { name: 'EVM 1234 ETH', value: 1234n * E(18), asset: ETH, expected: '1,234 ETH' },
  { name: 'EVM 2^256 − 1', value: MAX_UINT256, asset: ETH, expected: '115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457.584007913129639935 ETH' },
  { name: 'EVM negative', value: -1000n, asset: ETH, expected: '-1,000 wei' },
  { name: 'EVM native named by the zero address', value: E(18), asset: evmAsset({ caip2: 'eip155:31337' }, '0x' + '0'.repeat(40)), expected: '1 ETH' },
  { name: 'Bitcoin 0', value: 0n, asset: BTC, expected: '0 BTC' },
  { name: 'Litecoin 0', value: 0n, asset: LTC, expected: '0 LTC' },
  { name: 'Bitcoin 546 (dust)', value: 546n, asset: BTC, expected: '546 sat' },
  { name: 'Bitcoin 99,999', value: 99_999n, asset: BTC, expected: '99,999 sat' },
  { name: 'Bitcoin 999,999', value: 999_999n, asset: BTC, expected: '999,999 sat' },
  { name: 'Bitcoin 10^6', value: E(6), asset: BTC, expected: '0.01 BTC' },
  { name: 'Bitcoin 1 coin', value: E(8), asset: BTC, expected: '1 BTC' },
  { name: 'Bitcoin 1.23456789', value: 123_456_789n, asset: BTC, expected: '1.23456789 BTC' },
  { name: 'Bitcoin 21e6 BTC', value: MAX_SATOSHIS, asset: BTC, expected: '21,000,000 BTC' },
  { name: 'Litecoin 10^6', value: E(6), asset: LTC, expected: '0.01 LTC' },
  { name: 'Litecoin 5,000', value: 5000n, asset: LTC, expected: '5,000 sat' },
  { name: 'ERC-20 unknown', value: 1000n, asset: UNKNOWN_TOKEN, expected: '1,000 units of 0x3f2a91…c0de' },
  { name: 'ERC-20 known', value: 1_500_000n, asset: USDC, expected: '1.5 USDC' },
  { name: 'ERC-20 known, tiny', value: 1n, asset: USDC, expected: '0.000001 USDC' },
  // shortened (tables): cut toward zero, marked "…"
  { name: 'digits 6: 0.099999999999999997 ETH', value: E(17) - 3n, asset: ETH, digits: 6, expected: '0.0999999… ETH' },
  { name: 'digits 6: 0.1 ETH (nothing to cut)', value: E(17), asset: ETH, digits: 6, expected: '0.1 ETH' },
  { name: 'digits 6: 10^14 + 1', value: E(14) + 1n, asset: ETH, digits: 6, expected: '0.000100000… ETH' },
  { name: 'digits 6: 1,234,567.5 ETH', value: 1_234_567n * E(18) + 5n * E(17), asset: ETH, digits: 6, expected: '1,234,567… ETH' },
  { name: 'digits 6: 12.3456789 ETH', value: 123_456_789n * E(11), asset: ETH, digits: 6, expected: '12.3456… ETH' },
  { name: 'digits 6: wei are whole', value: E(9) - 1n, asset: ETH, digits: 6, expected: '999,999,999 wei' },
  { name: 'digits 6: 0.01234567 BTC', value: 1_234_567n, asset: BTC, digits: 6, expected: '0.0123456… BTC' },
];

describe('formatAmount', () => {
  it.each(FORMAT)('$name → $expected', ({ value, asset, digits, expected }) => {
    expect(formatAmount(value, asset, digits === undefined ? {} : { digits })).toBe(expected);
  });

  it('never prints "base units"', () => {
    for (const { value, asset } of FORMAT) expect(formatAmount(value, asset)).not.toMatch(/base units/);
  });

  /** What parseAmount reads back from a formatted amount of `asset`: without separators, and ETH/BTC/LTC as units. */
  const back = (s: string, asset: Asset) => parseAmount(s.replace(/,/g, ''), 'amount', asset);

  it('is exact: parseAmount reads every EVM amount back (property, 0 … 2^256 − 1)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_UINT256 }), (v) => back(formatAmount(v, ETH), ETH) === v), { numRuns: 500 });
  });

  it('is exact: parseAmount reads every Bitcoin amount back (property, 0 … 21e6 BTC)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_SATOSHIS }), fc.boolean(), (v, ltc) => back(formatAmount(v, ltc ? LTC : BTC), ltc ? LTC : BTC) === v), { numRuns: 500 });
  });

  it('is exact: parseAmount reads every amount of a known token back (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_UINT256 }), (v) => back(formatAmount(v, USDC), USDC) === v), { numRuns: 200 });
  });

  it('shortened amounts never read as more, and keep the unit (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 1, max: 12 }), (v, digits) => {
        const short = formatAmount(v, ETH, { digits });
        const exact = formatAmount(v, ETH);
        const read = back(short.replace('…', ''), ETH);
        return read <= v && (short === exact) === (read === v) && short.split(' ')[1] === exact.split(' ')[1];
      }),
      { numRuns: 500 },
    );
  });
});

describe('shortHex', () => {
  it.each([
    { input: '0x' + 'ab'.repeat(32), expected: '0xababab…abab' },
    { input: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', expected: '0x709979…79C8' },
    { input: '0x3f2a91…c0de', expected: '0x3f2a91…c0de' },
    { input: '0x1234', expected: '0x1234' },
  ])('$input → $expected', ({ input, expected }) => {
    expect(shortHex(input)).toBe(expected);
  });
});
