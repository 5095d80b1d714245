/**
 * A local development chain: anvil (from the `@foundry-rs/anvil` npm package or
 * PATH) on 127.0.0.1, with PaymentChannels deployed at its deterministic address and
 * the wallet's keys funded from anvil's first dev account. Used by `channels devnet`
 * (through {@link runDevnet}), `npm run demo` and the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { Contract, Wallet, getAddress, parseEther, parseUnits, type JsonRpcProvider, type Signer } from 'ethers'
import { testUsdBytecode } from './test-usd-artifact.js'
import type { RegtestNode } from './litecoind.js'
import { Config, type KeyRecord, type NetworkConfig } from '../core/config.js'
import { BITCOIN_PRESETS } from '../families/bitcoin/config.js'
import { makeProvider } from '../families/evm/backend.js'
import { create2Address, deployCreate2, deployPaymentChannels } from '../families/evm/deploy.js'
import { ChannelsError, NetworkError, UsageError } from '../core/errors.js'
import { findOnPath, freePort } from '../core/local-process.js'

// Defined in core/local-process.ts (litecoind.ts needs them too); freePort still exported from here (scripts/demo.mjs).
export { freePort }
export { startLitecoind, fundRegtestKeys, startAutoMiner, type RegtestNode } from './litecoind.js'

/** Anvil's first dev account (public, from the standard test mnemonic). */
export const ANVIL_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

export interface AnvilNode {
  rpcUrl: string
  port: number
  chainId: number
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * A port asked for (`channels devnet --port`) is taken by another process: usually a
 * devnet already running there. Exit 2 (usage): the remedy is another command line
 * (another `--port`, or using the node that is running), and no node failed.
 */
export class PortInUseError extends UsageError {
  override name = 'Devnet.PortInUseError'
  override code = 'PORT_IN_USE'
}

function portInUse(port: number, host: string, answer?: string): PortInUseError {
  return new PortInUseError(`Port ${port} on ${host} is already in use${answer ? ` (${answer})` : ''}; nothing was started, funded or configured.`, {
    data: { port, host },
    metaMessages: [
      `Start this devnet on another port: channels devnet --port ${port === 65535 ? port - 1 : port + 1} (or --port 0 for any free port).`,
      `Or use the devnet already running there: in its CHANNELS_HOME, devnet.json holds its networks (channels config import <its home>/devnet.json); for the EVM chain alone, --rpc-url http://${host}:${port}.`,
    ],
  })
}

/**
 * Checks that nothing listens on `host:port`, by binding it for a moment.
 * @throws {PortInUseError} the port is taken (the message says what answers there, if it
 *   is an EVM node) · {@link UsageError} it cannot be bound for another reason (e.g. a
 *   privileged port)
 */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  const err = await new Promise<NodeJS.ErrnoException | undefined>((ok) => {
    const s = createServer()
    s.once('error', (e) => ok(e))
    s.listen(port, host, () => s.close(() => ok(undefined)))
  })
  if (!err) return
  if (err.code === 'EADDRINUSE') throw portInUse(port, host, await evmChainAt(`http://${host}:${port}`))
  throw new UsageError(`Cannot listen on ${host}:${port}: ${err.message}.`, { metaMessages: ['Choose another --port (or --port 0 for any free port).'], cause: err })
}

/** "an EVM node on chain N answers there" when one does (1 s), else undefined. */
async function evmChainAt(rpcUrl: string): Promise<string | undefined> {
  try {
    const r = await fetch(rpcUrl, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(1000),
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
    })
    const id = ((await r.json()) as { result?: string }).result
    return id ? `an EVM node on chain ${Number(id)} answers there, perhaps another channels devnet` : undefined
  } catch {
    return undefined
  }
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
 * @param o.port - default: a free port. A given port must be free: it is checked before
 *   anvil starts, since a node already there would answer the readiness probe in place
 *   of the new one (bug 8 of issue 9: a second devnet funded keys on the first's chain).
 * @param o.chainId - default 31337
 * @throws {ChannelsError} anvil missing · {@link PortInUseError} the given port is taken ·
 *   {@link NetworkError} it did not come up in 30 s
 */
export async function startAnvil(o: { port?: number; chainId?: number } = {}): Promise<AnvilNode> {
  const bin = anvilBinary()
  const chainId = o.chainId ?? 31337
  if (o.port !== undefined) await assertPortFree(o.port)
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
      if (/address already in use/i.test(stderr)) {
        if (o.port === undefined && attempt < 2) continue
        if (o.port !== undefined) throw portInUse(o.port, '127.0.0.1')
      }
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
      // Another process on the port answered for a child that failed to bind it.
      if (child.exitCode !== null || child.signalCode !== null) continue
      if (Number(id) !== chainId) throw new NetworkError(`anvil at ${rpcUrl} reports chain ${Number(id)}, expected ${chainId}.`)
      return
    }
    if (Date.now() > deadline) throw new NetworkError(`anvil did not answer on ${rpcUrl} within 30 s: ${stderr().trim()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Address the devnet's USD test token (contracts/TestUSD.sol) has on every chain (CREATE2, salt zero). */
export function testUsdAddress(): string {
  return create2Address(testUsdBytecode)
}

/**
 * Deploys TestUSD (6 decimals, EIP-2612 + EIP-3009, anyone may mint: devnets only) through the CREATE2 proxy unless
 * code is already there (issue 13 §1).
 * @returns the address and the deployment transaction hash (undefined if it existed)
 * @throws {ChannelsError} when the chain has no deployment proxy or the deploy fails
 */
export function deployTestUSD(signer: Signer, provider: JsonRpcProvider): Promise<{ address: string; tx?: string }> {
  return deployCreate2('TestUSD', testUsdBytecode, signer, provider)
}

/** Name of the devnet's USD test token among a network's `assets`, and the unit amounts take (`0.001usdc`). */
export const DEVNET_USD = 'usdc'

/** USD test token (base units, 6 decimals) minted to each funded address: 10,000 USDC. */
export const DEVNET_USD_FUNDING = parseUnits('10000', 6)

/**
 * Deploys PaymentChannels and the USD test token TestUSD (both CREATE2, so at the same
 * addresses on every chain) with the dev account, and sends `amount` wei and `usd` base
 * units of the token (6 decimals) to each address in `fund`.
 * @returns the contract's and the token's addresses, and the token's symbol and decimals as it reports them
 * @throws {ChannelsError} a deployment failed · ethers' errors when a transfer or mint fails
 */
export async function prepareDevnet(
  rpcUrl: string, chainId: number, fund: string[] = [], amount = parseEther('100'), usd = DEVNET_USD_FUNDING,
): Promise<{ contract: string; deployTx?: string; usdc: string; usd: { symbol: string; decimals: number } }> {
  const provider = makeProvider(rpcUrl, BigInt(chainId))
  try {
    const dev = new Wallet(ANVIL_DEV_KEY, provider)
    const { address, tx } = await deployPaymentChannels(dev, provider)
    const { address: usdc } = await deployTestUSD(dev, provider)
    const token = new Contract(usdc, ['function mint(address to, uint256 amount)', 'function symbol() view returns (string)', 'function decimals() view returns (uint8)'], dev)
    // The name config gives it carries the symbol and decimals the token itself reports.
    const [symbol, decimals] = await Promise.all([token.getFunction('symbol')() as Promise<string>, token.getFunction('decimals')() as Promise<bigint>])
    let nonce = await provider.getTransactionCount(dev.address, 'pending')
    const sent = []
    for (const to of fund) {
      sent.push(await dev.sendTransaction({ to, value: amount, nonce: nonce++ }))
      if (usd > 0n) sent.push(await token.getFunction('mint')(to, usd, { nonce: nonce++ }))
    }
    const receipts = await Promise.all(sent.map((t) => t.wait()))
    if (receipts.some((r) => !r || r.status !== 1)) throw new ChannelsError('Funding the devnet\'s keys failed (a transfer or a mint reverted).')
    return { contract: address, deployTx: tx, usdc, usd: { symbol, decimals: Number(decimals) } }
  } finally {
    provider.destroy()
  }
}

/** Who `channels devnet` funds: EVM addresses (100 ETH each) and Bitcoin channel pubkeys (one coinbase each). */
export interface FundTargets {
  /** EIP-55 addresses, without repeats. */
  evm: string[]
  /** Compressed pubkeys (hex) at coin type 1 (test networks), without repeats. */
  bitcoinPubkeys: string[]
}

/**
 * Resolves `channels devnet --fund` values, with this wallet's own keys (always funded).
 * A value is an EVM address (`0x` + 40 hex digits; EIP-55 checksum checked when mixed
 * case), a path to another wallet's CHANNELS_HOME (a value with a `/`, or starting with
 * `~` or `.`; every key recorded in its config.json: its EVM address and its coin-type-1
 * Bitcoin pubkey), or a key name of this wallet; a bare word that names no key but an
 * existing directory is a home too. Reads files only; nothing is written.
 * @param values - the `--fund` values, in order
 * @param own - this wallet's keys
 * @throws {UsageError} a value that is none of these, a home without config.json or keys,
 *   an unreadable or invalid config.json
 * @example resolveFundTargets(['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'], {}) // {evm: ['0x7099…79C8'], bitcoinPubkeys: []}
 */
export function resolveFundTargets(values: string[], own: Record<string, KeyRecord>, home = homedir()): FundTargets {
  const evm: string[] = []
  const pubkeys: string[] = []
  const add = (k: Pick<KeyRecord, 'address' | 'bitcoinPubkeys'>) => {
    evm.push(getAddress(k.address))
    if (k.bitcoinPubkeys?.['1']) pubkeys.push(k.bitcoinPubkeys['1'])
  }
  for (const k of Object.values(own)) add(k)
  for (const v of values) {
    if (/^0x[0-9a-fA-F]{40}$/.test(v)) {
      try {
        evm.push(getAddress(v))
      } catch {
        throw new UsageError(`--fund ${v}: the address's EIP-55 checksum is wrong (mixed case that does not match).`, { metaMessages: ['Write it all lower case, or copy it again.'] })
      }
      continue
    }
    const looksLikePath = /[/\\]/.test(v) || v.startsWith('~') || v.startsWith('.')
    if (!looksLikePath && own[v]) {
      add(own[v])
      continue
    }
    const dir = resolve(v === '~' ? home : v.startsWith('~/') ? join(home, v.slice(2)) : v)
    if (looksLikePath || statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      for (const k of Object.values(homeKeys(v, dir))) add(k)
      continue
    }
    throw new UsageError(`--fund ${v}: not an EVM address, a key of this wallet or a channels home directory.`, {
      metaMessages: [`Keys of this wallet: ${Object.keys(own).join(', ') || '(none)'}. A home is a CHANNELS_HOME directory, e.g. --fund ~/shop.`],
    })
  }
  return { evm: [...new Set(evm)], bitcoinPubkeys: [...new Set(pubkeys)] }
}

/** The keys recorded in another wallet's config.json (read, never written). @throws {UsageError} */
function homeKeys(value: string, dir: string): Record<string, KeyRecord> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--fund ${value}: ${dir} is not a directory.`)
  if (!existsSync(join(dir, 'config.json'))) {
    throw new UsageError(`--fund ${value}: ${dir} is not a channels home (no config.json).`, { metaMessages: [`Create a key there first: CHANNELS_HOME=${dir} channels keys new <name>.`] })
  }
  const keys = new Config(dir).keys()
  if (!Object.keys(keys).length) {
    throw new UsageError(`--fund ${value}: the wallet in ${dir} has no keys.`, { metaMessages: [`Create one: CHANNELS_HOME=${dir} channels keys new <name>.`] })
  }
  return keys
}

/** Name of the devnet's EVM network in config and in the networks it prints (the built-in network's name). */
export const DEVNET_EVM_NETWORK = 'devnet'

/** File in the devnet's home holding its ready line, for `channels config import` in other homes. */
export const DEVNET_FILE = 'devnet.json'

/** What a running devnet prints on its `--json` ready line and writes to {@link DEVNET_FILE}. */
export interface DevnetInfo {
  /** anvil's JSON-RPC URL. */
  rpcUrl: string
  chainId: number
  /** PaymentChannels address (CREATE2, the same on every chain). */
  contract: string
  /** EVM addresses sent 100 ETH and 10,000 USDC (the test token) each. */
  funded: string[]
  /** Named ERC-20 assets of the EVM chain: `usdc`, the USD test token's address (6 decimals, EIP-3009). */
  assets: { usdc: string }
  /** The litecoind regtest node, when started. `rpcUrl` here is without credentials (they are in `networks`). */
  bitcoin?: { network: string; caip2: string; rpcUrl: string; funded: string[] }
  /**
   * Every network started, as config records them (the regtest `rpcUrl` carries the node's
   * RPC credentials: a throw-away local node), ready for `channels config import`.
   */
  networks: Record<string, NetworkConfig>
}

/** A running devnet. */
export interface Devnet {
  info: DevnetInfo
  /** Path of {@link DEVNET_FILE}. */
  file: string
  /** Resolves with a description when a node exits on its own (it should not before {@link stop}). */
  exited: Promise<string>
  /** Stops the miner and the nodes, removes the devnet file (if still ours); idempotent. */
  stop(): Promise<void>
}

/**
 * Starts a devnet for a wallet: anvil (with PaymentChannels), and litecoind regtest when
 * asked or installed; funds this wallet's keys and the `fund` targets; then, once every node
 * is up and funded, records the networks in the wallet's config in one write and writes
 * {@link DEVNET_FILE} (mode 0600) in its home. Nothing is written or funded when anything
 * fails before that, and every node started is stopped.
 * @param o.port - anvil's port; 0 or undefined: a free one
 * @param o.bitcoin - start litecoind regtest; default: when installed
 * @param o.bitcoinNetwork - config name of the regtest network (default "regtest")
 * @param o.fund - `--fund` values, see {@link resolveFundTargets}
 * @throws {UsageError} bad `fund` value or network name · {@link PortInUseError} ·
 *   {@link ChannelsError} anvil or (with `bitcoin: true`) litecoind missing · {@link NetworkError} a node did not come up
 */
export async function runDevnet(config: Config, o: { port?: number; bitcoin?: boolean; bitcoinNetwork?: string; fund?: string[] } = {}): Promise<Devnet> {
  const bitcoinNetwork = o.bitcoinNetwork ?? 'regtest'
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(bitcoinNetwork) || bitcoinNetwork === DEVNET_EVM_NETWORK) {
    throw new UsageError(`Invalid --bitcoin-network "${bitcoinNetwork}": 1–32 letters, digits, _ or -, and not "${DEVNET_EVM_NETWORK}".`)
  }
  const targets = resolveFundTargets(o.fund ?? [], config.keys())
  const regtestMod = o.bitcoin === false ? undefined : await import('./litecoind.js')
  const withBitcoin = regtestMod !== undefined && (o.bitcoin ?? regtestMod.litecoindBinary() !== undefined)
  if (withBitcoin && !regtestMod.litecoindBinary()) {
    throw new ChannelsError('litecoind is not installed.', { metaMessages: ['Install it with `apt-get install -y litecoind` (Debian), or run `channels devnet --no-bitcoin`.'] })
  }
  anvilBinary() // missing anvil: say so before a port check
  const node = await startAnvil({ port: o.port || undefined })
  let regtest: RegtestNode | undefined
  let stopMiner = () => {}
  let written: string | undefined
  const file = join(config.home, DEVNET_FILE)
  const stop = async () => {
    stopMiner()
    // Another devnet in this home may have replaced the file since: leave its file alone.
    if (written !== undefined && readIfExists(file) === written) rmSync(file, { force: true })
    written = undefined
    await regtest?.stop()
    await node.stop()
  }
  try {
    const [prepared, started] = await Promise.allSettled([
      prepareDevnet(node.rpcUrl, node.chainId, targets.evm),
      withBitcoin ? regtestMod.startLitecoind() : Promise.resolve(undefined),
    ])
    if (started.status === 'fulfilled') regtest = started.value
    if (prepared.status === 'rejected') throw prepared.reason
    if (started.status === 'rejected') throw started.reason
    const { contract, usdc, usd } = prepared.value
    const networks: Record<string, NetworkConfig> = {
      [DEVNET_EVM_NETWORK]: {
        kind: 'evm', caip2: `eip155:${node.chainId}`, rpcUrl: node.rpcUrl, contract,
        assets: { [DEVNET_USD]: { symbol: usd.symbol, address: usdc, decimals: usd.decimals } },
      },
    }
    let bitcoin: DevnetInfo['bitcoin']
    if (regtest) {
      const funded = await regtestMod!.fundRegtestKeys(regtest, targets.bitcoinPubkeys)
      networks[bitcoinNetwork] = { kind: 'bitcoin', caip2: regtest.caip2, rpcUrl: regtest.rpcUrl, bitcoin: { ...BITCOIN_PRESETS['litecoin-regtest'] } }
      bitcoin = { network: bitcoinNetwork, caip2: regtest.caip2, rpcUrl: regtest.rpcUrl.replace(/\/\/[^@/]*@/, '//'), funded }
    }
    const info: DevnetInfo = { rpcUrl: node.rpcUrl, chainId: node.chainId, contract, assets: { usdc }, funded: targets.evm, ...(bitcoin ? { bitcoin } : {}), networks }
    // Every node is up and funded: only now does the wallet's config change.
    config.setNetworks(networks)
    const text = JSON.stringify(info) + '\n'
    writeFileSync(file, text, { mode: 0o600 })
    chmodSync(file, 0o600)
    written = text
    if (regtest) stopMiner = regtestMod!.startAutoMiner(regtest)
    const children: [string, ChildProcess][] = [['anvil', node.process], ...(regtest ? [['litecoind', regtest.process] as [string, ChildProcess]] : [])]
    const exited = new Promise<string>((ok) => {
      for (const [name, child] of children) {
        const report = () => ok(`${name} exited (${child.exitCode ?? child.signalCode})`)
        if (child.exitCode !== null || child.signalCode !== null) report()
        else child.once('exit', report)
      }
    })
    return { info, file, exited, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
