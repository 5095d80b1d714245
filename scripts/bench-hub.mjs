// The hub figures of `npm run bench` (issue 12 §3): paid requests through a real `channels hub`
// to a real `channels serve --hub`, the payer in-process through the library. Asserts nothing.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseEther } from 'ethers'
import { Config, Store, createKey, buy, httpMerchant } from '../dist/index.js'
import { ChannelManager, evmBuyer, payThroughHub } from '../dist/families/evm/index.js'
import { prepareDevnet } from '../dist/devnet/index.js'
import { BIN, children, cpuSeconds, startChannels } from './processes.mjs'

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }

/**
 * Measures routed payments and purchases. `price` is the merchant's, base units.
 * @returns hub_rps_c8 (paid requests/s through the hub at concurrency 8), hub_rtt_p50_ms / p99, and the same for
 *   bare routed payments (`pay --via` in-process: lock + unlock, no resource); hub_cpu_us_per_req_c8: CPU µs (user +
 *   system, all threads) per paid request at concurrency 8 of the hub, the merchant's paywall and the buyer
 */
export async function measureHub({ rpcUrl, chainId, tmp, price, log }) {
  const home = (name) => join(tmp, `hub-${name}`)
  const env = (name) => ({ ...process.env, CHANNELS_HOME: home(name), CHANNELS_RPC_URL: rpcUrl })
  const keyOf = (name) => JSON.parse(execFileSync(process.execPath, [BIN, 'keys', 'new', name, '--keystore', 'file', '--json'], { env: env(name) })).address
  const hubAddress = keyOf('hub'), shopAddress = keyOf('shop')
  const payerConfig = new Config(home('payer'))
  const payerKey = await createKey(payerConfig, 'payer', 'file')
  await prepareDevnet(rpcUrl, chainId, [hubAddress, shopAddress, payerKey.address], parseEther('1000'))
  const hub = await startChannels(['hub', '--port', '0', '--json', '--fee-base', '1', '--fee-ppm', '1000', '--min-settle-delay', '60'], env('hub'))
  const hubPid = children.at(-1).pid
  const serve = await startChannels(['serve', '--port', '0', '--json', '--price', String(price), '--min-settle-delay', '60', '--hub', hub.endpoint], env('shop'))
  const servePid = children.at(-1).pid
  execFileSync(process.execPath, [BIN, 'open', shopAddress, '100eth', '--url', `${serve.url}/.well-known/channels`, '--settle-delay', '3600'], { env: env('hub') })
  const store = Store.open(home('payer'))
  const m = new ChannelManager(payerConfig, store, payerConfig.network('devnet', rpcUrl))
  await m.open({ payee: hub.address, deposit: parseEther('100'), settleDelay: 3600 })
  const pubkey = (await (await fetch(`${serve.url}/.well-known/channels`)).json()).pubkey

  const timed = async (n, f) => {
    const t = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await f()
      t.push(performance.now() - t0)
    }
    return t
  }
  const rate = async (concurrency, perWorker, f) => {
    const t0 = performance.now()
    await Promise.all(Array.from({ length: concurrency }, () => timed(perWorker, f)))
    return (concurrency * perWorker) / ((performance.now() - t0) / 1000)
  }
  const routedPayment = async () => {
    const r = await payThroughHub(m, httpMerchant, hub.endpoint, shopAddress, price, { payeePubkey: pubkey })
    if (!r.unlocked) throw new Error('a routed payment was not simplified')
  }
  log('measuring routed payments through the hub…')
  await timed(30, routedPayment) // warm-up
  const payRtt = await timed(200, routedPayment)
  const payRps = await rate(8, 50, routedPayment)

  // Paid requests: buy() through the hub (the payer has no channel to the shop, one to the hub).
  const payer = evmBuyer(m, { settleDelay: 3600 }, { payVia: (hubUrl, payee, amount, o) => payThroughHub(m, httpMerchant, hubUrl, payee, amount, o) })
  const opts = { maxPrice: price, autoOpen: false }
  const purchase = async () => {
    const r = await buy(payer, `${serve.url}/weather`, opts)
    if (r.status !== 200) throw new Error(`a routed buy answered ${r.status}`)
  }
  log('measuring paid requests through the hub…')
  let buyRtt, buyRps, cpu
  try {
    await timed(30, purchase)
    buyRtt = await timed(200, purchase)
    const c0 = process.cpuUsage(), h0 = cpuSeconds(hubPid), s0 = cpuSeconds(servePid)
    buyRps = await rate(8, 50, purchase)
    const c = process.cpuUsage(c0), per = (seconds) => Math.round((seconds * 1e6) / 400)
    cpu = { hub: per(cpuSeconds(hubPid) - h0), merchant: per(cpuSeconds(servePid) - s0), buyer: per((c.user + c.system) / 1e6) }
  } finally {
    store.close()
  }
  return {
    hub_rps_c8: Math.round(buyRps * 10) / 10,
    hub_rtt_p50_ms: Math.round(pct(buyRtt, 50) * 100) / 100,
    hub_rtt_p99_ms: Math.round(pct(buyRtt, 99) * 100) / 100,
    hub_payment_rps_c8: Math.round(payRps * 10) / 10,
    hub_payment_rtt_p50_ms: Math.round(pct(payRtt, 50) * 100) / 100,
    hub_cpu_us_per_req_c8: cpu,
  }
}
