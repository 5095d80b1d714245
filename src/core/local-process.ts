/**
 * What starting a local node needs (anvil in `devnet.ts`, litecoind in
 * `devnet/litecoind.ts`): a free loopback port and an executable on PATH.
 */
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => ok(port))
    })
  })
}

/** Path of an executable named `name` in PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, name))) return join(dir, name)
  return undefined
}
