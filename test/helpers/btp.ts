/**
 * Helpers of the Interledger e2e tests (test/e2e/btp, ilp-connector): a real `channels btp
 * listen` child, a free loopback port, the listener's `--events` lines, and polling for state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { BIN, type TestWallet } from './cli.js';

/** A running `channels btp listen`: its ready line's fields and the child. */
export interface Listener {
  url: string;
  spsp: string;
  contract: string;
  child: ChildProcess;
  stop(): Promise<void>;
  stderr(): string;
}

/** Starts `channels btp listen --port <port> --json` in `w`'s home and resolves with its ready line (port 0: any free one). */
export function startListen(w: TestWallet, port: number, args: string[]): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'btp', 'listen', '--port', String(port), '--json', '--min-settle-delay', '60', ...args], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`btp listen did not start: ${out}${err}`)), 60_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      const info = JSON.parse(out.split('\n')[0]);
      resolve({
        url: info.url, spsp: info.spsp, contract: info.contract, child, stderr: () => err,
        stop: () => new Promise((ok) => {
          if (child.exitCode !== null) return ok();
          child.once('exit', () => ok());
          child.kill('SIGTERM');
        }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`btp listen exited with ${code}: ${out}${err}`));
    });
  });
}

/** A port free on 127.0.0.1 right now (for a peer that listens on a port it is given). */
export function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

/** The JSON lines of a listener's `--events` file so far. */
export const eventLines = (file: string): any[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

/** Polls `check` until it returns a value (state, not sleeps, with a generous limit). */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
