/** Reading a command's input file, or stdin for `-` (`config import`, `reconcile answer|accept`). */
import { readFileSync } from 'node:fs'
import { UsageError } from '../core/errors.js'

/**
 * The text of `file`, or of stdin when it is `-`.
 * @param what - what the file holds, for the error ("the request"); default none
 * @returns the text and where it came from (`stdin` or the path), for messages
 * @throws {UsageError} it cannot be read: "Cannot read [the <what> from] <source>: <why>"
 */
export function readInput(file: string, what?: string): { text: string; source: string } {
  const source = file === '-' ? 'stdin' : file
  try {
    return { text: readFileSync(file === '-' ? 0 : file, 'utf8'), source }
  } catch (err) {
    throw new UsageError(`Cannot read ${what ? `the ${what} from ` : ''}${source}: ${(err as Error).message}`, { cause: err })
  }
}
