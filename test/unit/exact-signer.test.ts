/**
 * Issue 13 §2: the adapter from the wallet's ethers signer to the `ClientEvmSigner` @x402/evm signs
 * with (families/evm/exact.ts). What @x402/evm's own exact client scheme signs through it is an EIP-3009
 * authorization that viem (another implementation) recovers to the wallet, over exactly the entry's terms;
 * typed data whose primary type is not the one named is refused.
 */
import { describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { verifyTypedData } from 'viem';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { clientSignerOf } from '../../src/families/evm/exact.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
  ],
} as const;

describe('clientSignerOf: the wallet as @x402/evm\'s signer', () => {
  const wallet = new Wallet(KEY);

  it('@x402/evm\'s exact client scheme signs, through it, an authorization viem recovers to the wallet, on the entry\'s terms', async () => {
    const entry = { scheme: 'exact', network: 'eip155:31337', amount: '1000', asset: TOKEN, payTo: PAYEE, maxTimeoutSeconds: 60, extra: { name: 'USD Coin (test)', version: '1' } };
    const before = Math.floor(Date.now() / 1000);
    const r = await new ExactEvmScheme(clientSignerOf(wallet)).createPaymentPayload(2, entry as never);
    const { authorization: a, signature } = r.payload as { authorization: Record<string, string>; signature: `0x${string}` };
    expect(a).toMatchObject({ from: wallet.address, to: PAYEE, value: '1000', validAfter: '0' });
    expect(Number(a.validBefore) - before).toBeGreaterThanOrEqual(60);
    expect(Number(a.validBefore) - before).toBeLessThanOrEqual(62);
    const message = { from: a.from, to: a.to, value: BigInt(a.value), validAfter: BigInt(a.validAfter), validBefore: BigInt(a.validBefore), nonce: a.nonce } as never;
    const domain = { name: 'USD Coin (test)', version: '1', chainId: 31337, verifyingContract: TOKEN } as const;
    expect(await verifyTypedData({ address: wallet.address as `0x${string}`, domain, types: TYPES, primaryType: 'TransferWithAuthorization', message, signature })).toBe(true);
    // Another version in the domain: another signature (the domain is really signed over).
    expect(await verifyTypedData({ address: wallet.address as `0x${string}`, domain: { ...domain, version: '2' }, types: TYPES, primaryType: 'TransferWithAuthorization', message, signature })).toBe(false);
  });

  it('drops EIP712Domain from the types, as ethers wants', async () => {
    const domain = { name: 'T', version: '1', chainId: 1, verifyingContract: TOKEN };
    const message = { from: wallet.address, to: PAYEE, value: 1n, validAfter: 0n, validBefore: 2n, nonce: `0x${'11'.repeat(32)}` };
    const withDomain = { EIP712Domain: [{ name: 'name', type: 'string' }], ...TYPES };
    const sig = await clientSignerOf(wallet).signTypedData({ domain, types: withDomain, primaryType: 'TransferWithAuthorization', message });
    expect(sig).toBe(await wallet.signTypedData(domain, { ...TYPES } as never, message));
  });

  it('refuses typed data whose primary type is not the one named', async () => {
    const domain = { name: 'T', version: '1', chainId: 1, verifyingContract: TOKEN };
    const message = { from: wallet.address, to: PAYEE, value: 1n, validAfter: 0n, validBefore: 2n, nonce: `0x${'11'.repeat(32)}` };
    await expect(clientSignerOf(wallet).signTypedData({ domain, types: TYPES, primaryType: 'Permit', message })).rejects.toThrowError(/primary type is not Permit/);
  });
});
