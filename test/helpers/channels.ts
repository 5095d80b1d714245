/**
 * Shared set-up for contract tests: one anvil per test file, PaymentChannels deployed with
 * CREATE2, named dev accounts and a helper that opens channels with fresh salts.
 */
import { Contract, ethers, type JsonRpcProvider, type TransactionReceipt, type TypedDataDomain, type Wallet } from 'ethers';
import { startAnvil, type Anvil } from './anvil.js';
import { deployPaymentChannels, provider, wallets } from './deploy.js';
import { decodingErrors } from './errors.js';
import { channelId, domain, sign, voucher, type Voucher } from './voucher.js';

export const NATIVE = ethers.ZeroAddress;
export const ONE = ethers.parseEther('1');

export interface OpenOptions {
  from?: Wallet;
  to?: string;
  token?: string;
  /** Deposit in base units. */
  amount?: bigint;
  /** Seconds. */
  settleDelay?: bigint;
  salt?: string;
}

export interface ChannelFixture {
  anvil: Anvil;
  provider: JsonRpcProvider;
  /** PaymentChannels, connected to `deployer`. */
  pc: Contract;
  deployer: Wallet;
  payer: Wallet;
  payee: Wallet;
  stranger: Wallet;
  dom: TypedDataDomain;
  /** `pc` connected to `w`; rejected calls name their custom error. */
  as(w: Wallet): Contract;
  /** Opens a channel (payer → payee, 1 ether native, 1 h delay unless overridden). */
  open(opts?: OpenOptions): Promise<{ id: string; salt: string; receipt: TransactionReceipt }>;
  /** A voucher for `id` signed by `signer` (default payer). */
  signed(fields: Partial<Voucher> & Pick<Voucher, 'channelId'>, signer?: Wallet): Promise<{ v: Voucher; sig: string }>;
}

let saltCounter = 0;

/** Starts anvil (chain id 31337 unless given) and deploys PaymentChannels. */
export async function channelFixture(opts: { chainId?: number } = {}): Promise<ChannelFixture> {
  const anvil = await startAnvil(opts);
  const p = provider(anvil.rpcUrl, anvil.chainId);
  const [deployer, payer, payee, stranger] = wallets(p, 4);
  const pc = await deployPaymentChannels(deployer);
  const dom = domain(anvil.chainId, await pc.getAddress());
  const as = (w: Wallet) => decodingErrors(pc.connect(w) as Contract);

  const open: ChannelFixture['open'] = async (o = {}) => {
    const from = o.from ?? payer;
    const to = o.to ?? payee.address;
    const token = o.token ?? NATIVE;
    const amount = o.amount ?? ONE;
    const salt = o.salt ?? ethers.toBeHex(++saltCounter, 32);
    const tx = await as(from).open(to, token, amount, o.settleDelay ?? 3600n, salt, {
      value: token === NATIVE ? amount : 0n,
    });
    const receipt = (await tx.wait()) as TransactionReceipt;
    return { id: channelId(anvil.chainId, await pc.getAddress(), from.address, to, token, salt), salt, receipt };
  };

  const signed: ChannelFixture['signed'] = async (fields, signer = payer) => {
    const v = voucher(fields);
    return { v, sig: await sign(signer, dom, v) };
  };

  return { anvil, provider: p, pc, deployer, payer, payee, stranger, dom, as, open, signed };
}

/** Native-currency cost of a mined transaction: gasUsed × effective gas price, in wei. */
export function gasCost(receipt: TransactionReceipt): bigint {
  return receipt.gasUsed * receipt.gasPrice;
}

/** Waits for a sent transaction and returns its receipt. */
export async function mined(p: Promise<{ wait(): Promise<unknown> }>): Promise<TransactionReceipt> {
  return (await (await p).wait()) as TransactionReceipt;
}

/** The PaymentChannels events of a receipt, as `[name, ...args]` (other contracts' logs dropped). */
export function channelEvents(pc: Contract, r: TransactionReceipt): unknown[][] {
  return r.logs.flatMap((l) => {
    const e = pc.interface.parseLog(l);
    return e ? [[e.name, ...e.args.toArray()]] : [];
  });
}
