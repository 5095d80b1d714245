/** Shared bits of the lane commands (`voucher merge`, `reconcile …`). */
import { readInput } from './input.js'
import { UsageError } from '../core/errors.js'
import { INDEX_MAX } from '../core/channel/voucher.js'

/**
 * A comma-separated list of lanes, e.g. `1,2,3`.
 * @throws {UsageError} not decimal integers below 2^63
 * @example parseLanes('1, 2') // [1n, 2n]
 */
export function parseLanes(text: string): bigint[] {
  const parts = text.split(',').map((s) => s.trim())
  if (parts.some((p) => !/^\d{1,19}$/.test(p) || BigInt(p) > INDEX_MAX)) throw new UsageError(`Invalid --lanes "${text}"; expected lanes such as 1,2,3.`)
  return parts.map((p) => BigInt(p))
}

/**
 * The JSON in a file, or on stdin for `-`.
 * @throws {UsageError} unreadable, or not JSON
 */
export function readJsonFile(file: string, what: string): unknown {
  const { text, source } = readInput(file, what)
  if (text.length > 1_000_000) throw new UsageError(`The ${what} in ${source} is too large.`)
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`The ${what} in ${source} is not JSON.`)
  }
}
