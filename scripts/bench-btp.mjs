// The Interledger figures of `npm run bench` (issue 14 §3): claims per second over ONE BTP
// connection to a real `channels btp listen` (each claim committed to SQLite, fsync'd, before
// its answer), the listener's CPU per claim, and the ILP Prepare → Fulfill round trip over BTP.
// The sender is in-process and pre-signs its vouchers, as the paywall part does, so that the
// figure is the listener's. Asserts nothing about timings; throws when an answer or the
// listener's database is not what was sent.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseEther } from 'ethers'
import Database from 'better-sqlite3'
import { ZERO_HASH } from '../dist/index.js'
import { signVoucher, voucherDigest } from '../dist/families/evm/index.js'
import { CLAIM_PROTOCOL, claimFromVoucher, conditionFor, connectBtp, fetchSpsp } from '../dist/core/transports/btp/index.js'
import { prepareDevnet } from '../dist/devnet/index.js'
import { BIN, children, cpuSeconds, startChannels } from './processes.mjs'

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }
const SECRET = 'bench-btp-secret'

/**
 * @param o.m - the payer's ChannelManager (opens the channels); o.signer its key; o.price base units per claim
 * @returns btp_claims_per_s: claims/s over one connection on 8 channels, 8 in flight per channel (64 in all),
 *   each answered after its commit (after a first pass, btp_claims_per_s_first_pass); btp_claims_per_s_one_channel:
 *   one channel, 16 in flight (the listener takes one channel's claims in nonce order, one commit after another);
 *   btp_cpu_us_per_claim: the listener's CPU µs (user + system, all threads) per claim in the measured pass,
 *   btp_client_cpu_us_per_claim the sender's; btp_prepare_fulfill_p50_ms / p99: sequential ILP Prepares to an
 *   SPSP destination of the listener, each fulfilled, over one BTP connection
 */
export async function measureBtp({ rpcUrl, chainId, tmp, m, signer, contract, price, log }) {
  const home = join(tmp, 'btp-shop')
  const env = { CHANNELS_HOME: home, CHANNELS_RPC_URL: rpcUrl }
  const shop = JSON.parse(execFileSync(process.execPath, [BIN, 'keys', 'new', 'shop', '--keystore', 'file', '--json'], { env: { ...process.env, ...env } })).address
  await prepareDevnet(rpcUrl, Number(chainId), [shop], parseEther('10'))
  const secretFile = join(tmp, 'btp-secret')
  writeFileSync(secretFile, SECRET + '\n', { mode: 0o600 })
  const listen = await startChannels(['btp', 'listen', '--port', '0', '--json', '--secret-file', secretFile, '--min-settle-delay', '60', '--watch-interval', '3600'], env)
  const listenPid = children.at(-1).pid
  const url = listen.url.replace('btp+ws://', `btp+ws://bench:${SECRET}@`)
  const publicKey = signer.signingKey.publicKey

  /** `n` fresh channels to the listener's wallet, each with `perChannel` claims of `price` pre-signed (nonces 1…perChannel). */
  async function presign(n, perChannel) {
    const out = []
    for (let i = 0; i < n; i++) {
      const c = await m.open({ payee: listen.payTo, deposit: parseEther('1'), settleDelay: 3600 })
      const entries = []
      for (let k = 1n; k <= BigInt(perChannel); k++) {
        const v = signVoucher({ channelId: c.id, lane: 0n, nonce: k, amount: k * price, secretHash: ZERO_HASH, timeLockMin: 0n, timeLockMax: 0n, minSettleAt: 0n, merges: [] }, signer, chainId, contract)
        const claim = claimFromVoucher(v, { digest: voucherDigest(v, chainId, contract), publicKey }, { senderId: 'bench', messageId: `bench-${c.id.slice(2, 14)}-${k}` })
        entries.push([{ protocolName: CLAIM_PROTOCOL, contentType: 2, data: Buffer.from(JSON.stringify(claim)) }])
      }
      out.push({ id: c.id, entries })
    }
    return out
  }

  /**
   * Sends every claim over one connection, `depth` in flight per channel (each channel's in nonce order);
   * checks each answer and, after, the listener's database.
   * @returns claims/s; sets cpu
   */
  const cpu = {}
  async function claims(label, n, perChannel, depth) {
    const channels = await presign(n, perChannel)
    const c = await connectBtp(url)
    let ok = 0
    const failed = []
    const c0 = process.cpuUsage(), s0 = cpuSeconds(listenPid)
    const start = performance.now()
    await Promise.all(channels.flatMap(({ entries }) => {
      let next = 0
      return Array.from({ length: depth }, async () => {
        while (next < entries.length) {
          const i = next++
          try {
            const answer = await c.transfer(price, entries[i])
            const receipt = JSON.parse(answer.find((d) => d.protocolName === CLAIM_PROTOCOL).data.toString())
            if (receipt.duplicate || receipt.credited !== price.toString() || receipt.nonce !== String(i + 1)) failed.push(JSON.stringify(receipt))
            else ok++
          } catch (err) {
            failed.push(err.message)
          }
        }
      })
    }))
    const secs = (performance.now() - start) / 1000
    const client = process.cpuUsage(c0), listener = cpuSeconds(listenPid) - s0
    c.close()
    if (failed.length) throw new Error(`${failed.length} of ${n * perChannel} claims failed (${label}): ${failed[0]}`)
    // Every answer was a committed claim: the listener's database holds exactly those vouchers, each channel charged once per claim.
    const db = new Database(join(home, 'channels.db'), { readonly: true })
    db.defaultSafeIntegers(true)
    let stored = 0
    for (const ch of channels) {
      stored += Number(db.prepare('SELECT COUNT(*) AS n FROM vouchers WHERE channel_id = ?').get(ch.id).n)
      const { charged } = db.prepare('SELECT charged FROM channels WHERE id = ?').get(ch.id)
      if (BigInt(charged) !== BigInt(perChannel) * price) throw new Error(`channel ${ch.id} charged ${charged} for ${perChannel} claims of ${price} (${label})`)
    }
    db.close()
    if (stored !== ok) throw new Error(`the listener stored ${stored} vouchers for ${ok} answered claims (${label})`)
    cpu[label] = { listener: (listener * 1e6) / ok, client: ((client.user + client.system)) / ok }
    return ok / secs
  }

  log('measuring BTP claims…')
  const first = await claims('first', 8, 250, 8)
  const rate = await claims('c8', 8, 1000, 8)
  const oneChannel = await claims('one', 1, 1000, 16)

  // ILP Prepare → Fulfill: SPSP (RFC 9) for a destination and its secret, STREAM's (RFC 29) condition, one Prepare at a time.
  log('measuring ILP Prepare → Fulfill over BTP…')
  const { destination, sharedSecret } = await fetchSpsp(listen.spsp)
  const c = await connectBtp(url)
  const rtt = []
  for (let i = 0; i < 1100; i++) {
    const data = randomBytes(32)
    const executionCondition = conditionFor(sharedSecret, data)
    const t = performance.now()
    const reply = await c.sendPrepare({ amount: '1', destination, executionCondition, expiresAt: new Date(Date.now() + 30_000), data })
    const dt = performance.now() - t
    if (!reply.fulfillment || !createHash('sha256').update(reply.fulfillment).digest().equals(executionCondition)) throw new Error(`Prepare ${i} was not fulfilled: ${JSON.stringify(reply)}`)
    if (i >= 100) rtt.push(dt) // the first 100 warm up
  }
  c.close()

  const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d
  return {
    btp_claims_per_s: round(rate),
    btp_claims_per_s_first_pass: round(first),
    btp_claims_per_s_one_channel: round(oneChannel),
    btp_cpu_us_per_claim: round(cpu.c8.listener, 0),
    btp_client_cpu_us_per_claim: round(cpu.c8.client, 0),
    btp_prepare_fulfill_p50_ms: round(pct(rtt, 50), 3),
    btp_prepare_fulfill_p99_ms: round(pct(rtt, 99), 3),
  }
}
