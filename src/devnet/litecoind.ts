/**
 * A local Bitcoin-family regtest node: `litecoind -regtest` (Debian package
 * `litecoind`, the Bitcoin Core 0.21 code base) on 127.0.0.1 with a temporary
 * datadir, no wallet and no peers. Used by `channels devnet`, the demo and the
 * tests; mining is `generatetoaddress` to a key we hold.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { address as baddress } from 'bitcoinjs-lib'
import { ChannelsError, NetworkError } from '../core/errors.js'
import { findOnPath, freePort } from '../core/local-process.js'
import { BitcoinRpc } from '../families/bitcoin/rpc.js'
import { LITECOIN_REGTEST, bip122Id, type BitcoinNetworkParams } from '../families/bitcoin/networks.js'
import { fundingAddressOf } from '../families/bitcoin/script.js'

export interface RegtestNode {
  /** RPC URL with credentials (`http://user:pass@127.0.0.1:port`). */
  rpcUrl: string
  rpc: BitcoinRpc
  /** `bip122:<first 32 hex digits of the genesis block hash>`. */
  caip2: string
  params: BitcoinNetworkParams
  datadir: string
  process: ChildProcess
  /** Mines `n` blocks to `address`; returns their hashes. */
  mine(n: number, address: string): Promise<string[]>
  stop(): Promise<void>
}

/** Path of `litecoind` on PATH, or undefined when it is not installed. */
export function litecoindBinary(): string | undefined {
  return findOnPath('litecoind')
}

/**
 * Starts `litecoind -regtest` and waits until it answers RPC.
 * @param o.datadir - default: a new temporary directory, removed by `stop()`
 * @param o.extraArgs - more litecoind options (tests: relay policy)
 * @throws {ChannelsError} litecoind not installed · {@link NetworkError} it did not come up in 60 s
 */
export async function startLitecoind(o: { datadir?: string; extraArgs?: string[] } = {}): Promise<RegtestNode> {
  const bin = litecoindBinary()
  if (!bin) {
    throw new ChannelsError('litecoind is not installed.', { metaMessages: ['Install it with `apt-get install -y litecoind` (Debian), then retry.'] })
  }
  const ownDir = !o.datadir
  const datadir = o.datadir ?? mkdtempSync(join(tmpdir(), 'channels-regtest-'))
  const user = 'channels'
  const password = randomBytes(16).toString('hex')
  for (let attempt = 0; ; attempt++) {
    const [rpcPort, p2pPort] = [await freePort(), await freePort()]
    const child = spawn(bin, [
      '-regtest', `-datadir=${datadir}`, '-server=1', '-listen=0', '-dnsseed=0', '-disablewallet=1', '-txindex=1',
      `-rpcbind=127.0.0.1`, '-rpcallowip=127.0.0.1', `-rpcport=${rpcPort}`, `-port=${p2pPort}`, `-rpcuser=${user}`, `-rpcpassword=${password}`,
      '-printtoconsole=0', '-fallbackfee=0.0001', ...(o.extraArgs ?? []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()))
    const rpcUrl = `http://${user}:${password}@127.0.0.1:${rpcPort}`
    const rpc = new BitcoinRpc(rpcUrl, { timeoutMs: 5_000 })
    const stopProcess = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL')
          await exited
        }
      }
    }
    try {
      const genesis = await waitReady(child, rpc, () => stderr)
      const node: RegtestNode = {
        rpcUrl, rpc, caip2: bip122Id(genesis), params: LITECOIN_REGTEST, datadir, process: child,
        mine: (n, address) => rpc.call<string[]>('generatetoaddress', [n, address]),
        stop: async () => {
          await stopProcess()
          if (ownDir) rmSync(datadir, { recursive: true, force: true })
        },
      }
      return node
    } catch (err) {
      await stopProcess()
      if (attempt < 2 && /address already in use|Unable to bind/i.test(stderr)) continue
      if (ownDir) rmSync(datadir, { recursive: true, force: true })
      throw err
    }
  }
}

/** Waits until the node answers `getblockhash 0`; returns the genesis hash. */
async function waitReady(child: ChildProcess, rpc: BitcoinRpc, stderr: () => string): Promise<string> {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new NetworkError(`litecoind exited (${child.exitCode ?? child.signalCode}) before answering: ${stderr().trim()}`)
    }
    try {
      return await rpc.call<string>('getblockhash', [0])
    } catch {
      /* not up yet, or warming up */
    }
    if (Date.now() > deadline) throw new NetworkError(`litecoind did not answer RPC within 60 s: ${stderr().trim()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Funds channel keys on a fresh regtest node: one coinbase (50 coins) to each key's
 * P2WPKH address, then 100 blocks so they mature.
 * @param pubkeys - compressed pubkeys (hex) to fund
 * @returns the funded P2WPKH addresses
 */
export async function fundRegtestKeys(node: RegtestNode, pubkeys: string[]): Promise<string[]> {
  const addresses = pubkeys.map((p) => fundingAddressOf(p, node.params))
  for (const a of addresses) await node.mine(1, a)
  await node.mine(100, burnAddress(node))
  return addresses
}

/** The P2WSH address of 32 zero bytes: valid, and nobody knows a script for it. Devnet's blocks pay it. */
export function burnAddress(node: RegtestNode): string {
  return baddress.toBech32(new Uint8Array(32), 0, node.params.bech32)
}

/**
 * Mines a block whenever the node's mempool holds transactions (checked every
 * `intervalMs`), as a real chain would confirm them: what `channels devnet` runs so
 * deposits and closes confirm without anyone calling `generatetoaddress`.
 * @returns a function that stops the miner
 */
export function startAutoMiner(node: RegtestNode, intervalMs = 1000): () => void {
  let busy = false
  const timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      const pool = await node.rpc.call<{ size: number }>('getmempoolinfo')
      if (pool.size > 0) await node.mine(1, burnAddress(node))
    } catch {
      /* node stopping */
    } finally {
      busy = false
    }
  }, intervalMs)
  return () => clearInterval(timer)
}
