/**
 * Runs a `channels` command inside the test process (oclif's `run` on the built commands,
 * output captured by @oclif/test's `captureOutput`), for tables that test parsing and
 * validation: the same command classes, error mapping and `--json` error object as the
 * binary, without the ≈ 0.6 s of CPU a process start costs. The binary's own behaviour
 * (process exit code, bin/run.js) stays covered by spawned cases (runBin).
 *
 * Unlike @oclif/test's `runCommand`, arguments are passed through as given: an empty
 * string or a value with spaces stays one argument.
 */
import { Config, run } from '@oclif/core';
import { captureOutput } from '@oclif/test';
import { REPO_ROOT } from './anvil.js';
import type { RunResult } from './cli.js';

/** The wallet variables a command reads from its environment. */
const WALLET_ENV = ['CHANNELS_HOME', 'CHANNELS_PASSWORD', 'CHANNELS_PASSWORD_FILE', 'CHANNELS_RPC_URL'] as const;

let config: Promise<Config> | undefined;
/** The command running in process (they share process.env and the captured output): the next waits for it. */
let running: Promise<unknown> = Promise.resolve();

/**
 * Runs `channels <args>` in process with the wallet variables of `env` (others untouched)
 * and returns what the binary would: its exit code (the one the command's error mapping
 * set), stdout, stderr and stdout parsed as JSON. Commands run one at a time: a call made while
 * another runs (e.g. from Promise.all) waits for it.
 * @param timeoutMs a command still running after this (a `serve` that accepted bad input) fails the test
 */
export function runInProcess(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  const result = running.then(() => runNow(args, env, timeoutMs));
  running = result.catch(() => undefined);
  return result;
}

async function runNow(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  config ??= Config.load({ root: REPO_ROOT });
  const loaded = await config;
  const saved = Object.fromEntries(WALLET_ENV.map((k) => [k, process.env[k]]));
  for (const k of WALLET_ENV) {
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`channels ${args.join(' ')} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    const out = await Promise.race([captureOutput(() => run(args, loaded)), deadline]);
    // The command's catch sets process.exitCode (as the binary exits with it); an error that
    // escapes it (oclif's own parse errors without --json) carries oclif.exit.
    const escaped = out.error as (Error & { oclif?: { exit?: number } }) | undefined;
    const code = Number(process.exitCode ?? (escaped ? (escaped.oclif?.exit ?? 1) : 0));
    let json: any;
    try {
      json = JSON.parse(out.stdout);
    } catch {
      /* not JSON */
    }
    return { code, stdout: out.stdout, stderr: out.stderr + (escaped && process.exitCode === undefined ? `${escaped.message}\n` : ''), json };
  } finally {
    clearTimeout(timer);
    process.exitCode = exitCodeBefore;
    for (const k of WALLET_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
