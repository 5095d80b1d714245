#!/usr/bin/env node
// npm run demo: a real local chain (anvil via `channels devnet`), a real paywall
// (`channels serve`), the real `channels buy` 24 times over one payment channel, a
// cooperative close, and a table whose numbers reconcile to the wei, read from the chain.
// Then the same merchant priced in a USD stablecoin (the devnet's test USDC) over an ERC-20 channel.
// Then purchases from a second merchant the payer has no channel with, paid through a real
// `channels hub` over ONE channel to the hub (DESIGN §11), with the hub's fees in the table.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import Table from 'cli-table3'
import { Contract, JsonRpcProvider, formatEther, formatUnits } from 'ethers'
import { freePort } from '../dist/devnet/index.js'
import { BIN, startChannels, stopAll } from './processes.mjs'

const PURCHASES = 24
const PRICE = 1_000_000_000_000n // wei per request (0.000001 ETH)
const ROUTED = 6 // purchases through the hub
const USDC_PURCHASES = 6 // purchases priced in the devnet's USD test token
const HUB_FEE_BASE = 1_000_000_000n // wei per payment (1 gwei), plus 1000 ppm of the price
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
  const hubHome = join(tmp, 'hub')
  const shop2Home = join(tmp, 'shop2')

  step('Creating a payer wallet and a payee (merchant) wallet, keys in encrypted files')
  const payer = await runJson(payerHome, ['keys', 'new', 'alice', '--keystore', 'file', '--json'])
  const payee = await runJson(payeeHome, ['keys', 'new', 'shop', '--keystore', 'file', '--json'])
  const hubKey = await runJson(hubHome, ['keys', 'new', 'hub', '--keystore', 'file', '--json'])
  const shop2Key = await runJson(shop2Home, ['keys', 'new', 'shop2', '--keystore', 'file', '--json'])
  console.log(`  payer ${payer.address}\n  payee ${payee.address}\n  (for the second part: a hub ${hubKey.address} and a second merchant ${shop2Key.address})`)

  step('Starting a local chain: channels devnet --fund <payee home> (anvil + PaymentChannels via CREATE2; 100 ETH to each key)')
  const chain = await background(payerHome, ['devnet', '--no-bitcoin', '--port', String(await freePort()), '--fund', payeeHome, '--fund', hubHome, '--fund', shop2Home, '--json'])
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
  if (!payerOk || !payeeOk || !redeemedOk) throw new Error('the numbers do not reconcile')

  await inUsdc({ step, env, provider, chain, payerHome, payeeHome, payer, payee })
  await throughHub({ step, env, provider, payerHome, hubHome, shop2Home, payer, hubKey, shop2Key, fee })
  provider.destroy()
}

/** Part 1b: the same merchant charges a USD stablecoin (the devnet's 6-decimal TestUSD, named usdc): an ERC-20 channel (issue 13 §1). */
async function inUsdc({ step, env, provider, chain, payerHome, payeeHome, payer, payee }) {
  step('The merchant names the devnet\'s USD test token (config import of the devnet.json channels devnet wrote) and charges 0.001 USDC')
  await run(payeeHome, ['config', 'import', join(payerHome, 'devnet.json'), '--json'], env)
  const token = new Contract(chain.assets.usdc, ['function balanceOf(address) view returns (uint256)'], provider)
  const usd = async () => ({ payer: await token.balanceOf(payer.address), payee: await token.balanceOf(payee.address) })
  const shop = await background(payeeHome, ['serve', '--port', String(await freePort()), '--price', '0.001usdc', '--json'], env)
  console.log(`  ${shop.url}  asset ${shop.asset} (USDC)`)
  const before = await usd()
  step(`Buying ${USDC_PURCHASES} times in USDC: channels buy --max-price 0.01usdc --deposit 1usdc --yes (ERC-20 approve + open, then vouchers)`)
  let paid = 0n
  let channelId
  for (let i = 0; i < USDC_PURCHASES; i++) {
    const r = await runJson(payerHome, ['buy', `${shop.url}/weather`, '--max-price', '0.01usdc', '--deposit', '1usdc', '--yes', '--json'], env)
    if (r.status !== 200) throw new Error(`USDC purchase ${i + 1} answered ${r.status}`)
    paid += BigInt(r.paid)
    channelId = r.channelId
    console.log(`  ${String(i + 1).padStart(2)}. /weather voucher #${r.voucher.nonce} total ${formatUnits(BigInt(r.voucher.amount), 6)} USDC${r.opened ? ' (channel opened)' : ''}`)
  }
  console.log(`  ${(await run(payerHome, ['status', channelId], env)).split('\n').filter((l) => /deposit|spent/.test(l)).map((l) => l.trim()).join('; ')}`)
  const closed = await runJson(payerHome, ['close', channelId, '--json'], env)
  if (closed.result !== 'closed') throw new Error('the USDC channel did not close cooperatively')
  const after = await usd()
  const t = new Table({ head: ['in USDC (token base units: 10^6 per USDC)', 'payer', 'payee'], style: { head: [], border: [] } })
  t.push(['balance before', before.payer.toString(), before.payee.toString()], ['balance after', after.payer.toString(), after.payee.toString()])
  t.push(['change', (after.payer - before.payer).toString(), (after.payee - before.payee).toString()], ['channel payments', (-paid).toString(), paid.toString()])
  console.log('\n' + t.toString())
  const ok = before.payer - after.payer === paid && after.payee - before.payee === paid && paid === 1000n * BigInt(USDC_PURCHASES)
  console.log(`\nReconciliation in USDC: ${ok ? 'OK' : 'MISMATCH'} (payer −${formatUnits(paid, 6)} USDC, payee +${formatUnits(paid, 6)} USDC; the gas was paid in ETH)`)
  if (!ok) throw new Error('the USDC numbers do not reconcile')
}

/** Part two: purchases from a merchant the payer has no channel with, through a hub (DESIGN §11). */
async function throughHub({ step, env, provider, payerHome, hubHome, shop2Home, payer, hubKey, shop2Key, fee }) {
  const balance = (a) => provider.getBalance(a)
  const who = { payer: payer.address, hub: hubKey.address, shop2: shop2Key.address }
  const before = Object.fromEntries(await Promise.all(Object.entries(who).map(async ([k, a]) => [k, await balance(a)])))
  const firstBlock = (await provider.getBlockNumber()) + 1
  /** Gas each party paid from `firstBlock` on, from every receipt (a payee's close may take two transactions). */
  const gasSince = async () => {
    const out = { payer: 0n, hub: 0n, shop2: 0n }
    for (let n = firstBlock; n <= await provider.getBlockNumber(); n++) {
      for (const h of (await provider.getBlock(n)).transactions) {
        const tx = await provider.getTransaction(h)
        const k = Object.keys(who).find((x) => who[x].toLowerCase() === tx.from.toLowerCase())
        if (k) out[k] += await fee(h)
      }
    }
    return out
  }

  step(`Starting a hub: channels hub --fee-base ${HUB_FEE_BASE} --fee-ppm 1000 (its own wallet and database)`)
  const hub = await background(hubHome, ['hub', '--port', String(await freePort()), '--fee-base', String(HUB_FEE_BASE), '--fee-ppm', '1000', '--json'], env)
  console.log(`  ${hub.endpoint}  address ${hub.address}`)
  step('A second merchant that lists the hub in its 402: channels serve --hub <hub url>')
  const shop2 = await background(shop2Home, ['serve', '--port', String(await freePort()), '--price', String(PRICE), '--hub', hub.endpoint, '--json'], env)
  console.log(`  ${shop2.url}`)
  step('The hub opens a channel to the merchant (its liquidity); the payer opens ONE channel to the hub, none to the merchant')
  const hubOpen = await runJson(hubHome, ['open', shop2.payTo, '0.001eth', '--url', `${shop2.url}/.well-known/channels`, '--json'], env)
  const payerOpen = await runJson(payerHome, ['open', hub.address, '0.001eth', '--json'], env)
  console.log(`  hub → merchant ${hubOpen.channelId.slice(0, 18)}…, payer → hub ${payerOpen.channelId.slice(0, 18)}…`)

  step(`Buying ${ROUTED} times from the second merchant with the real channels buy: paid through the hub, proven by each payment's secret`)
  let paid = 0n
  let fees = 0n
  for (let i = 0; i < ROUTED; i++) {
    const r = await runJson(payerHome, ['buy', `${shop2.url}/weather`, '--max-price', String(PRICE), '--json'], env)
    if (r.status !== 200 || !r.routed) throw new Error(`routed purchase ${i + 1} answered ${r.status} (${r.routed ? 'routed' : 'not routed'})`)
    paid += PRICE
    fees += BigInt(r.routed.fee)
    console.log(`  ${String(i + 1).padStart(2)}. /weather via the hub, fee ${r.routed.fee} wei, proof ${r.routed.secret.slice(0, 18)}…  ${r.body.trim().slice(0, 40)}`)
  }
  const status = await runJson(hubHome, ['hub', 'status', '--json'], env)
  console.log(`  hub status: ${status.payments.fulfilled} fulfilled, fees earned ${status.feesEarned} wei`)

  step('Closing: the merchant closes the hub\'s channel, the hub closes the payer\'s (each payee redeems its last vouchers)')
  const shopClose = await runJson(shop2Home, ['close', hubOpen.channelId, '--json'], env)
  const hubClose = await runJson(hubHome, ['close', payerOpen.channelId, '--json'], env)
  const after = Object.fromEntries(await Promise.all(Object.entries(who).map(async ([k, a]) => [k, await balance(a)])))
  if (shopClose.result !== 'closed' || hubClose.result !== 'closed') throw new Error('a payee could not close')
  const gas = await gasSince()

  const t = new Table({ head: ['through the hub', 'payer', 'hub', 'merchant 2'], style: { head: [], border: [] } })
  t.push(['change (wei)', ...Object.keys(who).map((k) => (after[k] - before[k]).toString())])
  t.push(['gas paid (wei)', gas.payer.toString(), gas.hub.toString(), gas.shop2.toString()])
  t.push(['prices (wei)', (-paid).toString(), '', paid.toString()])
  t.push(['hub fees (wei)', (-fees).toString(), fees.toString(), ''])
  t.push(['channels opened', '1 (to the hub)', '1 (to merchant 2)', '0'])
  console.log('\n' + t.toString())
  const ok = {
    payer: before.payer - after.payer === paid + fees + gas.payer,
    hub: after.hub - before.hub === fees - gas.hub,
    shop2: after.shop2 - before.shop2 === paid - gas.shop2,
    fees: BigInt(status.feesEarned) === fees,
  }
  console.log(`\nReconciliation through the hub: payer ${ok.payer ? 'OK' : 'MISMATCH'} (spent = prices + fees + gas), hub ${ok.hub ? 'OK' : 'MISMATCH'} (earned = fees − gas), merchant ${ok.shop2 ? 'OK' : 'MISMATCH'} (received = prices − gas), fees ${ok.fees ? 'OK' : 'MISMATCH'} (= hub status)`)
  if (!Object.values(ok).every(Boolean)) throw new Error('the numbers through the hub do not reconcile')
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
