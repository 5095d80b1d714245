// Long-running `channels` processes for the demo and the bench: start one, wait for the
// one JSON line it prints when ready (`serve --json`, `devnet --json`), stop them all.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')

/** Processes started here (and any pushed by the caller), for {@link stopAll}. */
export const children = []

/**
 * Starts `channels <args>` with `env` added to this process's environment.
 * @returns the JSON object of its first stdout line
 */
export function startChannels(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(child)
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)))
    })
    child.once('exit', (code) => reject(new Error(`channels ${args[0]} exited with ${code}`)))
  })
}

/** Stops every process in {@link children} and waits until each is gone (SIGKILL after 5 s). */
export async function stopAll() {
  await Promise.all(children.map((c) => new Promise((done) => {
    if (c.exitCode !== null || c.signalCode !== null) return done()
    const kill = setTimeout(() => c.kill('SIGKILL'), 5000)
    c.once('exit', () => { clearTimeout(kill); done() })
    c.kill('SIGTERM')
  })))
}

/** CPU seconds (user + system, every thread) a process has used so far (Linux /proc). */
export function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
