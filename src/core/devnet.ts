/**
 * A local development chain: anvil (from the `@foundry-rs/anvil` npm package or
 * PATH) on 127.0.0.1, with PaymentChannels deployed at its deterministic address and
 * the wallet's keys funded from anvil's first dev account. Used by `channels devnet`,
 * `npm run demo` and the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { Wallet, parseEther } from 'ethers'
import { makeProvider } from './chains/evm/backend.js'
import { deployPaymentChannels } from './chains/evm/deploy.js'
import { ChannelsError, NetworkError } from './errors.js'

/** Anvil's first dev account (public, from the standard test mnemonic). */
export const ANVIL_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

export interface AnvilNode {
  rpcUrl: string
  port: number
  chainId: number
  process: ChildProcess
  stop(): Promise<void>
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => ok(port))
    })
  })
}

/** Path of an executable named `name` in PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, name))) return join(dir, name)
  return undefined
}

/**
 * Path of the anvil binary: the `@foundry-rs/anvil` platform package, else PATH.
 * @throws {ChannelsError} when neither has it
 */
export function anvilBinary(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch]
  const require = createRequire(import.meta.url)
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)
    const bin = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
    if (existsSync(bin)) return bin
  } catch {
    /* not installed: try PATH */
  }
  const onPath = findOnPath('anvil')
  if (onPath) return onPath
  throw new ChannelsError('anvil is not installed.', {
    metaMessages: ['Install it with `npm install @foundry-rs/anvil` (or Foundry), then retry.'],
  })
}

/**
 * Starts anvil on 127.0.0.1 and waits until it answers JSON-RPC.
 * @param o.port - default: a free port
 * @param o.chainId - default 31337
 * @throws {ChannelsError} anvil missing · {@link NetworkError} it did not come up in 30 s
 */
export async function startAnvil(o: { port?: number; chainId?: number } = {}): Promise<AnvilNode> {
  const bin = anvilBinary()
  const chainId = o.chainId ?? 31337
  for (let attempt = 0; ; attempt++) {
    const port = o.port ?? (await freePort())
    const child = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--silent'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()))
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    }
    const rpcUrl = `http://127.0.0.1:${port}`
    try {
      await waitReady(child, rpcUrl, chainId, () => stderr)
      return { rpcUrl, port, chainId, process: child, stop }
    } catch (err) {
      await stop()
      // Another process may have taken a free port between freePort() and anvil's bind.
      if (o.port === undefined && attempt < 2 && /address already in use/i.test(stderr)) continue
      throw err
    }
  }
}

/** Waits until anvil answers `eth_chainId` with `chainId`. @throws {NetworkError} */
async function waitReady(child: ChildProcess, rpcUrl: string, chainId: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new NetworkError(`anvil exited (${child.exitCode ?? child.signalCode}) before answering: ${stderr().trim()}`)
    }
    let id: string | undefined
    try {
      const r = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' })
      id = ((await r.json()) as { result?: string }).result
    } catch {
      /* not up yet */
    }
    if (id !== undefined) {
      if (Number(id) !== chainId) throw new NetworkError(`anvil at ${rpcUrl} reports chain ${Number(id)}, expected ${chainId}.`)
      return
    }
    if (Date.now() > deadline) throw new NetworkError(`anvil did not answer on ${rpcUrl} within 30 s: ${stderr().trim()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Deploys PaymentChannels (CREATE2) with the dev account and sends `amount` wei to
 * each address in `fund`.
 * @returns the contract address
 */
export async function prepareDevnet(rpcUrl: string, chainId: number, fund: string[] = [], amount = parseEther('100')): Promise<{ contract: string; deployTx?: string }> {
  const provider = makeProvider(rpcUrl, BigInt(chainId))
  try {
    const dev = new Wallet(ANVIL_DEV_KEY, provider)
    const { address, tx } = await deployPaymentChannels(dev, provider)
    let nonce = await provider.getTransactionCount(dev.address, 'pending')
    const sent = []
    for (const to of fund) sent.push(await dev.sendTransaction({ to, value: amount, nonce: nonce++ }))
    await Promise.all(sent.map((t) => t.wait()))
    return { contract: address, deployTx: tx }
  } finally {
    provider.destroy()
  }
}
