#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8'

// A command lives for a second or two: too short for V8's optimizing compiler of WebAssembly
// to pay for itself. undici's HTTP parser (llhttp, compiled to WASM) ran hot enough during one
// buy or pay to be recompiled by TurboFan on a background thread, and a process cannot exit
// before such a compile finishes (≈ 200 ms, measured at exit). With 28× V8's default tier-up
// budget a short command never tiers up, while long-running ones (serve, devnet) still optimize
// the WASM they run hot (tiny-secp256k1 on a Bitcoin paywall). Set before any WASM compiles.
setFlagsFromString('--wasm-tiering-budget=50000000')

// oclif checks at import that Node.js satisfies its own engines range, loading all of
// semver for that one comparison (≈15-20 ms of every command's start). Our engines range
// (>=20) is the stricter one and npm checks it at install: skip oclif's check.
const unset = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined
if (unset) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const { execute } = await import('../dist/bundle/main.js')
if (unset) delete process.env.OCLIF_DISABLE_ENGINE_WARNING

await execute({ dir: import.meta.url })
// A finished command leaves nothing to wait for (long-running commands never return from
// execute; everything a command stores is written synchronously): exit as soon as its output
// is written, instead of letting undici's keep-alive socket to the merchant hold the shell.
const written = (stream) => new Promise((done) => (stream.writableLength === 0 ? done() : stream.write('', done)))
await Promise.all([written(process.stdout), written(process.stderr)])
process.exit()
