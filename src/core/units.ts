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
