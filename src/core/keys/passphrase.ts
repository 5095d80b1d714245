/**
 * Where a file keystore's passphrase comes from, in order: `CHANNELS_PASSWORD`, the
 * file named by `CHANNELS_PASSWORD_FILE`, or a prompt on the controlling TTY. The
 * passphrase is never written anywhere.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { KeystoreError } from '../errors.js'

/** Whether {@link readPassphrase} finds a passphrase without prompting (`CHANNELS_PASSWORD` or `CHANNELS_PASSWORD_FILE` set). */
export function passphraseInEnvironment(env = process.env): boolean {
  return Boolean(env.CHANNELS_PASSWORD || env.CHANNELS_PASSWORD_FILE)
}

/**
 * Reads the passphrase for an encrypted key file.
 * @param purpose - shown in the prompt, e.g. `key "alice"`
 * @param confirm - ask twice on a TTY (when creating a key)
 * @throws {KeystoreError} when no source is usable (no env, unreadable file, no TTY)
 */
export async function readPassphrase(purpose: string, confirm = false, env = process.env): Promise<string> {
  if (env.CHANNELS_PASSWORD) return env.CHANNELS_PASSWORD
  if (env.CHANNELS_PASSWORD_FILE) {
    try {
      return readFileSync(env.CHANNELS_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new KeystoreError(`Cannot read the passphrase file ${env.CHANNELS_PASSWORD_FILE}.`, { cause: err })
    }
  }
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new KeystoreError(`No passphrase for ${purpose}.`, {
      metaMessages: ['Set CHANNELS_PASSWORD or CHANNELS_PASSWORD_FILE, or run the command in a terminal.'],
    })
  }
  const first = await prompt(`Passphrase for ${purpose}: `)
  if (confirm && (await prompt('Repeat passphrase: ')) !== first) {
    throw new KeystoreError('The passphrases do not match.')
  }
  return first
}

function prompt(question: string): Promise<string> {
  return new Promise((resolvePromise) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const rlAny = rl as unknown as { _writeToOutput: (s: string) => void }
    rl.question(question, (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolvePromise(answer)
    })
    rlAny._writeToOutput = () => {} // hide typed characters
    process.stderr.write(question)
  })
}
