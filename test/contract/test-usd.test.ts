import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, Signature, TypedDataEncoder, ethers, type JsonRpcProvider, type Wallet } from 'ethers';
import { startAnvil, latestTimestamp, type Anvil } from '../helpers/anvil.js';
import { deployPlain, provider, wallets } from '../helpers/deploy.js';
import { decodingErrors } from '../helpers/errors.js';

/** EIP-3009's typed data, as Circle's FiatToken and the EIP define it. */
const TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
  ],
};
const RECEIVE_TYPES = { ReceiveWithAuthorization: TYPES.TransferWithAuthorization };
/** Method `sig` (a full signature: the contract has overloads) of `c`, its reverts decoded. */
const f = (c: Contract, sig: string) => decodingErrors(c)[sig] as (...args: unknown[]) => Promise<ethers.ContractTransactionResponse>;
const CANCEL_TYPES = { CancelAuthorization: [{ name: 'authorizer', type: 'address' }, { name: 'nonce', type: 'bytes32' }] };

describe('TestUSD: EIP-3009 transfers with authorization (the devnet USD token)', () => {
  let anvil: Anvil;
  let p: JsonRpcProvider;
  let alice: Wallet, bob: Wallet, carol: Wallet;
  let usd: Contract;
  let domain: { name: string; version: string; chainId: number; verifyingContract: string };

  beforeAll(async () => {
    anvil = await startAnvil();
    p = provider(anvil.rpcUrl, anvil.chainId);
    [, alice, bob, carol] = wallets(p, 4);
    usd = decodingErrors(await deployPlain(alice, 'TestUSD'));
    domain = { name: 'USD Coin (test)', version: '1', chainId: anvil.chainId, verifyingContract: await usd.getAddress() };
    await (await usd.mint(alice.address, 1_000_000_000n)).wait();
  });
  afterAll(async () => {
    p?.destroy();
    await anvil?.stop();
  });

  async function auth(o: { from?: Wallet; signer?: Wallet; to?: string; value?: bigint; validAfter?: bigint; validBefore?: bigint; receive?: boolean } = {}) {
    const now = await latestTimestamp(anvil.rpcUrl);
    const from = o.from ?? alice;
    const msg = {
      from: from.address, to: o.to ?? bob.address, value: o.value ?? 1_500_000n,
      validAfter: o.validAfter ?? 0n, validBefore: o.validBefore ?? now + 3600n, nonce: ethers.hexlify(ethers.randomBytes(32)),
    };
    const sig = Signature.from(await (o.signer ?? from).signTypedData(domain, o.receive ? RECEIVE_TYPES : TYPES, msg));
    const args = [msg.from, msg.to, msg.value, msg.validAfter, msg.validBefore, msg.nonce] as const;
    return { msg, sig, args, vrs: [...args, sig.v, sig.r, sig.s] as const };
  }

  it('is USDC-shaped: 6 decimals, symbol USDC, the EIP-3009 typehashes, EIP-712 domain as ethers computes it', async () => {
    expect(await usd.decimals()).toBe(6n);
    expect(await usd.symbol()).toBe('USDC');
    expect(await usd.TRANSFER_WITH_AUTHORIZATION_TYPEHASH()).toBe(ethers.id('TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)'));
    expect(await usd.RECEIVE_WITH_AUTHORIZATION_TYPEHASH()).toBe(ethers.id('ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)'));
    expect(await usd.CANCEL_AUTHORIZATION_TYPEHASH()).toBe(ethers.id('CancelAuthorization(address authorizer,bytes32 nonce)'));
    expect(await usd.DOMAIN_SEPARATOR()).toBe(TypedDataEncoder.hashDomain(domain));
  });

  it('a valid transferWithAuthorization, submitted by anyone, moves the tokens and flips authorizationState once', async () => {
    const a = await auth();
    const [before, bobBefore] = [await usd.balanceOf(alice.address), await usd.balanceOf(bob.address)];
    expect(await usd.authorizationState(alice.address, a.msg.nonce)).toBe(false);
    const receipt = await (await f(usd.connect(carol) as Contract, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...a.vrs)).wait();
    expect(await usd.balanceOf(alice.address)).toBe(before - a.msg.value);
    expect(await usd.balanceOf(bob.address)).toBe(bobBefore + a.msg.value);
    expect(await usd.authorizationState(alice.address, a.msg.nonce)).toBe(true);
    const used = receipt!.logs.map((l: ethers.Log) => usd.interface.parseLog(l)).find((e) => e?.name === 'AuthorizationUsed');
    expect(used?.args.authorizer).toBe(alice.address);
    expect(used?.args.nonce).toBe(a.msg.nonce);
    // The same authorization again: the nonce is spent.
    await expect(f(usd.connect(carol) as Contract, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...a.vrs)).rejects.toThrow(/AuthorizationUsedOrCanceled/);
    expect(await usd.balanceOf(bob.address)).toBe(bobBefore + a.msg.value);
  });

  it('the bytes-signature overload accepts the same signature', async () => {
    const a = await auth({ value: 7n });
    const bobBefore = await usd.balanceOf(bob.address);
    await (await f(usd, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)')(...a.args, a.sig.serialized)).wait();
    expect(await usd.balanceOf(bob.address)).toBe(bobBefore + 7n);
  });

  it('refuses an expired and a not-yet-valid authorization, leaving the nonce unused', async () => {
    const now = await latestTimestamp(anvil.rpcUrl);
    const expired = await auth({ validBefore: now - 1n });
    await expect(f(usd, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...expired.vrs)).rejects.toThrow(/AuthorizationExpired/);
    const early = await auth({ validAfter: now + 3600n, validBefore: now + 7200n });
    await expect(f(usd, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...early.vrs)).rejects.toThrow(/AuthorizationNotYetValid/);
    expect(await usd.authorizationState(alice.address, expired.msg.nonce)).toBe(false);
    expect(await usd.authorizationState(alice.address, early.msg.nonce)).toBe(false);
  });

  it('refuses a signature by someone other than `from`', async () => {
    const forged = await auth({ signer: carol });
    const before = await usd.balanceOf(alice.address);
    await expect(f(usd, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...forged.vrs)).rejects.toThrow(/InvalidAuthorizationSignature/);
    // A valid signature of a different value does not cover this one.
    const a = await auth();
    const tampered = [a.msg.from, a.msg.to, a.msg.value + 1n, a.msg.validAfter, a.msg.validBefore, a.msg.nonce, a.sig.v, a.sig.r, a.sig.s];
    await expect(f(usd, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...tampered)).rejects.toThrow(/InvalidAuthorizationSignature/);
    expect(await usd.balanceOf(alice.address)).toBe(before);
  });

  it('receiveWithAuthorization: only `to` may submit it; a transfer-typed signature does not serve', async () => {
    const r = await auth({ receive: true, value: 42n });
    const fn = 'receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)';
    await expect(f(usd.connect(carol) as Contract, fn)(...r.vrs)).rejects.toThrow(/CallerMustBePayee/);
    const t = await auth({ value: 42n }); // TransferWithAuthorization-typed
    await expect(f(usd.connect(bob) as Contract, fn)(...t.vrs)).rejects.toThrow(/InvalidAuthorizationSignature/);
    const bobBefore = await usd.balanceOf(bob.address);
    await (await f(usd.connect(bob) as Contract, fn)(...r.vrs)).wait();
    expect(await usd.balanceOf(bob.address)).toBe(bobBefore + 42n);
    expect(await usd.authorizationState(alice.address, r.msg.nonce)).toBe(true);
  });

  it('a cancelled authorization is refused; cancelling needs the authorizer\'s signature', async () => {
    const a = await auth();
    const cancel = { authorizer: alice.address, nonce: a.msg.nonce };
    const bySomeoneElse = Signature.from(await carol.signTypedData(domain, CANCEL_TYPES, cancel));
    const cancelFn = 'cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)';
    await expect(f(usd, cancelFn)(alice.address, a.msg.nonce, bySomeoneElse.v, bySomeoneElse.r, bySomeoneElse.s)).rejects.toThrow(/InvalidAuthorizationSignature/);
    const sig = Signature.from(await alice.signTypedData(domain, CANCEL_TYPES, cancel));
    const receipt = await (await f(usd.connect(carol) as Contract, cancelFn)(alice.address, a.msg.nonce, sig.v, sig.r, sig.s)).wait();
    expect(receipt!.logs.map((l: ethers.Log) => usd.interface.parseLog(l)?.name)).toContain('AuthorizationCanceled');
    expect(await usd.authorizationState(alice.address, a.msg.nonce)).toBe(true);
    await expect(f(usd, 'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)')(...a.vrs)).rejects.toThrow(/AuthorizationUsedOrCanceled/);
    await expect(f(usd, cancelFn)(alice.address, a.msg.nonce, sig.v, sig.r, sig.s)).rejects.toThrow(/AuthorizationUsedOrCanceled/);
  });
});
