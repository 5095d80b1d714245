/**
 * Assets (src/core/asset.ts) and the families' asset builders (families/<kind>/asset.ts,
 * reached through the registry's `ChannelFamily.asset`): CAIP-19 ids, symbols, decimals,
 * and what they print and accept.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assetId, parseAssetId } from '../../src/core/asset.js';
import { formatAmount, parseAmount } from '../../src/core/units.js';
import { UsageError } from '../../src/core/errors.js';
import type { NetworkConfig } from '../../src/core/config.js';
import { families } from '../../src/families/index.js';
import { erc20Asset, evmAsset, evmNamedAsset, evmNativeAsset, parseEvmAmount } from '../../src/families/evm/asset.js';
import { bitcoinAsset, LITECOIN_HRPS } from '../../src/families/bitcoin/asset.js';
import { evmConfig } from '../../src/families/evm/config.js';
import { bitcoinConfig, BITCOIN_PRESETS } from '../../src/families/bitcoin/config.js';
import { amountSettingAsset } from '../../src/core/settings.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BTC_MAIN = 'bip122:000000000019d6689c085ae165831e93';
const BTC_REGTEST = 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328';
const LTC_REGTEST = 'bip122:530827f38f93b43ed12af0b3ad25a288';
const LTC_MAIN = 'bip122:12a765e31ffd4059bada1e25190f6e98';
const USDC_BASE = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';

const evm = (caip2: string): NetworkConfig => ({ kind: 'evm', caip2, rpcUrl: 'http://127.0.0.1:8545' });
const btc = (caip2: string, preset?: string): NetworkConfig =>
  ({ kind: 'bitcoin', caip2, rpcUrl: 'http://u:p@127.0.0.1:19443', ...(preset ? { bitcoin: BITCOIN_PRESETS[preset] } : {}) });

describe('CAIP-19 asset ids', () => {
  it.each([
    { id: 'eip155:1/slip44:60', parts: { chainId: 'eip155:1', namespace: 'slip44', reference: '60' } },
    { id: `eip155:8453/erc20:${USDC_BASE}`, parts: { chainId: 'eip155:8453', namespace: 'erc20', reference: USDC_BASE } },
    { id: `${BTC_MAIN}/slip44:0`, parts: { chainId: BTC_MAIN, namespace: 'slip44', reference: '0' } },
  ])('$id', ({ id, parts }) => {
    expect(parseAssetId(id)).toEqual(parts);
    expect(assetId(parts.chainId, parts.namespace, parts.reference)).toBe(id);
  });

  it.each([
    { name: 'no asset part', id: 'eip155:1' },
    { name: 'no namespace', id: 'eip155:1/60' },
    { name: 'namespace too short', id: 'eip155:1/sl:60' },
    { name: 'upper-case namespace', id: 'eip155:1/SLIP44:60' },
    { name: 'chain reference over 32 characters', id: `eip155:${'1'.repeat(33)}/slip44:60` },
    { name: 'asset reference over 128 characters', id: `eip155:1/erc20:${'a'.repeat(129)}` },
    { name: 'a space', id: 'eip155:1/slip44: 60' },
    { name: 'empty', id: '' },
  ])('refuses $name with a UsageError naming it', ({ id }) => {
    expect(() => parseAssetId(id)).toThrow(UsageError);
    expect(() => parseAssetId(id)).toThrow(`"${id}"`);
  });
});

describe('EVM assets (families/evm/asset.ts)', () => {
  it.each([
    { name: 'devnet (anvil) ether', network: evm('eip155:31337'), address: undefined, id: 'eip155:31337/slip44:60' },
    { name: 'mainnet ether', network: evm('eip155:1'), address: undefined, id: 'eip155:1/slip44:60' },
    { name: 'Sepolia ether', network: evm('eip155:11155111'), address: undefined, id: 'eip155:11155111/slip44:60' },
    { name: 'ether named by the zero address', network: evm('eip155:31337'), address: '0x' + '0'.repeat(40), id: 'eip155:31337/slip44:60' },
  ])('$name → $id, ETH with 18 decimals', ({ network, address, id }) => {
    const a = families.evm.asset(network, address);
    expect(a).toEqual(evmAsset(network, address));
    expect(a).toMatchObject({ id, symbol: 'ETH', decimals: 18 });
    expect(a.units).toEqual({ wei: 0, gwei: 9, eth: 18, ether: 18 });
    expect(a.max).toBeUndefined();
  });

  it('an ERC-20 token: <caip2>/erc20:<address>, its case kept; unknown until its symbol and decimals are', () => {
    const unknown = families.evm.asset(evm('eip155:8453'), USDC_BASE);
    expect(unknown.id).toBe(`eip155:8453/erc20:${USDC_BASE}`);
    expect(unknown.symbol).toBeUndefined();
    expect(unknown.decimals).toBeUndefined();
    expect(unknown.units).toEqual({});
    expect(formatAmount(1_500_000n, unknown)).toBe('1,500,000 units of 0x833589…2913');

    const usdc = erc20Asset('eip155:8453', USDC_BASE, { symbol: 'USDC', decimals: 6 });
    expect(usdc).toMatchObject({ id: `eip155:8453/erc20:${USDC_BASE}`, symbol: 'USDC', decimals: 6, units: { usdc: 6 } });
    expect(formatAmount(1_500_000n, usdc)).toBe('1.5 USDC');
    expect(formatAmount(0n, usdc)).toBe('0 USDC');
    expect(parseAmount('1.5usdc', 'amount', usdc)).toBe(1_500_000n);
  });

  it('prints ETH, gwei and wei by size', () => {
    const a = evmNativeAsset('eip155:31337');
    expect([0n, 1n, 10n ** 9n, 10n ** 14n, 10n ** 17n].map((v) => formatAmount(v, a))).toEqual(['0 ETH', '1 wei', '1 gwei', '0.0001 ETH', '0.1 ETH']);
  });
});

describe('Bitcoin-family assets (families/bitcoin/asset.ts)', () => {
  it.each([
    { name: 'Bitcoin mainnet', network: btc(BTC_MAIN, 'bitcoin'), id: `${BTC_MAIN}/slip44:0`, symbol: 'BTC' },
    { name: 'Bitcoin regtest', network: btc(BTC_REGTEST, 'bitcoin-regtest'), id: `${BTC_REGTEST}/slip44:0`, symbol: 'BTC' },
    { name: 'Litecoin regtest (the devnet)', network: btc(LTC_REGTEST, 'litecoin-regtest'), id: `${LTC_REGTEST}/slip44:2`, symbol: 'LTC' },
    {
      name: 'Litecoin mainnet (bech32 ltc)', id: `${LTC_MAIN}/slip44:2`, symbol: 'LTC',
      network: { kind: 'bitcoin', caip2: LTC_MAIN, rpcUrl: 'http://u:p@127.0.0.1:9332', bitcoin: { bech32: 'ltc', pubKeyHash: 0x30, scriptHash: 0x32, wif: 0xb0, coinType: 2 } } as NetworkConfig,
    },
    { name: 'a network written without its parameters', network: btc(BTC_REGTEST), id: `${BTC_REGTEST}/slip44:0`, symbol: 'BTC' },
  ])('$name → $id, $symbol with 8 decimals', ({ network, id, symbol }) => {
    const a = families.bitcoin.asset(network, 'sat');
    expect(a).toEqual(bitcoinAsset(network as { caip2: string }));
    expect(a).toMatchObject({ id, symbol, decimals: 8, units: { sat: 0, sats: 0, btc: 8, ltc: 8 } });
    expect(a.max).toEqual({ value: 2_100_000_000_000_000n, text: '21 million coins' });
    expect(formatAmount(5000n, a)).toBe('5,000 sat');
    expect(formatAmount(10n ** 6n, a)).toBe(`0.01 ${symbol}`);
  });

  it("Litecoin's bech32 prefixes are Litecoin Core's (main, test, regtest)", () => {
    expect([...LITECOIN_HRPS].sort()).toEqual(['ltc', 'rltc', 'tltc']);
  });
});

describe('every asset a family builds', () => {
  const networks: NetworkConfig[] = [evm('eip155:31337'), evm('eip155:1'), btc(BTC_MAIN, 'bitcoin'), btc(LTC_REGTEST, 'litecoin-regtest')];
  it.each(networks)('$caip2: a CAIP-19 id on the network, and the zero amount in its symbol', (network) => {
    const a = families[network.kind].asset(network);
    expect(parseAssetId(a.id).chainId).toBe(network.caip2);
    expect(parseAssetId(a.id).namespace).toBe('slip44');
    expect(formatAmount(0n, a)).toBe(`0 ${a.symbol}`);
    // its own symbol is one of its units, so what it prints it reads back
    expect(Object.keys(a.units)).toContain(a.symbol!.toLowerCase());
  });

  it('the amount settings count in the family coin (config set and config list)', () => {
    expect(evmConfig.settingsAsset).toMatchObject({ id: 'eip155:1/slip44:60', symbol: 'ETH' });
    expect(bitcoinConfig.settingsAsset).toMatchObject({ id: `${BTC_MAIN}/slip44:0`, symbol: 'BTC' });
    expect(amountSettingAsset('buy.maxPrice')).toBe(evmConfig.settingsAsset);
    expect(amountSettingAsset('buy.bitcoinDeposit')).toBe(bitcoinConfig.settingsAsset);
    expect(amountSettingAsset('buy.settleDelay')).toBeUndefined();
  });
});

describe('named assets of an EVM network (issue 13 §1: the devnet names its USD test token usdc)', () => {
  const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  const devnet = { caip2: 'eip155:31337', assets: { usdc: { symbol: 'USDC', address: TOKEN, decimals: 6 } } };

  it('"0.001usdc" is 1000 base units of the named token; ether units still count wei', () => {
    const p = parseEvmAmount('0.001usdc', '--price', devnet);
    expect(p.value).toBe(1000n);
    expect(p.token).toBe(TOKEN);
    expect(p.asset).toMatchObject({ id: `eip155:31337/erc20:${TOKEN}`, symbol: 'USDC', decimals: 6 });
    expect(parseEvmAmount('2 USDC', '--price', devnet).value).toBe(2_000_000n);
    const eth = parseEvmAmount('0.01eth', '--price', devnet);
    expect(eth).toEqual({ value: 10n ** 16n, asset: evmNativeAsset('eip155:31337') });
    expect(parseEvmAmount('50', '--price', devnet).token).toBeUndefined();
  });

  it('refuses more decimals than the token has, and usdc where the network names no such asset', () => {
    expect(() => parseEvmAmount('0.0000001usdc', '--price', devnet)).toThrow(/usdc has at most 6 decimals/);
    expect(() => parseEvmAmount('0.001usdc', '--price', { caip2: 'eip155:31337' })).toThrow(/usdc is not a unit of this EVM network/);
    expect(() => parseEvmAmount('0.001usdc', '--price', { caip2: 'eip155:31337' })).toThrow(UsageError);
  });

  it('a channel in the named token prints in USDC; another token stays in base units', () => {
    expect(formatAmount(1_500_000n, evmAsset(devnet, TOKEN.toLowerCase()))).toBe('1.5 USDC');
    expect(formatAmount(1_500_000n, evmAsset(devnet, USDC_BASE))).not.toContain('USDC');
    expect(evmNamedAsset(devnet, 'USDC')?.address).toBe(TOKEN);
    expect(evmNamedAsset(devnet, 'dai')).toBeUndefined();
    expect(evmNamedAsset(devnet, 'constructor')).toBeUndefined();
  });

  it('config accepts {symbol, address, decimals} under networks.<name>.assets and refuses a bad one', () => {
    const net = { kind: 'evm', caip2: 'eip155:31337', rpcUrl: 'http://127.0.0.1:8545', assets: devnet.assets };
    expect(evmConfig.network.parse(net)).toEqual(net);
    expect(evmConfig.network.safeParse({ ...net, assets: { usdc: { ...devnet.assets.usdc, decimals: 6.5 } } }).success).toBe(false);
    expect(evmConfig.network.safeParse({ ...net, assets: { USDC: devnet.assets.usdc } }).success).toBe(false);
    expect(evmConfig.network.safeParse({ ...net, assets: { usdc: { ...devnet.assets.usdc, extra: 1 } } }).success).toBe(false);
  });
});

describe('the registry stays cheap', () => {
  it('loading families/index.js (as status does) loads neither ethers nor bitcoinjs-lib, and builds assets', () => {
    // A resolve hook in a real Node.js process reports every module the built registry pulls in.
    const hook = 'let port; export async function initialize(d) { port = d.port } ' +
      'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r }';
    const script = `import { register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'
const { port1, port2 } = new MessageChannel()
const urls = []
port1.on('message', (u) => urls.push(u))
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] })
const { families } = await import('./dist/families/index.js')
const ids = [families.evm.asset({ kind: 'evm', caip2: 'eip155:31337' }).id, families.bitcoin.asset({ kind: 'bitcoin', caip2: '${LTC_REGTEST}', bitcoin: { bech32: 'rltc' } }).id]
await new Promise((r) => setTimeout(r, 100))
port1.close()
console.log(JSON.stringify({ ids, urls }))`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }));
    expect(out.ids).toEqual(['eip155:31337/slip44:60', `${LTC_REGTEST}/slip44:2`]);
    expect(out.urls.length).toBeGreaterThan(3);
    expect(out.urls.filter((u: string) => /node_modules\/(ethers|bitcoinjs-lib|tiny-secp256k1|@noble)/.test(u))).toEqual([]);
  });
});
