#!/usr/bin/env node
/**
 * Makes a store fixture: the SQLite databases of a payer and a payee home, written by the built
 * binary of this checkout through real commands (a devnet: anvil + litecoind regtest, two
 * `channels serve`, `buy`, `open`, `pay`, `close`, `settle`), and a JSON dump of every row as this
 * checkout's Store reads it. A later release's migration test opens the databases with its own
 * Store and compares each row to the dump (test/unit/store-migration.test.ts).
 *
 *   npm run build && node scripts/make-store-fixture.mjs [outDir]   # default test/fixtures
 *
 * Writes <outDir>/store-v<user_version>-<short commit>-{payer,payee}.db and
 * <outDir>/store-v<user_version>-<short commit>.json: { commit, userVersion, networks, homes: { payer: {channels, vouchers,
 * printed}, payee: … } }, bigints as decimal strings; `printed` is what the binary printed about those rows (see printed()),
 * `networks` the devnet's networks (the config a test gives a copied home). Needs litecoind (apt-get install litecoind).
 */
import { spawn, execFile, execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'

const ROOT = resolve(fileURLToPath(import.meta.url), '../..')
const BIN = join(ROOT, 'bin', 'run.js')
const OUT = resolve(process.argv[2] ?? join(ROOT, 'test', 'fixtures'))
const PASSWORD = 'fixture password'
const commit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()

function env(home) {
  const e = { ...process.env, CHANNELS_HOME: home, CHANNELS_PASSWORD: PASSWORD }
  delete e.NODE_ENV
  delete e.CHANNELS_RPC_URL
  delete e.CHANNELS_PASSWORD_FILE
  return e
}

/** Runs `channels <args> --json` in `home`; throws on a non-zero exit. */
async function run(home, args) {
  return JSON.parse(await runText(home, [...args, '--json']))
}

/** Runs `channels <args>` in `home` and resolves with its stdout; throws on a non-zero exit. */
function runText(home, args) {
  return new Promise((ok, fail) => {
    execFile(process.execPath, [BIN, ...args], { env: env(home), maxBuffer: 16 << 20, timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) return fail(new Error(`channels ${args.join(' ')} failed: ${stdout}${stderr}`))
      ok(stdout)
    })
  })
}

/**
 * What this release prints about the stored channels of `home` (no chain access): per network,
 * `status --json`, `list --offline --json`, and for each channel `status <id> --json` and the
 * human `status <id>` (the family's detail rows).
 */
async function printed(home, networks) {
  const out = {}
  for (const network of networks) {
    const status = await run(home, ['status', '--network', network])
    const channels = {}
    for (const c of status.channels) {
      channels[c.channelId] = {
        json: await run(home, ['status', c.channelId, '--network', network]),
        text: await runText(home, ['status', c.channelId, '--network', network]),
      }
    }
    out[network] = { status, list: await run(home, ['list', '--offline', '--network', network]), channels }
  }
  return out
}

/** Starts a long-running `channels <args> --json` and resolves with its first stdout line, parsed. */
function start(home, args) {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], { env: env(home), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  return new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('\n')) ok({ child, info: JSON.parse(out.split('\n')[0]) })
    })
    child.once('exit', (c) => fail(new Error(`channels ${args.join(' ')} exited ${c}: ${out}${err}`)))
  })
}

function stop(child) {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((ok) => {
    child.once('exit', ok)
    child.kill('SIGTERM')
  })
}

/** Every row as this checkout's Store reads it (dist/core/store), bigints as decimal strings. */
async function dump(home) {
  const { Store } = await import(join(ROOT, 'dist', 'core', 'store', 'index.js'))
  const store = Store.open(home)
  try {
    const channels = store.channels.list()
    const vouchers = channels.flatMap((c) => store.vouchers.list(c.network, c.id))
    return JSON.parse(JSON.stringify({ channels, vouchers }, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
  } finally {
    store.close()
  }
}

const payer = mkdtempSync(join(tmpdir(), 'fixture-payer-'))
const payee = mkdtempSync(join(tmpdir(), 'fixture-payee-'))
const children = []
try {
  await run(payer, ['keys', 'new', 'alice', '--keystore', 'file'])
  const shopKey = await run(payee, ['keys', 'new', 'shop', '--keystore', 'file'])
  const devnet = await start(payer, ['devnet', '--port', '0', '--fund', payee])
  children.push(devnet.child)
  if (!devnet.info.bitcoin) throw new Error('litecoind is not installed: apt-get install litecoind')
  await run(payee, ['config', 'import', join(payer, 'devnet.json')])

  const evmShop = await start(payee, ['serve', '--port', '0', '--network', 'devnet', '--price', '1000', '--min-settle-delay', '60'])
  const btcShop = await start(payee, ['serve', '--port', '0', '--network', 'regtest', '--price', '3000sat'])
  children.push(evmShop.child, btcShop.child)

  // EVM, bound to the paywall: opened by buy, paid, closed cooperatively (both sides: closed, closeTx).
  const first = await run(payer, ['buy', `${evmShop.info.url}/weather?q=a`, '--yes', '--settle-delay', '3600'])
  await run(payer, ['buy', `${evmShop.info.url}/weather?q=b`])
  await run(payer, ['close', first.channelId])
  // EVM, bound, open: a second buy channel, paid twice (the payee holds vouchers, charged).
  await run(payer, ['buy', `${evmShop.info.url}/weather?q=c`, '--yes', '--settle-delay', '7200'])
  await run(payer, ['buy', `${evmShop.info.url}/weather?q=d`])
  // EVM, unbound: opened with open, paid with an undelivered voucher on lane 0 and lane 1, then settled (settleAt).
  const unbound = await run(payer, ['open', shopKey.address, '0.01eth', '--settle-delay', '600'])
  await run(payer, ['pay', unbound.channelId, '5000'])
  await run(payer, ['pay', unbound.channelId, '7000', '--lane', '1'])
  await run(payer, ['settle', unbound.channelId])

  // Bitcoin, bound: opened by buy (P2WSH), three payments.
  await run(payer, ['buy', `${btcShop.info.url}/weather?q=a`, '--yes', '--network', 'regtest'])
  await run(payer, ['buy', `${btcShop.info.url}/weather?q=b`, '--network', 'regtest'])
  await run(payer, ['buy', `${btcShop.info.url}/weather?q=c`, '--network', 'regtest'])
  // Bitcoin, unbound P2SH: opened with open, one payment printed (not delivered).
  const p2sh = await run(payer, ['open', shopKey.bitcoinPubkeys['1'], '500000sat', '--network', 'regtest', '--p2sh', '--expiry', '7200'])
  await run(payer, ['pay', p2sh.channelId, '4000', '--network', 'regtest'])

  for (const c of children.splice(0).reverse()) await stop(c)

  const userVersion = new Database(join(payer, 'channels.db')).pragma('user_version', { simple: true })
  const name = `store-v${userVersion}-${commit}`
  const homes = {}
  for (const [role, home] of [['payer', payer], ['payee', payee]]) {
    const db = new Database(join(home, 'channels.db'))
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.close()
    copyFileSync(join(home, 'channels.db'), join(OUT, `${name}-${role}.db`))
    homes[role] = { ...(await dump(home)), printed: await printed(home, ['devnet', 'regtest']) }
  }
  // The devnet's networks, with a dead loopback RPC URL (the devnet is gone; the regtest URL held its RPC password).
  const networks = Object.fromEntries(Object.entries(devnet.info.networks).map(([k, n]) => [k, { ...n, rpcUrl: 'http://127.0.0.1:9' }]))
  writeFileSync(join(OUT, `${name}.json`), JSON.stringify({ commit, userVersion, networks, homes }, null, 2) + '\n')
  for (const [role, { channels, vouchers }] of Object.entries(homes)) {
    console.log(`${role}: ${channels.length} channels (${channels.map((c) => `${c.network.split(':')[0]} ${c.direction} ${c.state}`).join(', ')}), ${vouchers.length} vouchers`)
  }
  console.log(`wrote ${join(OUT, name)}-{payer,payee}.db and ${name}.json`)
} finally {
  for (const c of children.reverse()) await stop(c)
  rmSync(payer, { recursive: true, force: true })
  rmSync(payee, { recursive: true, force: true })
}
