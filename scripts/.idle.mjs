// start anvil + serve (threads from argv), then hyperfine status
import { startAnvil, createKey, Config } from '/work/main/dist/index.js'
import { execFileSync, spawn } from 'child_process'
import { mkdtempSync } from 'fs'; import { tmpdir } from 'os'; import { join } from 'path'
const anvil = await startAnvil()
process.env.CHANNELS_PASSWORD = 'x'
const home = mkdtempSync(join(tmpdir(), 'idle-'))
execFileSync(process.execPath, ['bin/run.js', 'keys', 'new', 'shop', '--keystore', 'file'], { env: { ...process.env, CHANNELS_HOME: home } })
const serve = spawn(process.execPath, ['bin/run.js', 'serve', '--port', '0', '--price', '1000', '--json', '--verify-threads', process.argv[2]], { env: { ...process.env, CHANNELS_HOME: home, CHANNELS_RPC_URL: anvil.rpcUrl }, stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((r) => serve.stdout.once('data', r))
for (let i = 0; i < 2; i++) {
  execFileSync('hyperfine', ['-N', '-w', '3', '-r', '30', '--export-json', '/tmp/hf.json', 'node bin/run.js status --json', 'node -e 0'], { env: { ...process.env, CHANNELS_HOME: process.env.H }, stdio: 'ignore' })
  const r = JSON.parse(execFileSync('cat', ['/tmp/hf.json'])).results
  console.log('threads', process.argv[2], 'status', (r[0].median * 1000).toFixed(1), 'node', (r[1].median * 1000).toFixed(1), 'ratio', (r[0].median / r[1].median).toFixed(2))
}
serve.kill(); anvil.process.kill()
