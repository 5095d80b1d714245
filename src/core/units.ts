/**
 * Amount parsing and formatting. Amounts are `bigint` base units everywhere in the
 * core (wei, token base units, satoshis); this module is the only place that turns
 * human text into base units and back, and it never goes through `number`.
 */
import { UsageError } from './errors.js'

/** Largest amount the EVM contract can hold: 2^256 − 1 base units. */
export const MAX_UINT256 = (1n << 256n) - 1n

/** Unit suffixes accepted on input, with their number of decimals. */
const UNITS: Record<string, number> = {
  wei: 0,
  gwei: 9,
  eth: 18,
  ether: 18,
  sat: 0,
  sats: 0,
  btc: 8,
  ltc: 8,
}

/** Units of each chain family; a unit of the other family is refused when the family is known. */
const FAMILY_UNITS: Record<'evm' | 'bitcoin', string[]> = { evm: ['wei', 'gwei', 'eth', 'ether'], bitcoin: ['sat', 'sats', 'btc', 'ltc'] }
/** Bitcoin amounts never exceed 21 million coins: 2.1 × 10^15 satoshis. */
export const MAX_SATOSHIS = 2_100_000_000_000_000n

const AMOUNT = /^(\d+)(?:\.(\d+))?\s*([a-z]*)$/i

/**
 * Parses a human amount into base units.
 *
 * Accepts a plain integer (base units: `"50"` → 50n), or a decimal with a unit
 * suffix (`"0.01eth"` → 10^16 wei, `"1000sat"` → 1000n, `"1.5gwei"`).
 * Rejects negatives, exponents, hex, empty input, more decimals than the unit
 * has, and values above 2^256 − 1.
 *
 * @param input - text as typed by a user or read from config
 * @param what - name of the value, used in error messages (e.g. `"--deposit"`)
 * @param family - the network's family: its units only, and at most 21 million coins on Bitcoin
 * @returns the amount in base units
 * @throws {UsageError} naming the bad value
 * @example parseAmount('0.5eth') // 500000000000000000n
 */
export function parseAmount(input: string, what = 'amount', family?: 'evm' | 'bitcoin'): bigint {
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
  const decimals = unit === '' ? 0 : UNITS[unit]
  if (decimals === undefined) {
    throw new UsageError(`Invalid ${what} "${input}": unknown unit "${unitRaw}".`, {
      metaMessages: [`Known units: ${Object.keys(UNITS).join(', ')}.`],
    })
  }
  if (family && unit && !FAMILY_UNITS[family].includes(unit)) {
    throw new UsageError(`Invalid ${what} "${input}": ${unit} is not a unit of this ${family === 'evm' ? 'EVM' : 'Bitcoin-family'} network.`, {
      metaMessages: [`Use ${FAMILY_UNITS[family].join(', ')} or base units.`],
    })
  }
  if (frac.length > decimals) {
    throw new UsageError(`Invalid ${what} "${input}": ${unit} has at most ${decimals} decimals.`)
  }
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0')
  if (value > MAX_UINT256) throw new UsageError(`Invalid ${what} "${input}": above 2^256 − 1.`)
  if (family === 'bitcoin' && value > MAX_SATOSHIS) throw new UsageError(`Invalid ${what} "${input}": above 21 million coins.`)
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

/**
 * What an amount is counted in, for {@link formatAmount}; tagged by chain family.
 * - `evm` without `token` (or with the zero address): the chain's native coin, in wei.
 * - `evm` with `token`: an ERC-20 token, in its base units; printed with `symbol` and
 *   `decimals` when both are known (read from the chain), else as base units of the address.
 * - `bitcoin`: satoshis of a Bitcoin-family coin, `symbol` BTC (default) or LTC.
 */
export type AmountAsset =
  | { family: 'evm'; token?: string; symbol?: string; decimals?: number }
  | { family: 'bitcoin'; symbol?: string }

/** Options of {@link formatAmount}. */
export interface FormatAmountOptions {
  /**
   * At most this many significant digits (the integer part is always whole): more are
   * cut off toward zero and the number ends with "…", so a shortened amount never
   * reads as more than it is. Default: every digit (exact).
   */
  digits?: number
}

const ZERO_ADDRESS = /^0x0{40}$/i

/**
 * Bech32 prefixes of Litecoin's chains (Litecoin Core chainparams `bech32_hrp`: main,
 * test, regtest): a Bitcoin-family network with one of them counts in LTC.
 */
const LITECOIN_HRPS = new Set(['ltc', 'tltc', 'rltc'])

/**
 * The asset of an amount on a configured network, for {@link formatAmount}.
 * @param network - the network's `kind`, and on Bitcoin its address parameters
 *   (a Litecoin bech32 prefix, `ltc`/`tltc`/`rltc`, means LTC; anything else BTC)
 * @param asset - a channel's `asset`: an ERC-20 address, the zero address or none for
 *   the native coin; ignored on Bitcoin (`"sat"`)
 * @example amountAsset({ kind: 'bitcoin', bitcoin: { bech32: 'rltc' } }) // { family: 'bitcoin', symbol: 'LTC' }
 */
export function amountAsset(network: { kind: 'evm' | 'bitcoin'; bitcoin?: { bech32: string } }, asset?: string): AmountAsset {
  if (network.kind === 'bitcoin') return { family: 'bitcoin', symbol: LITECOIN_HRPS.has(network.bitcoin?.bech32 ?? '') ? 'LTC' : 'BTC' }
  return asset === undefined || ZERO_ADDRESS.test(asset) ? { family: 'evm' } : { family: 'evm', token: asset }
}

/**
 * Formats an amount of base units for people, in the unit that reads best, with the
 * chain's symbol and thousands separators on the integer part (never "base units"):
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
 * Zero has no size to fit: it prints in the coin, `0 ETH`, `0 BTC`. The thresholds keep at most three leading zeros after the point (an ETH amount below
 * 0.0001 ETH reads better as gwei, a Bitcoin amount below 0.01 coin as satoshis, the
 * unit prices and fees are quoted in). Exact unless `digits` is given. Separators are
 * always "," and the point ".", whatever the locale, so output is the same everywhere;
 * `parseAmount` takes no separators (`--json` carries base-unit strings for machines).
 *
 * @param value - base units (wei, token base units, satoshis); a negative value gets "-"
 * @param asset - what the amount counts ({@link amountAsset} builds it from a network)
 * @param options - `digits`: shorten to that many significant digits, marked "…"
 * @returns e.g. `"0.1 ETH"`
 * @example formatAmount(10n ** 17n, { family: 'evm' }) // "0.1 ETH"
 * @example formatAmount(1000n, { family: 'evm' }) // "1,000 wei"
 * @example formatAmount(100_000n, { family: 'bitcoin' }) // "100,000 sat"
 * @example formatAmount(99_999_999_999_999_997n, { family: 'evm' }, { digits: 6 }) // "0.0999999… ETH"
 */
export function formatAmount(value: bigint, asset: AmountAsset, options: FormatAmountOptions = {}): string {
  const sign = value < 0n ? '-' : ''
  const v = value < 0n ? -value : value
  let decimals: number
  let unit: string
  if (asset.family === 'bitcoin') {
    ;[decimals, unit] = v >= 1_000_000n || v === 0n ? [8, asset.symbol ?? 'BTC'] : [0, 'sat']
  } else if (asset.token !== undefined && !ZERO_ADDRESS.test(asset.token)) {
    if (asset.symbol === undefined || asset.decimals === undefined) return `${sign}${group(v.toString())} units of ${shortHex(asset.token)}`
    ;[decimals, unit] = [asset.decimals, asset.symbol]
  } else {
    ;[decimals, unit] = v >= 10n ** 14n || v === 0n ? [18, asset.symbol ?? 'ETH'] : v >= 1_000_000_000n ? [9, 'gwei'] : [0, 'wei']
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
