#!/usr/bin/env node
// oclif checks at import that Node.js satisfies its own engines range, loading all of
// semver for that one comparison (≈15-20 ms of every command's start). Our engines range
// (>=20) is the stricter one and npm checks it at install: skip oclif's check.
const unset = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined
if (unset) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const { execute } = await import('../dist/bundle/main.js')
if (unset) delete process.env.OCLIF_DISABLE_ENGINE_WARNING

await execute({ dir: import.meta.url })
// A finished command leaves nothing to wait for; do not let a stray keep-alive
// socket hold the shell (long-running commands never return from execute).
setTimeout(() => process.exit(), 200).unref()
