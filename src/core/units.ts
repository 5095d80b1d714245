/**
 * Amount parsing and formatting. Amounts are `bigint` base units everywhere in the
 * core (wei, token base units, satoshis); this module is the only place that turns
 * human text into base units and back, and it never goes through `number`. What the
 * units are comes from the amount's {@link Asset} (core/asset.ts), which the chain
 * family builds: this module knows no family.
 */
import { UsageError } from './errors.js'
import { parseAssetId, type Asset } from './asset.js'

/** Largest amount the wire and the EVM contract carry: 2^256 − 1 base units. */
export const MAX_UINT256 = (1n << 256n) - 1n

/**
 * Bitcoin amounts never exceed 21 million coins: 2.1 × 10^15 satoshis (the consensus
 * `MAX_MONEY`, Bitcoin Core src/consensus/amount.h). The Bitcoin family's assets carry it
 * as their `max`; voucher-wire.ts checks Bitcoin payment amounts against it.
 */
export const MAX_SATOSHIS = 2_100_000_000_000_000n

const AMOUNT = /^(\d+)(?:\.(\d+))?\s*([a-z]*)$/i

/**
 * Parses a human amount into base units of `asset`.
 *
 * Accepts a plain integer (base units: `"50"` → 50n), or a decimal with one of the
 * asset's units (ETH: `"0.01eth"` → 10^16 wei, `"1.5gwei"`; Bitcoin family: `"1000sat"`
 * → 1000n, `"0.01btc"`; a known token: `"1.5usdc"`). Rejects negatives, exponents, hex,
 * empty input, a unit the asset does not have (without an asset, every unit), more
 * decimals than the unit has, and values above 2^256 − 1 or the asset's `max`
 * (21 million coins on the Bitcoin family).
 *
 * @param input - text as typed by a user or read from config
 * @param what - name of the value, used in error messages (e.g. `"--deposit"`)
 * @param asset - what the amount counts: its units and its largest amount ({@link Asset}); without it, base units only
 * @returns the amount in base units
 * @throws {UsageError} naming the bad value
 * @example parseAmount('0.5eth', 'amount', ethAsset) // 500000000000000000n
 */
export function parseAmount(input: string, what = 'amount', asset?: Asset): bigint {
  const text = input.trim()
  const m = AMOUNT.exec(text)
  if (!m) {
    throw new UsageError(`Invalid ${what} "${input}".`, {
      metaMessages: ['Use base units ("50") or a decimal with a unit ("0.01eth", "1000sat", "2gwei").'],
    })
  }
  const [, whole, frac = '', unitRaw] = m
  const unit = unitRaw.toLowerCase()
  if (unit === '' && frac !== '') {
    throw new UsageError(`Invalid ${what} "${input}": a decimal needs a unit.`, {
      metaMessages: ['Base units are whole numbers; write "0.5eth" or "1000sat".'],
    })
  }
  const units = asset?.units ?? {}
  const decimals = unit === '' ? 0 : Object.hasOwn(units, unit) ? units[unit] : undefined
  if (decimals === undefined) {
    if (!asset) {
      throw new UsageError(`Invalid ${what} "${input}": unknown unit "${unitRaw}".`, {
        metaMessages: ['Without a network to count in, amounts are base units ("50").'],
      })
    }
    throw new UsageError(`Invalid ${what} "${input}": ${unit} is not a unit of ${asset.unitsOf}.`, {
      metaMessages: [`Use ${Object.keys(units).join(', ')}${Object.keys(units).length ? ' or ' : ''}base units.`],
    })
  }
  if (frac.length > decimals) {
    throw new UsageError(`Invalid ${what} "${input}": ${unit} has at most ${decimals} decimals.`)
  }
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0')
  if (value > MAX_UINT256) throw new UsageError(`Invalid ${what} "${input}": above 2^256 − 1.`)
  if (asset?.max && value > asset.max.value) throw new UsageError(`Invalid ${what} "${input}": above ${asset.max.text}.`)
  return value
}

/**
 * Parses a decimal string of base units from the wire (no units, no sign).
 * @throws {UsageError} when it is not a canonical non-negative integer ≤ 2^256 − 1
 */
export function parseBaseUnits(input: unknown, what = 'amount'): bigint {
  if (typeof input !== 'string' || !/^(0|[1-9]\d{0,77})$/.test(input)) {
    throw new UsageError(`Invalid ${what} ${show(input)}: expected a decimal string of base units.`)
  }
  const value = BigInt(input)
  if (value > MAX_UINT256) throw new UsageError(`Invalid ${what} "${input}": above 2^256 − 1.`)
  return value
}

/** A value for an error message: JSON where possible, never throwing, at most 100 characters. */
function show(x: unknown): string {
  if (typeof x === 'bigint') return String(x)
  try {
    return (JSON.stringify(x) ?? String(x)).slice(0, 100)
  } catch {
    return Object.prototype.toString.call(x)
  }
}

/**
 * Formats base units as a decimal with a unit, trimming trailing zeros.
 * @param value - base units
 * @param decimals - decimals of the unit (18 for eth, 8 for btc)
 * @param unit - suffix to print
 * @example formatUnits(1500000000000000000n, 18, 'eth') // "1.5 eth"
 */
export function formatUnits(value: bigint, decimals: number, unit: string): string {
  const neg = value < 0n
  const abs = neg ? -value : value
  const base = 10n ** BigInt(decimals)
  const whole = abs / base
  const frac = decimals === 0 ? '' : (abs % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''} ${unit}`
}

/** Options of {@link formatAmount}. */
export interface FormatAmountOptions {
  /**
   * At most this many significant digits (the integer part is always whole): more are
   * cut off toward zero and the number ends with "…", so a shortened amount never
   * reads as more than it is. Default: every digit (exact).
   */
  digits?: number
}

/**
 * Formats an amount of base units for people, in the asset's unit or, when it is too
 * small to read well there, in one of the asset's smaller units ({@link Asset.smaller}),
 * with thousands separators on the integer part (never "base units"). With the assets
 * the families build:
 *
 * | asset | base units v | printed as | e.g. |
 * |---|---|---|---|
 * | EVM native | v ≥ 10^14 wei (0.0001 ETH) | ETH, every significant decimal | `1.5 ETH`, `0.0001 ETH` |
 * | EVM native | 10^9 ≤ v < 10^14 | gwei, decimals when not whole | `1 gwei`, `99,999.999999999 gwei` |
 * | EVM native | 0 < v < 10^9 | wei | `1 wei`, `1,000 wei` |
 * | Bitcoin family | v ≥ 10^6 sat (0.01 coin) | BTC or LTC, up to 8 decimals | `0.01 BTC`, `21,000,000 BTC` |
 * | Bitcoin family | 0 < v < 10^6 | sat | `546 sat`, `99,999 sat` |
 * | ERC-20, symbol and decimals known | any | the token's unit | `1.5 USDC` |
 * | ERC-20, unknown | any | base units of the token | `1,000 units of 0x3f2a91…c0de` |
 *
 * Zero has no size to fit: it prints in the asset's unit, `0 ETH`, `0 BTC`. The
 * families' thresholds keep at most three leading zeros after the point (an ETH amount
 * below 0.0001 ETH reads better as gwei, a Bitcoin amount below 0.01 coin as satoshis,
 * the unit prices and fees are quoted in). Exact unless `digits` is given. Separators
 * are always "," and the point ".", whatever the locale, so output is the same
 * everywhere; `parseAmount` takes no separators (`--json` carries base-unit strings for machines).
 *
 * @param value - base units (wei, token base units, satoshis); a negative value gets "-"
 * @param asset - what the amount counts (`ChannelFamily.asset` builds it for a network)
 * @param options - `digits`: shorten to that many significant digits, marked "…"
 * @returns e.g. `"0.1 ETH"`
 * @example formatAmount(10n ** 17n, eth) // "0.1 ETH"
 * @example formatAmount(1000n, eth) // "1,000 wei"
 * @example formatAmount(100_000n, btc) // "100,000 sat"
 * @example formatAmount(99_999_999_999_999_997n, eth, { digits: 6 }) // "0.0999999… ETH"
 */
export function formatAmount(value: bigint, asset: Asset, options: FormatAmountOptions = {}): string {
  const sign = value < 0n ? '-' : ''
  const v = value < 0n ? -value : value
  if (asset.symbol === undefined || asset.decimals === undefined) return `${sign}${group(v.toString())} units of ${shortHex(parseAssetId(asset.id).reference)}`
  let decimals = asset.decimals
  let unit = asset.symbol
  // the smallest of the smaller units the amount is below (they are listed largest first)
  for (const u of asset.smaller ?? []) {
    if (v > 0n && v < u.below) [decimals, unit] = [u.decimals, u.unit]
  }
  const base = 10n ** BigInt(decimals)
  const whole = (v / base).toString()
  let frac = decimals === 0 ? '' : (v % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  let cut = false
  if (options.digits !== undefined && frac) {
    // significant digits: the whole part's (when not 0), then the fraction's from its first non-zero digit
    const lead = whole === '0' ? frac.length - frac.replace(/^0+/, '').length : 0
    const keep = Math.max(0, whole === '0' ? lead + options.digits : options.digits - whole.length)
    if (frac.length > keep) {
      frac = frac.slice(0, keep)
      cut = true
    }
  }
  return `${sign}${group(whole)}${frac ? '.' + frac : ''}${cut ? '…' : ''} ${unit}`
}

/** Thousands separators on a string of digits: "1234567" → "1,234,567". */
function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * A long hex id or address shortened for a table or a message: its first 6 hex digits
 * after `0x` and its last 4 (`0x3f2a91…c0de`); 13 characters or fewer are kept whole.
 * @example shortHex('0x3f2a91aa00000000000000000000000000000000000000000000000000c0de') // "0x3f2a91…c0de"
 */
export function shortHex(hex: string): string {
  return hex.length <= 13 ? hex : `${hex.slice(0, 8)}…${hex.slice(-4)}`
}
