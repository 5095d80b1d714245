/**
 * The CLI's entry for `bin/run.js`: oclif's `execute`, from the same bundled copy of
 * @oclif/core that the bundled commands extend (see scripts/bundle.mjs).
 */
export { execute } from '@oclif/core'
