#!/usr/bin/env node
// npm run bench [-- --json]: performance figures measured side by side in one run on
// this machine, against a real anvil and a real `channels serve` (durable SQLite).
// Never part of npm test; prints ratios, asserts nothing.
import { execFileSync } from 'node:child_process'
import { scrypt } from 'node:crypto'
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { request } from 'undici'
import { connect } from 'node:net'
import { Contract, ContractFactory, HDNodeWallet, MaxUint256, JsonRpcProvider, ZeroAddress, ZeroHash, hexlify, randomBytes, recoverAddress, parseEther, Signature } from 'ethers'
import { Config, Store, createKey, buy, decodePaymentRequired, encodePaymentSignature, ZERO_HASH } from '../dist/index.js'
import { ChannelManager, evmBuyer, signVoucher, voucherDigest, contractAddress, recoverVoucherSigner, verifierBackend, loadEvmSigner } from '../dist/families/evm/index.js'
import { startAnvil, prepareDevnet } from '../dist/devnet/index.js'
import Database from 'better-sqlite3'
import { BIN, children, cpuSeconds, startChannels, stopAll } from './processes.mjs'
import { bitcoinSizes } from './bitcoin-sizes.mjs'
import { measureHub } from './bench-hub.mjs'
import { measureBtp } from './bench-btp.mjs'

const JSON_OUT = process.argv.includes('--json')
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const PRICE = 1000n
const PASSWORD = 'bench-password'
const log = (...a) => { if (!JSON_OUT) console.log(...a) }
const tmp = mkdtempSync(join(tmpdir(), 'channels-bench-'))
process.env.CHANNELS_PASSWORD = PASSWORD

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }
const median = (xs) => pct(xs, 50)
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d

/** A keep-alive TCP connection to the paywall. */
const keepAlive = (url) => new Promise((resolve, reject) => {
  const socket = connect(Number(url.port), url.hostname, () => resolve(socket))
  socket.setNoDelay(true)
  socket.once('error', reject)
})

/**
 * The load generator: on one keep-alive connection, one GET at a time, each carrying the
 * next pre-signed voucher, read back to its content-length. Nothing but the bytes: the
 * bench client shares this machine's cores with the paywall, and an HTTP client
 * library's per-request work (undici: ≈170 µs here) would be measured as paywall time.
 * @returns how many answered 200, and the status line of each that did not
 */
function paidRequests(socket, host, path, vouchers) {
  return new Promise((resolve, reject) => {
    let i = 0, ok = 0, buf = Buffer.alloc(0)
    const failed = []
    const send = () => socket.write(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\npayment-signature: ${vouchers[i]}\r\n\r\n`)
    socket.on('error', reject)
    socket.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = buf.toString('latin1', 0, end)
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)
      if (!length) return reject(new Error(`paywall answered without content-length: ${head.split('\r\n')[0]}`))
      const total = end + 4 + Number(length[1])
      if (buf.length < total) return
      if (head.startsWith('HTTP/1.1 200 ')) ok++
      else failed.push(head.split('\r\n')[0])
      buf = buf.subarray(total)
      if (++i < vouchers.length) send()
      else {
        socket.end()
        resolve({ ok, failed })
      }
    })
    send()
  })
}

/** CPU time (user + system, all threads) a process has used, in seconds (Linux /proc). */
/** One scrypt with a key file's parameters (N = 2^17, r = 8, p = 1, 64 bytes as ethers derives), in ms. */
function scryptOnce() {
  const t = performance.now()
  return new Promise((ok, fail) => scrypt(PASSWORD, randomBytes(32), 64, { N: 1 << 17, r: 8, p: 1, maxmem: 256 << 20 }, (err) => (err ? fail(err) : ok(performance.now() - t))))
}

function timeCmd(args, env = {}) {
  const t = performance.now()
  execFileSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  return performance.now() - t
}

const startServe = (home, rpcUrl) =>
  startChannels(['serve', '--port', '0', '--price', String(PRICE), '--json', '--min-settle-delay', '60'], { CHANNELS_HOME: home, CHANNELS_RPC_URL: rpcUrl })

async function main() {
  const anvil = await startAnvil()
  children.push(anvil.process)
  const rpcUrl = anvil.rpcUrl
  const chainId = BigInt(anvil.chainId)
  const contract = contractAddress()

  // Wallets: a payee running the real paywall, a payer used in-process through the library.
  const payeeHome = join(tmp, 'payee'), payerHome = join(tmp, 'payer')
  execFileSync(process.execPath, [BIN, 'keys', 'new', 'shop', '--keystore', 'file'], { env: { ...process.env, CHANNELS_HOME: payeeHome } })
  const payerConfig = new Config(payerHome)
  const payerKey = await createKey(payerConfig, 'payer', 'file')
  await prepareDevnet(rpcUrl, anvil.chainId, [payerKey.address], parseEther('1000'))
  const serve = await startServe(payeeHome, rpcUrl)
  const servePid = children.at(-1).pid
  const store = Store.open(payerHome)
  const m = new ChannelManager(payerConfig, store, payerConfig.network('devnet', rpcUrl))
  const signer = await m.signer()

  // The paywall's offer, as a client would read it.
  const first = await request(`${serve.url}/weather`)
  await first.body.dump()
  const accepted = decodePaymentRequired(first.headers['payment-required']).accepts[0]

  // 1. Voucher signer recovery per second: the paywall's verify path (EIP-712 digest +
  // libsecp256k1, or ethers if the native binding did not load) beside ethers' bare recover.
  const sample = signVoucher({ channelId: ZeroHash, lane: 0n, nonce: 1n, amount: 1n, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] }, signer, chainId, contract)
  const digest = voucherDigest(sample, chainId, contract)
  const sig = Signature.from(sample.signature)
  const perSecond = (f) => {
    let n = 0
    const t0 = performance.now()
    while (performance.now() - t0 < 1500) { f(); n++ }
    return n / ((performance.now() - t0) / 1000)
  }
  const recoverRps = perSecond(() => recoverVoucherSigner(sample, chainId, contract))
  const ethersRecoverRps = perSecond(() => recoverAddress(digest, sig))

  // The disk's durable commit rate (WAL, synchronous=FULL, one row per transaction) on the
  // payee's file system, measured now: without group commit it bounds the paywall.
  const fsyncDb = new Database(join(tmp, 'fsync.db'))
  fsyncDb.pragma('journal_mode = WAL')
  fsyncDb.pragma('synchronous = FULL')
  fsyncDb.exec('CREATE TABLE t (x TEXT)')
  const fsyncInsert = fsyncDb.prepare('INSERT INTO t (x) VALUES (?)')
  const fsyncCommit = fsyncDb.transaction(() => fsyncInsert.run(sample.signature))
  const commitRps = perSecond(() => fsyncCommit.immediate())
  fsyncDb.close()

  // 2. Paywall throughput: paid requests/s, each voucher committed with fsync before serving.
  async function throughput(concurrency, perWorker) {
    const channels = []
    for (let i = 0; i < concurrency; i++) channels.push(await m.open({ payee: serve.payTo, deposit: parseEther('1'), settleDelay: 3600 }))
    const headers = channels.map((c) => {
      const hs = []
      for (let k = 1n; k <= BigInt(perWorker); k++) {
        const v = signVoucher({ channelId: c.id, lane: 0n, nonce: k, amount: k * PRICE, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] }, signer, chainId, contract)
        hs.push(encodePaymentSignature(accepted, { type: k === 1n ? 'open' : 'voucher', channelId: c.id, voucher: v }))
      }
      return hs
    })
    const url = new URL(serve.url)
    const sockets = await Promise.all(headers.map(() => keepAlive(url)))
    const c0 = process.cpuUsage(), s0 = cpuSeconds(servePid)
    const start = performance.now()
    const answers = await Promise.all(headers.map((hs, i) => paidRequests(sockets[i], url.host, '/weather', hs)))
    const secs = (performance.now() - start) / 1000
    const cpu = process.cpuUsage(c0), serveCpu = cpuSeconds(servePid) - s0
    const ok = answers.reduce((n, a) => n + a.ok, 0), failed = answers.reduce((n, a) => n + a.failed.length, 0)
    if (failed) throw new Error(`${failed} paid requests failed at concurrency ${concurrency}: ${answers.flatMap((a) => a.failed)[0]}`)
    // Every answer was paid for by a voucher the paywall stored: count them in its database.
    const payeeDb = new Database(join(payeeHome, 'channels.db'), { readonly: true })
    const stored = channels.reduce((n, c) => n + payeeDb.prepare('SELECT COUNT(*) AS n FROM vouchers WHERE channel_id = ?').get(c.id).n, 0)
    payeeDb.close()
    if (stored !== ok) throw new Error(`the paywall stored ${stored} vouchers for ${ok} paid requests`)
    cpuPerRequest[concurrency] = { paywall: (serveCpu * 1e6) / ok, client: (cpu.user + cpu.system) / ok }
    return ok / secs
  }
  const cpuPerRequest = {}
  log('measuring paywall throughput…')
  // Steady state: a first pass at each concurrency warms the paywall (JIT, its verify
  // threads, SQLite's page cache) and is reported on its own; the measured pass follows.
  const rpsC1First = await throughput(1, 300)
  const rpsC1 = await throughput(1, 1500)
  const rpsC8First = await throughput(8, 250)
  const rpsC8 = await throughput(8, 1000)

  // 2b. Interledger (issue 14 §3): claims over one BTP connection to a real `channels btp listen`
  // (durable like the paywall: each committed before its answer), and ILP Prepare → Fulfill.
  const btpFigures = await measureBtp({ rpcUrl, chainId, tmp, m, signer, contract, price: PRICE, log })

  // 3. Pay round trip through the library's buy() vs a bare HTTP request + sign + verify.
  log('measuring pay round trips…')
  const rtt = [], base = []
  const opts = { maxPrice: PRICE, autoOpen: true, deposit: parseEther('1') }
  const payer = evmBuyer(m, { settleDelay: 3600 })
  for (let i = 0; i < 300; i++) {
    let t = performance.now()
    const r = await buy(payer, `${serve.url}/weather`, opts)
    rtt.push(performance.now() - t)
    if (r.status !== 200) throw new Error(`buy answered ${r.status}`)
    t = performance.now()
    const bare = await request(`${serve.url}/.well-known/channels`)
    await bare.body.dump()
    const v = signVoucher({ ...sample, nonce: BigInt(i + 2) }, signer, chainId, contract)
    recoverVoucherSigner(v, chainId, contract)
    base.push(performance.now() - t)
  }

  // 3b. Through a hub (issue 12): the same purchase paid by a hash-time-locked payment over a
  // channel to a real `channels hub` forwarding to a real `channels serve --hub`.
  const hubFigures = await measureHub({ rpcUrl, chainId: anvil.chainId, tmp, price: PRICE, log })

  // 4. Cold starts against node -e 0: medians of 15 interleaved runs (7 left the ratio ±0.15 between runs).
  // The commands that unlock a key file (keys new, buy, pay) are also set against one scrypt
  // of the key file's parameters, measured in this run: that part is the unlock's own cost.
  log('measuring cold starts…')
  const nodeT = [], statusT = [], buyT = [], payT = [], keysNewT = [], scryptT = []
  const payerEnv = { CHANNELS_HOME: payerHome, CHANNELS_RPC_URL: rpcUrl }
  // `pay <merchant URL>` needs a channel bound to the merchant, as the README's first buy opens one.
  const walkerHome = join(tmp, 'walker'), walkerEnv = { CHANNELS_HOME: walkerHome, CHANNELS_RPC_URL: rpcUrl }
  const walker = JSON.parse(execFileSync(process.execPath, [BIN, 'keys', 'new', 'walker', '--keystore', 'file', '--json'], { env: { ...process.env, ...walkerEnv } }))
  await prepareDevnet(rpcUrl, anvil.chainId, [walker.address], parseEther('10'))
  timeCmd([BIN, 'buy', `${serve.url}/joke`, '--max-price', String(PRICE), '--deposit', '0.01eth', '--yes'], walkerEnv)
  for (let i = 0; i < 15; i++) {
    nodeT.push(timeCmd(['-e', '0']))
    statusT.push(timeCmd([BIN, 'status', '--json'], payerEnv))
    buyT.push(timeCmd([BIN, 'buy', `${serve.url}/joke`, '--max-price', String(PRICE), '--json'], payerEnv))
    payT.push(timeCmd([BIN, 'pay', serve.url, '1', '--json'], walkerEnv))
    const fresh = join(tmp, `fresh-${i}`)
    keysNewT.push(timeCmd([BIN, 'keys', 'new', 'k', '--keystore', 'file', '--json'], { CHANNELS_HOME: fresh }))
    rmSync(fresh, { recursive: true, force: true })
    scryptT.push(await scryptOnce())
  }

  // The key unlock in-process (scrypt, then the signer), as a cold buy or pay does it.
  const unlockT = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    await loadEvmSigner(payerConfig, 'payer')
    unlockT.push(performance.now() - t)
  }

  // 5. Gas of each contract operation (anvil dev accounts 1 = payer, 2 = payee).
  log('measuring gas…')
  const provider = new JsonRpcProvider(rpcUrl, anvil.chainId, { staticNetwork: true, cacheTimeout: -1 })
  const artifacts = JSON.parse(readFileSync(join(ROOT, 'artifacts', 'contracts.json'), 'utf8'))
  const payerW = HDNodeWallet.fromPhrase('test test test test test test test test test test test junk', undefined, "m/44'/60'/0'/0/1").connect(provider)
  const payeeW = HDNodeWallet.fromPhrase('test test test test test test test test test test test junk', undefined, "m/44'/60'/0'/0/2").connect(provider)
  const pc = new Contract(contract, artifacts.PaymentChannels.abi, provider)
  const gasOf = async (p) => (await (await p).wait()).gasUsed
  const openOne = async () => {
    const salt = hexlify(randomBytes(32))
    const gas = await gasOf(pc.connect(payerW).open(payeeW.address, ZeroAddress, parseEther('1'), 60, salt, { value: parseEther('1') }))
    return { id: await pc.channelIdOf(payerW.address, payeeW.address, ZeroAddress, salt), gas }
  }
  const voucherFor = (id, nonce = 1n) => {
    const v = { channelId: id, lane: 0n, nonce, amount: 1000n * nonce, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] }
    return { v, s: signVoucher(v, payerW, chainId, contract).signature }
  }
  const gas = {}
  const a = await openOne()
  gas.open = a.gas
  gas.deposit = await gasOf(pc.connect(payerW).deposit(a.id, parseEther('0.1'), { value: parseEther('0.1') }))
  let { v, s } = voucherFor(a.id)
  gas.update = await gasOf(pc.connect(payeeW).update(v, s, '0x'))
  gas.settle = await gasOf(pc.connect(payerW).settle(a.id))
  await provider.send('evm_increaseTime', [61]); await provider.send('evm_mine', [])
  gas.collect = await gasOf(pc.connect(payerW).collect(a.id))
  const b = await openOne()
  ;({ v, s } = voucherFor(b.id))
  gas.close = await gasOf(pc.connect(payeeW).close(v, s, '0x'))
  const many = []
  for (let i = 0; i < 10; i++) many.push(voucherFor((await openOne()).id))
  gas.closeMany_per_channel = (await gasOf(pc.connect(payeeW).closeMany(many.map((x) => x.v), many.map((x) => x.s), many.map(() => '0x')))) / 10n
  // The redemption service's batch (families/evm/redeemer.ts): one closeMany of 10 fresh
  // channels, each redeeming its first voucher, per channel; against one close alone.
  const batch = []
  for (let i = 0; i < 10; i++) batch.push(voucherFor((await openOne()).id))
  const redeemBatch10 = await gasOf(pc.connect(payeeW).closeMany(batch.map((x) => x.v), batch.map((x) => x.s), batch.map(() => '0x')))
  const single = voucherFor((await openOne()).id)
  const redeemSingle = await gasOf(pc.connect(payeeW).close(single.v, single.s, '0x'))
  // A merge voucher (DESIGN §13): lanes 1 and 2 redeemed, then a lane-0 voucher merging both,
  // against a plain update of a fresh lane (3) of a channel in the same state.
  const laneVoucher = (id, lane, nonce, amount, merges = []) => {
    const lv = { channelId: id, lane, nonce, amount, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges }
    return [lv, signVoucher(lv, payerW, chainId, contract).signature, '0x']
  }
  const mc = await openOne()
  const l1 = laneVoucher(mc.id, 1n, 1n, 1000n), l2 = laneVoucher(mc.id, 2n, 1n, 1000n)
  await gasOf(pc.connect(payeeW).updateMany([l1[0], l2[0]], [l1[1], l2[1]], ['0x', '0x']))
  const mergeGas = await gasOf(pc.connect(payeeW).update(...laneVoucher(mc.id, 0n, 1n, 3000n, [{ lane: 1n, nonce: 2n }, { lane: 2n, nonce: 2n }])))
  const plainGas = await gasOf(pc.connect(payeeW).update(...laneVoucher(mc.id, 3n, 1n, 1000n)))
  // Issue 13 §4's four figures, defined as there (and in test/contract/gas.test.ts): full receipt
  // gas of open + the payee's close with one voucher, native and ERC-20 (approve excluded; the
  // payee and the contract already hold the token, like a merchant's); a top-up; closeMany of 10 / 10.
  const c1 = await openOne()
  ;({ v, s } = voucherFor(c1.id))
  gas.lifecycle_eth = c1.gas + (await gasOf(pc.connect(payeeW).close(v, s, '0x')))
  const token = await new ContractFactory(artifacts.TestToken.abi, artifacts.TestToken.bytecode, payerW).deploy()
  await token.waitForDeployment()
  await gasOf(token.mint(payerW.address, 1_000_000n))
  await gasOf(token.mint(payeeW.address, 1n))
  await gasOf(token.approve(contract, MaxUint256))
  const openToken = async (amount) => {
    const salt = hexlify(randomBytes(32))
    const gas = await gasOf(pc.connect(payerW).open(payeeW.address, await token.getAddress(), amount, 60, salt))
    return { id: await pc.channelIdOf(payerW.address, payeeW.address, await token.getAddress(), salt), gas }
  }
  await openToken(5000n)
  const t1 = await openToken(1000n)
  ;({ v, s } = voucherFor(t1.id))
  v.amount = 100n; s = signVoucher(v, payerW, chainId, contract).signature
  gas.lifecycle_erc20 = t1.gas + (await gasOf(pc.connect(payeeW).close(v, s, '0x')))
  const top = await openOne()
  gas.topup_eth = await gasOf(pc.connect(payerW).deposit(top.id, parseEther('0.1'), { value: parseEther('0.1') }))
  gas.batch10_per_channel_eth = redeemBatch10 / 10n
  provider.destroy()
  store.close()

  // Bitcoin channel transaction sizes (built and signed offline; issue 4 point 5).
  const bitcoinVsize = bitcoinSizes()

  const result = {
    paywall_rps_c1: round(rpsC1, 1),
    paywall_rps_c8: round(rpsC8, 1),
    paywall_rps_c1_first_pass: round(rpsC1First, 1),
    paywall_rps_c8_first_pass: round(rpsC8First, 1),
    recover_rps: round(recoverRps, 1),
    recover_backend: verifierBackend(),
    recover_rps_ethers: round(ethersRecoverRps, 1),
    paywall_cpu_us_per_req_c8: round(cpuPerRequest[8].paywall, 0),
    load_client_cpu_us_per_req_c8: round(cpuPerRequest[8].client, 0),
    paywall_c8_to_recover_ratio: round(rpsC8 / recoverRps, 3),
    fsync_commits_per_s: round(commitRps, 1),
    paywall_c8_to_fsync_ratio: round(rpsC8 / commitRps, 2),
    pay_rtt_p50_ms: round(median(rtt)),
    pay_rtt_p99_ms: round(pct(rtt, 99)),
    http_rtt_p50_ms: round(median(base)),
    pay_rtt_ratio: round(median(rtt) / median(base)),
    ...btpFigures,
    btp_claims_to_paywall_c8_ratio: round(btpFigures.btp_claims_per_s / rpsC8, 2),
    ...hubFigures,
    hub_rtt_to_direct_ratio: round(hubFigures.hub_rtt_p50_ms / median(rtt)),
    hub_c8_to_paywall_c8_ratio: round(hubFigures.hub_rps_c8 / rpsC8, 4),
    hub_rps_cpu_bound: round((cpus().length * 1e6) / Object.values(hubFigures.hub_cpu_us_per_req_c8).reduce((a, b) => a + b, 0), 0),
    node_cold_ms: round(median(nodeT)),
    status_cold_ms: round(median(statusT)),
    status_cold_ratio: round(median(statusT) / median(nodeT)),
    buy_cold_ms: round(median(buyT)),
    buy_cold_ratio: round(median(buyT) / median(nodeT)),
    buy_key_unlock_ms: round(median(unlockT)),
    pay_cold_ms: round(median(payT)),
    keys_new_file_cold_ms: round(median(keysNewT)),
    scrypt_ms: round(median(scryptT)),
    buy_cold_to_scrypt_ratio: round(median(buyT) / median(scryptT)),
    pay_cold_to_scrypt_ratio: round(median(payT) / median(scryptT)),
    keys_new_file_cold_to_scrypt_ratio: round(median(keysNewT) / median(scryptT)),
    gas: Object.fromEntries(Object.entries(gas).map(([k, g]) => [k, Number(g)])),
    redeem_gas_per_channel_batch10: Number(redeemBatch10 / 10n),
    redeem_gas_single_close: Number(redeemSingle),
    redeem_batch10_to_single_ratio: round(Number(redeemBatch10) / 10 / Number(redeemSingle), 3),
    merge_voucher_gas: Number(mergeGas),
    merge_plain_update_gas: Number(plainGas),
    merge_to_plain_update_ratio: round(Number(mergeGas) / Number(plainGas), 3),
    bitcoin_vsize: bitcoinVsize,
  }
  if (JSON_OUT) console.log(JSON.stringify(result))
  else {
    console.log(`\npaywall, durable (committed before served): ${result.paywall_rps_c1} paid req/s at concurrency 1, ${result.paywall_rps_c8} at 8 (after a first pass of ${result.paywall_rps_c1_first_pass} and ${result.paywall_rps_c8_first_pass})`)
    console.log(`CPU per paid request at concurrency 8: paywall ${result.paywall_cpu_us_per_req_c8} µs, load generator ${result.load_client_cpu_us_per_req_c8} µs (${cpus().length} cores shared)`)
    console.log(`disk: ${result.fsync_commits_per_s} durable commits/s (WAL, synchronous=FULL) → paywall c8 / commits = ${result.paywall_c8_to_fsync_ratio} (group commit)`)
    console.log(`voucher verify (${result.recover_backend}):       ${result.recover_rps} /s (ethers recoverAddress ${result.recover_rps_ethers} /s) → paywall c8 / verify = ${result.paywall_c8_to_recover_ratio}`)
    console.log(`BTP, one connection, durable (committed before answered): ${result.btp_claims_per_s} claims/s on 8 channels, 8 in flight each (×${result.btp_claims_to_paywall_c8_ratio} of the paywall at c8; first pass ${result.btp_claims_per_s_first_pass}; one channel ${result.btp_claims_per_s_one_channel}); listener CPU ${result.btp_cpu_us_per_claim} µs per claim, sender ${result.btp_client_cpu_us_per_claim} µs; ILP Prepare → Fulfill p50 ${result.btp_prepare_fulfill_p50_ms} ms, p99 ${result.btp_prepare_fulfill_p99_ms} ms`)
    console.log(`pay round trip (buy, loopback):        p50 ${result.pay_rtt_p50_ms} ms, p99 ${result.pay_rtt_p99_ms} ms; bare HTTP+sign+verify p50 ${result.http_rtt_p50_ms} ms → ×${result.pay_rtt_ratio}`)
    console.log(`through a hub (payer → hub → merchant, hash-time-locked): p50 ${result.hub_rtt_p50_ms} ms, p99 ${result.hub_rtt_p99_ms} ms per paid request (×${result.hub_rtt_to_direct_ratio} of a direct one); ${result.hub_rps_c8} paid req/s at concurrency 8 (×${result.hub_c8_to_paywall_c8_ratio} of the direct paywall); the payment alone (pay --via in-process): p50 ${result.hub_payment_rtt_p50_ms} ms, ${result.hub_payment_rps_c8} /s at 8`)
    const c = result.hub_cpu_us_per_req_c8
    console.log(`  CPU per paid request through the hub at 8: hub ${c.hub} µs, merchant ${c.merchant} µs, buyer ${c.buyer} µs → at most ${result.hub_rps_cpu_bound} /s on ${cpus().length} cores`)
    console.log(`cold start: node -e 0 ${result.node_cold_ms} ms; channels status --json ${result.status_cold_ms} ms (×${result.status_cold_ratio}); channels buy ${result.buy_cold_ms} ms (×${result.buy_cold_ratio}), of which key unlock (scrypt) ${result.buy_key_unlock_ms} ms`)
    console.log(`key file (scrypt N=2^17 r=8 p=1 alone: ${result.scrypt_ms} ms): keys new --keystore file ${result.keys_new_file_cold_ms} ms (×${result.keys_new_file_cold_to_scrypt_ratio} scrypt), buy ${result.buy_cold_ms} ms (×${result.buy_cold_to_scrypt_ratio}), pay ${result.pay_cold_ms} ms (×${result.pay_cold_to_scrypt_ratio})`)
    console.log('gas:', Object.entries(result.gas).map(([k, g]) => `${k} ${g}`).join(', '))
    console.log(`redemption: ${result.redeem_gas_per_channel_batch10} gas per channel in one closeMany of 10, ${result.redeem_gas_single_close} for one close alone (×${result.redeem_batch10_to_single_ratio})`)
    console.log(`merge voucher (update merging 2 lanes): ${result.merge_voucher_gas} gas, a plain update ${result.merge_plain_update_gas} (×${result.merge_to_plain_update_ratio})`)
    const v = result.bitcoin_vsize
    for (const kind of ['p2wsh', 'p2sh']) {
      console.log(`bitcoin vsize ${kind.padEnd(5)}: ` + ['deposit', 'refund', 'payment'].map((t) => `${t} ${v[kind][t]} vB (×${v.ratio_to_two1[kind][t]} of two1's ${v.two1[t]})`).join(', '))
    }
  }
}

try {
  await main()
} finally {
  await stopAll()
  rmSync(tmp, { recursive: true, force: true })
}
