#!/usr/bin/env node
// Compiles contracts/**/*.sol with solc-js and writes
//   artifacts/contracts.json            every contract: {abi, bytecode, deployedBytecode, immutableReferences}
//   src/families/evm/artifact.ts         PaymentChannels only, as TypeScript constants
//   src/devnet/test-usd-artifact.ts      TestUSD's creation code (the devnet deploys it; kept out of
//                                        artifact.ts, which every EVM command loads at start)
// Skips the work when the sha256 of the inputs (sources, solc version, OpenZeppelin
// version, settings) equals the one stored in artifacts/contracts.sha256.
// Usage: node scripts/compile-contract.mjs [--force]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const contractsDir = join(root, 'contracts');
const artifactsDir = join(root, 'artifacts');
const jsonOut = join(artifactsDir, 'contracts.json');
const hashOut = join(artifactsDir, 'contracts.sha256');
const tsOut = join(root, 'src', 'families', 'evm', 'artifact.ts');
const testUsdOut = join(root, 'src', 'devnet', 'test-usd-artifact.ts');
const MAIN = 'PaymentChannels';
/** The devnet's USD test token (issue 13 §1), deployed by `channels devnet`. */
const TEST_USD = 'TestUSD';

const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: {
    '*': {
      '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'],
    },
  },
};

/** All .sol files under contracts/, as solc source unit names ("contracts/x.sol"). */
function listSources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.sol')) out.push(relative(root, path).split(sep).join('/'));
  }
  return out.sort();
}

const sourceNames = listSources(contractsDir);
const sources = Object.fromEntries(sourceNames.map((name) => [name, { content: readFileSync(join(root, name), 'utf8') }]));
const ozVersion = JSON.parse(readFileSync(require.resolve('@openzeppelin/contracts/package.json'), 'utf8')).version;

const hash = createHash('sha256')
  .update(JSON.stringify({ solc: solc.version(), openzeppelin: ozVersion, settings, sources }))
  .digest('hex');

const force = process.argv.includes('--force');
if (!force && existsSync(jsonOut) && existsSync(tsOut) && existsSync(testUsdOut) && existsSync(hashOut) && readFileSync(hashOut, 'utf8').trim() === hash) {
  console.log(`contracts up to date (${hash.slice(0, 12)})`);
  process.exit(0);
}

/** Resolves imports solc cannot find among `sources`: packages from node_modules. */
function findImports(path) {
  try {
    const file = path.startsWith('@') ? require.resolve(path) : join(root, path);
    return { contents: readFileSync(file, 'utf8') };
  } catch (err) {
    return { error: `cannot resolve import ${path}: ${err.message}` };
  }
}

const input = { language: 'Solidity', sources, settings };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));

// solc warns on every tstore; OpenZeppelin's ReentrancyGuardTransient clears its slot at the end of
// each call, the one use the warning itself calls safe, so that warning is not repeated on each build.
const transientGuard = (p) => p.severity === 'warning' && /EIP-1153/.test(p.message) && p.sourceLocation?.file?.startsWith('@openzeppelin/');
const problems = (output.errors ?? []).filter((p) => !transientGuard(p));
const errors = problems.filter((e) => e.severity === 'error');
for (const p of problems) console.error(p.formattedMessage ?? p.message);
if (errors.length > 0) {
  console.error(`compile-contract: ${errors.length} error(s) from solc ${solc.version()}; nothing written`);
  process.exit(1);
}

const artifacts = {};
for (const name of sourceNames) {
  for (const [contract, out] of Object.entries(output.contracts?.[name] ?? {})) {
    if (artifacts[contract]) {
      console.error(`compile-contract: two contracts named ${contract}; names must be unique`);
      process.exit(1);
    }
    artifacts[contract] = {
      abi: out.abi,
      bytecode: `0x${out.evm.bytecode.object}`,
      deployedBytecode: `0x${out.evm.deployedBytecode.object}`,
      immutableReferences: out.evm.deployedBytecode.immutableReferences ?? {},
    };
  }
}
for (const needed of [MAIN, TEST_USD]) {
  if (!artifacts[needed]) {
    console.error(`compile-contract: ${needed} not found in contracts/`);
    process.exit(1);
  }
}

mkdirSync(artifactsDir, { recursive: true });
writeFileSync(jsonOut, `${JSON.stringify(artifacts, null, 2)}\n`);

const main = artifacts[MAIN];
mkdirSync(dirname(tsOut), { recursive: true });
writeFileSync(
  tsOut,
  `// generated by scripts/compile-contract.mjs — do not edit
// ${MAIN} compiled with solc ${solc.version()}, OpenZeppelin ${ozVersion}, optimizer 200 runs, evm cancun.
// Input sha256: ${hash}

/** ABI of ${MAIN}. */
export const abi = ${JSON.stringify(main.abi, null, 2)} as const;

/** Creation code (initcode) of ${MAIN}; it has no constructor arguments. */
export const bytecode = '${main.bytecode}' as const;

/** Runtime code of ${MAIN}, with zeroes where immutables go (see immutableReferences). */
export const deployedBytecode = '${main.deployedBytecode}' as const;

/** Byte ranges of the runtime code filled by the constructor (EIP-712 domain cache). */
export const immutableReferences: Record<string, { start: number; length: number }[]> = ${JSON.stringify(
    main.immutableReferences,
  )};
`,
);
writeFileSync(
  testUsdOut,
  `// generated by scripts/compile-contract.mjs — do not edit
// ${TEST_USD} (contracts/TestUSD.sol), the devnet's 6-decimal USD test token with EIP-3009. Input sha256: ${hash}

/** Creation code of ${TEST_USD}; it has no constructor arguments (CREATE2: one address on every chain). */
export const testUsdBytecode = '${artifacts[TEST_USD].bytecode}' as const;
`,
);
writeFileSync(hashOut, `${hash}\n`);
console.log(`compiled ${Object.keys(artifacts).join(', ')} with solc ${solc.version()} (${hash.slice(0, 12)})`);
