/**
 * The package's entry points (DESIGN §2): `channels` is the family-independent façade;
 * each family's own API is a subpath (`channels/evm`, `channels/bitcoin`), local nodes
 * are `channels/devnet`. Loaded as a user would, by package name through the built
 * `exports` map (a real Node.js process, so its resolution, not vitest's, decides).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The runtime export names of each entry point, read by a child `node` importing them by name. */
function exportsOf(): Record<string, string[]> {
  const script = `const out = {}
for (const m of ['channels', 'channels/evm', 'channels/bitcoin', 'channels/devnet', 'channels/x402', 'channels/ilp']) out[m] = Object.keys(await import(m)).sort()
console.log(JSON.stringify(out))`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }));
}

describe('package entry points', () => {
  const all = exportsOf();

  it('the façade is family-independent: no manager, signer, script builder or node of a family', () => {
    const root = all['channels']!;
    for (const name of ['families', 'Config', 'Store', 'transition', 'buy', 'startPaywall', 'encodeVoucher', 'decodeVoucher', 'toJson', 'PaymentChannelManager']) expect(root, name).toContain(name);
    for (const name of ['ChannelManager', 'BitcoinChannelManager', 'signVoucher', 'buildRedeemScript', 'BitcoinECPair', 'startLitecoind', 'startAnvil', 'EvmBackend']) {
      expect(root, name).not.toContain(name);
    }
    // It was 133 names before the split (issue 10); a façade that grows past 80 has let a family back in.
    expect(root.length).toBeLessThanOrEqual(80);
  });

  it('channels/ilp, required by name from CommonJS as ilp-connector does, is the plugin class (version 2)', () => {
    const script = `const P = require('channels/ilp'); console.log(JSON.stringify({ type: typeof P, name: P.name, version: P.version }))`;
    const got = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(got).toEqual({ type: 'function', name: 'ChannelsIlpPlugin', version: 2 });
  });

  it('PaymentChannelManager, loaded by package name, has the seed\'s sixteen methods', () => {
    const script = `const { PaymentChannelManager } = await import('channels')
console.log(JSON.stringify(Object.getOwnPropertyNames(PaymentChannelManager.prototype)))`;
    const methods: string[] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }));
    const seed = ['create', 'addFunds', 'reserveFunds', 'releaseFunds', 'status', 'lookup', 'list', 'settle', 'collect', 'allocateLane',
      'voucherCheckValid', 'voucherCheckSpendable', 'voucherCreate', 'voucherAdd', 'voucherList', 'voucherSubmit'];
    for (const name of seed) expect(methods, name).toContain(name);
  });

  it('channels/evm, channels/bitcoin and channels/devnet each give their own API', () => {
    for (const name of ['ChannelManager', 'EvmScheme', 'signVoucher', 'recoverVoucherSigner', 'contractAddress', 'acceptVoucher', 'startSettler']) expect(all['channels/evm'], name).toContain(name);
    for (const name of ['BitcoinChannelManager', 'BitcoinScheme', 'buildRedeemScript', 'buildPaymentTransaction', 'verifyPaymentTransaction', 'acceptBitcoinPayment']) expect(all['channels/bitcoin'], name).toContain(name);
    for (const name of ['startAnvil', 'prepareDevnet', 'startLitecoind', 'runDevnet']) expect(all['channels/devnet'], name).toContain(name);
    for (const name of ['ChannelSchemeClient', 'ChannelSchemeServer', 'ChannelFacilitator', 'registerChannelScheme']) expect(all['channels/x402'], name).toContain(name);
    for (const name of ['ChannelsIlpPlugin', 'IlpPluginOptionsSchema', 'default']) expect(all['channels/ilp'], name).toContain(name);
    expect(all['channels/evm']).not.toContain('buildRedeemScript');
    expect(all['channels/bitcoin']).not.toContain('signVoucher');
  });
});
