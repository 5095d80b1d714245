#!/usr/bin/env node
// Bundles the CLI (bin/run.js's entry and every command) into dist/bundle with esbuild, as
// oclif's own esbuild example does. Why: a command's cold start was mostly Node resolving,
// reading and compiling ≈300 small files (@oclif/core alone ≈70 ms of `status`); one chunk
// per shared part loads in a fraction of that. Each command stays its own entry point, so
// `status` still loads no chain library (ethers, bitcoinjs); it does load zod, which checks config.json
// (≈10 ms of CPU). dist/index.js (the library API) is unbundled.
// Native and file-locating packages stay external: they find their binaries, WASM or
// platform packages relative to their own directory.
import { build } from 'esbuild'
import { readdirSync, rmSync } from 'node:fs'
import { join, relative, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const commands = join(ROOT, 'dist', 'commands')
// verify-worker: the paywall's worker threads load it from ../verify-worker.js of commands/serve.js
const entryPoints = { main: join(ROOT, 'dist', 'cli', 'main.js'), 'verify-worker': join(ROOT, 'dist', 'verify-worker.js') }
for (const f of readdirSync(commands, { recursive: true })) {
  if (f.endsWith('.js')) entryPoints[join('commands', f.slice(0, -3))] = join(commands, f)
}
const outdir = join(ROOT, 'dist', 'bundle')
rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
  external: [
    'better-sqlite3', '@napi-rs/keyring', 'secp256k1', 'keccak', 'tiny-secp256k1', 'solc', '@foundry-rs/*',
    // piscina starts its threads from its own worker file, found next to its own code
    'piscina',
    // @oclif/core requires typescript only to run commands from .ts sources (never here)
    'typescript',
  ],
  // CommonJS code inside an ESM bundle calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __channelsCreateRequire } from 'node:module'; const require = __channelsCreateRequire(import.meta.url);" },
})
console.log(`bundled ${Object.keys(entryPoints).length} entry points into ${relative(ROOT, outdir)}`)
