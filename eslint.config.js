// ESLint (flat config): @eslint/js and typescript-eslint "recommended" for src/ and test/.
// Not the typed "recommended-type-checked" set: it needs a full TypeScript program and
// took ≈ 90 s on the 2-core machine (37 s of CPU), over the one-minute budget of
// `npm run lint`. Formatting is not linted (no Prettier, no stylistic rules).
// Layering and import cycles are dependency-cruiser's job (.dependency-cruiser.cjs).
import { defineConfig } from 'eslint/config'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'artifacts/', 'src/families/evm/artifact.ts', 'src/devnet/test-usd-artifact.ts'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      // A leading underscore marks a binding kept on purpose: a destructured field left
      // out of a rest object (`{ stored: _s, ...fields }`), an interface's unused parameter.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // `cond ? resolve() : reject(err)` as a statement is an idiom here (store/group-commit.ts).
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read the CLI's `--json` output and raw SQLite rows: untyped by nature, and
      // typing each field a test looks at would add nothing the assertion does not check.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Commands parse, make one call on the wallet's scheme (core/scheme) and render: they
    // never name a chain family nor import one (DESIGN §2; issue 10's "no family names in
    // src/commands"). A capability only some families have is an optional scheme method.
    files: ['src/commands/**/*.ts'],
    // devnet starts one node of each family (anvil, litecoind): its --bitcoin flag is the CLI surface.
    ignores: ['src/commands/devnet.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/families/**'], message: 'Commands reach a chain family only through this.scheme() (core/scheme).' }] }],
      'no-restricted-syntax': ['error',
        { selector: 'Literal[value=/^(bitcoin|evm)$/i]', message: 'No family names in commands: ask the scheme (this.scheme()) instead of branching on the family.' },
        { selector: 'Identifier[name=/[iI]sBitcoin|[iI]sEvm|^bitcoin$/]', message: 'No family names in commands: ask the scheme (this.scheme()) instead of branching on the family.' },
      ],
    },
  },
)
