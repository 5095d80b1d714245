/**
 * vitest globalSetup: one temporary directory per `vitest run`, shared by its workers, where
 * test/helpers/cli.ts keeps the wallet templates that makeWallet copies (made once per run by
 * the real `channels keys import`). Removed when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's wallet-template directory (test/helpers/cli.ts makeWallet). */
    walletTemplates: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'channels-run-'));
  project.provide('walletTemplates', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
