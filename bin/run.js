#!/usr/bin/env node
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
// A finished command leaves nothing to wait for; do not let a stray keep-alive
// socket hold the shell (long-running commands never return from execute).
setTimeout(() => process.exit(), 200).unref()
