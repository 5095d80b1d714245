#!/usr/bin/env node
// npm run demo: a real local chain (anvil via `channels devnet`), a real paywall
// (`channels serve`), the real `channels buy` 24 times over one payment channel, a
// cooperative close, and a table whose numbers reconcile to the wei, read from the chain.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import Table from 'cli-table3'
import { JsonRpcProvider, formatEther } from 'ethers'
import { freePort } from '../dist/devnet/index.js'
import { BIN, startChannels, stopAll } from './processes.mjs'

const PURCHASES = 24
const PRICE = 1_000_000_000_000n // wei per request (0.000001 ETH)
const tmp = mkdtempSync(join(tmpdir(), 'channels-demo-'))
const password = randomBytes(16).toString('hex')

function run(home, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, CHANNELS_HOME: home, CHANNELS_PASSWORD: password, ...env } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`channels ${args.join(' ')} failed (${err.code}):\n${stdout}${stderr}`))
      resolve(stdout)
    })
  })
}
const runJson = async (...a) => JSON.parse(await run(...a))

async function cleanUp() {
  await stopAll()
  rmSync(tmp, { recursive: true, force: true })
}

/** Starts a long-running `channels` command in `home` and resolves with its ready line. */
const background = (home, args, env) => startChannels(args, { CHANNELS_HOME: home, CHANNELS_PASSWORD: password, ...env })

async function main() {
  const step = (s) => console.log(`\n▸ ${s}`)
  const payerHome = join(tmp, 'payer')
  const payeeHome = join(tmp, 'payee')

  step('Creating a payer wallet and a payee (merchant) wallet, keys in encrypted files')
  const payer = await runJson(payerHome, ['keys', 'new', 'alice', '--keystore', 'file', '--json'])
  const payee = await runJson(payeeHome, ['keys', 'new', 'shop', '--keystore', 'file', '--json'])
  console.log(`  payer ${payer.address}\n  payee ${payee.address}`)

  step('Starting a local chain: channels devnet --fund <payee home> (anvil + PaymentChannels via CREATE2; 100 ETH to each key)')
  const chain = await background(payerHome, ['devnet', '--no-bitcoin', '--port', String(await freePort()), '--fund', payeeHome, '--json'])
  console.log(`  ${chain.rpcUrl} chain ${chain.chainId}, contract ${chain.contract}, funded ${chain.funded.join(', ')}`)
  const env = { CHANNELS_RPC_URL: chain.rpcUrl }
  const provider = new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true, cacheTimeout: -1 })

  const balance = (a) => provider.getBalance(a)
  const txCount = (a) => provider.getTransactionCount(a)
  const before = { payer: await balance(payer.address), payee: await balance(payee.address), payerTx: await txCount(payer.address), payeeTx: await txCount(payee.address) }

  step(`Starting the paywall: channels serve --price ${PRICE} (wei per request)`)
  const shop = await background(payeeHome, ['serve', '--port', String(await freePort()), '--price', String(PRICE), '--json'], env)
  console.log(`  ${shop.url}  (GET /weather, GET /joke)`)

  step(`Buying ${PURCHASES} times with the real channels buy`)
  let paid = 0n
  let channelId
  let openTx
  const t0 = Date.now()
  for (let i = 0; i < PURCHASES; i++) {
    const path = i % 2 ? '/joke' : '/weather'
    const r = await runJson(payerHome, ['buy', shop.url + path, '--max-price', String(PRICE), '--deposit', '0.01eth', '--yes', '--json'], env)
    if (r.status !== 200) throw new Error(`purchase ${i + 1} answered ${r.status}`)
    paid += BigInt(r.paid)
    channelId = r.channelId
    if (r.opened) openTx = r.opened.tx
    console.log(`  ${String(i + 1).padStart(2)}. ${path.padEnd(8)} voucher #${r.voucher.nonce.padEnd(3)} total ${r.voucher.amount.padStart(14)} wei  ${r.body.trim().slice(0, 60)}`)
  }
  const secs = (Date.now() - t0) / 1000
  console.log(`  ${PURCHASES} purchases in ${secs.toFixed(1)} s (${(secs / PURCHASES * 1000).toFixed(0)} ms each, whole CLI process per purchase)`)

  step('Closing cooperatively: channels close (the merchant redeems the last voucher and refunds the rest)')
  const closed = await runJson(payerHome, ['close', channelId, '--json'], env)
  console.log(`  ${closed.result}: tx ${closed.transaction}`)
  if (closed.result !== 'closed') throw new Error('cooperative close did not happen')

  const after = { payer: await balance(payer.address), payee: await balance(payee.address), payerTx: await txCount(payer.address), payeeTx: await txCount(payee.address) }
  const fee = async (h) => { const r = await provider.getTransactionReceipt(h); return r.gasUsed * r.gasPrice }
  const payerGas = await fee(openTx)
  const payeeGas = await fee(closed.transaction)
  const onChainTx = (after.payerTx - before.payerTx) + (after.payeeTx - before.payeeTx)

  const t = new Table({ head: ['', 'payer', 'payee'], style: { head: [], border: [] } })
  t.push(['balance before (wei)', before.payer.toString(), before.payee.toString()])
  t.push(['balance after (wei)', after.payer.toString(), after.payee.toString()])
  t.push(['change (wei)', (after.payer - before.payer).toString(), (after.payee - before.payee).toString()])
  t.push(['gas paid (wei)', payerGas.toString(), payeeGas.toString()])
  t.push(['channel payments (wei)', (-paid).toString(), paid.toString()])
  t.push(['transactions sent', String(after.payerTx - before.payerTx), String(after.payeeTx - before.payeeTx)])
  console.log('\n' + t.toString())
  const s = new Table({ style: { head: [], border: [] } })
  s.push(['requests paid', String(PURCHASES)], ['amount paid', `${paid} wei (${formatEther(paid)} ETH)`], ['on-chain transactions', `${onChainTx} (open + close) for ${PURCHASES} payments`], ['redeemed by the merchant', closed.paidToPayee + ' wei'])
  console.log(s.toString())

  const payerOk = before.payer - after.payer === paid + payerGas
  const payeeOk = after.payee - before.payee === paid - payeeGas
  const redeemedOk = BigInt(closed.paidToPayee) === paid && paid === PRICE * BigInt(PURCHASES)
  console.log(`\nReconciliation: payer ${payerOk ? 'OK' : 'MISMATCH'} (spent = paid + gas), payee ${payeeOk ? 'OK' : 'MISMATCH'} (received = paid − gas), redeemed ${redeemedOk ? 'OK' : 'MISMATCH'} (= ${PURCHASES} × price)`)
  provider.destroy()
  if (!payerOk || !payeeOk || !redeemedOk) throw new Error('the numbers do not reconcile')
}

try {
  await main()
  await cleanUp()
  console.log('\nDemo finished; every process it started is stopped.')
} catch (err) {
  console.error(`\ndemo failed: ${err.message}`)
  await cleanUp()
  process.exit(1)
}
