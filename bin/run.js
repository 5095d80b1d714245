#!/usr/bin/env node
// oclif checks at import that Node.js satisfies its own engines range, loading all of
// semver for that one comparison (≈15-20 ms of every command's start). Our engines range
// (>=20) is the stricter one and npm checks it at install: skip oclif's check.
const unset = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined
if (unset) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const { execute } = await import('../dist/bundle/main.js')
if (unset) delete process.env.OCLIF_DISABLE_ENGINE_WARNING

await execute({ dir: import.meta.url })
// A finished command leaves nothing to wait for (long-running commands never return from
// execute; everything a command stores is written synchronously). Exit as soon as its
// output is written: a keep-alive socket (undici keeps one to the merchant for 4 s) would
// otherwise hold the shell, and a fixed wait for it cost every buy, pay and close ≈ 200 ms.
const written = (stream) => new Promise((done) => (stream.writableLength === 0 ? done() : stream.write('', done)))
await Promise.all([written(process.stdout), written(process.stderr)])
process.exit()
