/**
 * Amount parsing and formatting (src/core/units.ts), table-driven: `valid` inputs
 * with the base units they mean, `invalid` inputs that must be a UsageError (exit 2)
 * naming the value.
 */
import { describe, expect, it } from 'vitest';
import { MAX_UINT256, formatUnits, parseAmount, parseBaseUnits } from '../../src/core/units.js';
import { ExitCode, UsageError } from '../../src/core/errors.js';

const MAX = ((1n << 256n) - 1n).toString();
const OVER = (1n << 256n).toString();

const fixtures = {
  parseAmount: {
    valid: [
      { input: '50', expected: 50n },
      { input: '0', expected: 0n },
      { input: '0.01eth', expected: 10n ** 16n },
      { input: '1eth', expected: 10n ** 18n },
      { input: '1ETH', expected: 10n ** 18n },
      { input: '0.5 ether', expected: 5n * 10n ** 17n },
      { input: '1000sat', expected: 1000n },
      { input: '1000sats', expected: 1000n },
      { input: '1.5gwei', expected: 1_500_000_000n },
      { input: '7wei', expected: 7n },
      { input: '0.00000001btc', expected: 1n },
      { input: '1.000000000000000001eth', expected: 10n ** 18n + 1n },
      { input: ' 42 ', expected: 42n },
      { input: MAX, expected: MAX_UINT256 },
    ],
    invalid: [
      { name: '2^256', input: OVER, message: /above 2\^256/ },
      { name: 'negative', input: '-1' },
      { name: 'exponent', input: '1e21', message: /Use base units/ },
      { name: 'hex', input: '0x10', message: /Use base units/ },
      { name: 'empty', input: '' },
      { name: 'blank', input: '   ' },
      { name: 'too many decimals', input: '1.0000000000000000001eth', message: /eth has at most 18 decimals/ },
      { name: 'decimal without unit', input: '0.5', message: /a decimal needs a unit/ },
      { name: 'unknown unit', input: '12abc', message: /unknown unit "abc"/ },
      { name: 'sat has no decimals', input: '1.5sat', message: /sat has at most 0 decimals/ },
      { name: 'leading dot', input: '.5eth' },
      { name: 'two dots', input: '1.2.3eth' },
      { name: 'unit only', input: 'eth' },
      { name: 'btc above 2^256', input: `${OVER}btc`, message: /above 2\^256/ },
    ],
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
  it.each(fixtures.parseAmount.valid)('$input → $expected', ({ input, expected }) => {
    expect(parseAmount(input)).toBe(expected);
  });

  it.each(fixtures.parseAmount.invalid)('refuses $name ($input) with a UsageError naming it', ({ input, message }) => {
    const matcher = expect.objectContaining({
      name: 'UsageError',
      code: 'USAGE',
      exitCode: ExitCode.usage,
      shortMessage: expect.stringContaining(`Invalid --deposit ${named(input)}`),
    });
    expect(() => parseAmount(input, '--deposit')).toThrow(UsageError);
    expect(() => parseAmount(input, '--deposit')).toThrow(matcher);
    if (message) expect(() => parseAmount(input, '--deposit')).toThrow(message);
  });

  it('usage errors exit 2', () => {
    expect(ExitCode.usage).toBe(2);
    expect(() => parseAmount('0.5')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('round-trips what formatUnits prints for eth', () => {
    for (const v of [0n, 1n, 10n ** 16n, 123_456_789_000_000_000n, 10n ** 18n * 21_000_000n]) {
      expect(parseAmount(formatUnits(v, 18, 'eth'))).toBe(v);
    }
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
