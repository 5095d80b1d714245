/**
 * A running `channels hub` (issue 12) for e2e tests: the real binary in a wallet's home, started
 * like `startServe` and ready once it prints its JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, makeWallet, type Chain, type TestWallet } from './cli.js';

/** The three parties of a payment through a hub. */
export interface HubParties {
  payer: TestWallet;
  hubWallet: TestWallet;
  shop: TestWallet;
}

/** Homes `payer`, `hub` and `shop` on `chain`, each funded with 1 ETH. */
export async function hubParties(chain: Chain): Promise<HubParties> {
  const [payer, hubWallet, shop] = await Promise.all(['payer', 'hub', 'shop'].map((n) => makeWallet(n, chain.anvil.rpcUrl)));
  for (const w of [payer, hubWallet, shop]) await chain.fund(w.address, '1');
  return { payer, hubWallet, shop };
}

/**
 * The route of the payments: the hub's channel to the shop, bound to the shop's channel endpoint at `serveUrl`, and the
 * payer's channel to the hub at `hubAddress`, both with a settle delay of 3600 s; deposits in wei.
 * @returns the two channels' ids
 * @throws when either `open` fails (its output in the message)
 */
export async function openRoute(p: HubParties, hubAddress: string, serveUrl: string, deposits: { toShop: bigint; toHub: bigint }): Promise<{ hubChannel: string; payerChannel: string }> {
  const opened = async (w: TestWallet, args: string[]) => {
    const r = await w.run(['open', ...args, '--settle-delay', '3600', '--json']);
    if (r.code !== 0) throw new Error(`open failed: ${r.stdout}${r.stderr}`);
    return r.json.channelId as string;
  };
  const hubChannel = await opened(p.hubWallet, [p.shop.address, deposits.toShop.toString(), '--url', `${serveUrl}/.well-known/channels`]);
  const payerChannel = await opened(p.payer, [hubAddress, deposits.toHub.toString()]);
  return { hubChannel, payerChannel };
}

export interface Hub {
  /** The hub's URL (`endpoint` of its ready line). */
  url: string;
  address: string;
  info: any;
  process: ChildProcess;
  stderr(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), and wait for the exit. */
  kill(): Promise<void>;
}

/** Starts `channels hub --port 0 --json <args>` in `wallet`'s home and waits for its ready line (`--port N` in `args`: on that port, e.g. a restart where payers know it). */
export function startHub(wallet: TestWallet, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Hub> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'hub', ...(args.includes('--port') ? [] : ['--port', '0']), '--json', '--min-settle-delay', '60', ...args], { env: { ...wallet.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`hub did not start: ${out}${err}`)), 60_000);
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    const signal = (sig: NodeJS.Signals) => async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      await exited;
    };
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) {
        let info;
        try {
          info = JSON.parse(line);
        } catch {
          return; // an error's JSON, over several lines: the exit handler reports it
        }
        clearTimeout(timer);
        resolve({ url: info.endpoint, address: info.address, info, process: child, stderr: () => err, stop: signal('SIGTERM'), kill: signal('SIGKILL') });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}: ${out}${err}`));
    });
  });
}
