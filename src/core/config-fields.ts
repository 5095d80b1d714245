/**
 * Building blocks of the config.json schema shared by `config.ts` and the chain families'
 * config modules (`families/evm/config.ts`, `families/bitcoin/config.ts`): field schemas, the
 * shape of a family's part of the config, and the wording of a schema refusal. A leaf: it
 * imports neither `config.ts` nor a family, so a family's schema never imports config back.
 */
import { z } from 'zod'
import { UsageError } from './errors.js'
import type { Asset } from './asset.js'

/** A chain family, as `networks.<name>.kind` names it. */
export type Family = 'evm' | 'bitcoin'

/**
 * The CAIP-2 namespace of each family's networks (DESIGN §3: `eip155:<chain id>`,
 * `bip122:<genesis prefix>`): the one table from a network id to its family, for code
 * that has a network id and must not load the families (the store, the 402 decoder).
 */
export const FAMILY_NAMESPACES: Readonly<Record<Family, string>> = { evm: 'eip155', bitcoin: 'bip122' }
const FAMILY_BY_NAMESPACE = new Map(Object.entries(FAMILY_NAMESPACES).map(([f, ns]) => [ns, f as Family]))

/**
 * The family of a CAIP-2 network id, by its namespace alone (the family's own schema,
 * `FamilyConfig.caip2`, checks the rest; `familyOf` in config.ts does both).
 * @returns undefined for a namespace of no family this build knows
 * @example familyOfNetwork('bip122:530827f38f93b43ed12af0b3ad25a288') // 'bitcoin'
 * @example familyOfNetwork('solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp') // undefined
 */
export function familyOfNetwork(caip2: string): Family | undefined {
  const colon = caip2.indexOf(':')
  return colon < 0 ? undefined : FAMILY_BY_NAMESPACE.get(caip2.slice(0, colon))
}

/**
 * An http(s) or ws(s) URL, as a network's `rpcUrl`.
 * @throws {UsageError} not a URL, or another scheme
 * @example checkedRpcUrl('ftp://127.0.0.1') // throws 'Invalid URL "ftp://127.0.0.1": use http(s) or ws(s).'
 */
export function checkedRpcUrl(v: string): string {
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new UsageError(`Invalid URL "${v}".`)
  }
  if (!/^(https?|wss?):$/.test(u.protocol)) throw new UsageError(`Invalid URL "${v}": use http(s) or ws(s).`)
  return v
}

/** A string field checked by a `checked…` function of ours: its refusal becomes the issue's message. */
export const checkedString = (check: (v: string) => unknown) =>
  z.string().superRefine((v, ctx) => {
    try {
      check(v)
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message })
    }
  })

/** A node's JSON-RPC URL (`checkedRpcUrl`). */
export const rpcUrlField = checkedString(checkedRpcUrl)

/** An amount in base units as stored: a decimal string without sign, exponent or leading zeros (at most 78 digits, 2^256 has 78). */
export const baseUnitsField = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a whole number of base units in decimal digits, e.g. "10000"')

/** A duration in whole seconds, at least `min`. */
export const secondsField = (min: number) => z.number().int('must be a whole number of seconds').min(min, `must be at least ${min} seconds`)

/**
 * One setting of the `buy` policy that a family owns: its stored schema, how `config set`
 * reads it from the command line, and what `config list --wide` says it means.
 */
export interface BuySetting<S extends z.ZodTypeAny = z.ZodTypeAny> {
  schema: S
  /** How `config set buy.<field>` parses its value: an amount in the family's units, seconds, a count or a boolean. */
  input: 'amount' | 'seconds' | 'count' | 'boolean'
  describe: string
  /** `config set buy.<field> auto` removes the field (the default computed by `buy` applies). */
  auto?: true
}

/** The zod shape of some {@link BuySetting}s, keyed as they are. */
export type BuyShape<T extends Record<string, BuySetting>> = { [K in keyof T]: T[K]['schema'] }

/** The stored schemas of some buy settings, as a zod object shape. */
export function buyShape<T extends Record<string, BuySetting>>(settings: T): BuyShape<T> {
  return Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.schema])) as BuyShape<T>
}

/**
 * What a chain family contributes to config.json: the schema of its `networks` entries
 * (an object whose `kind` is the family's literal), its CAIP-2 namespace and its fields
 * of the `buy` policy. `config.ts` builds the networks union and the buy policy from these.
 */
export interface FamilyConfig<N extends z.AnyZodObject = z.AnyZodObject, B extends Record<string, BuySetting> = Record<string, BuySetting>> {
  kind: Family
  /** The family's CAIP-2 ids, e.g. /^eip155:[1-9]\d{0,19}$/. */
  caip2: RegExp
  /** How a refusal describes the family's CAIP-2 ids, e.g. `eip155:<chain id>`. */
  caip2Hint: string
  /** Schema of a `networks.<name>` entry of this family (unknown fields pass, as conf's JSON schema let them). */
  network: N
  /** The family's settings of the `buy` policy, by field of `buy`. */
  buy: B
  /**
   * What the family's amount settings count (`buy.maxPrice` in wei, `buy.bitcoinDeposit` in
   * satoshis): `config set` reads them in its units, `config list` prints them in it. The
   * settings hold for every network of the family, so this is its coin on its main chain
   * (ETH on `eip155:1`, BTC on Bitcoin); only the units and the symbol matter.
   */
  settingsAsset: Asset
  /**
   * Fields a network of this family needs beyond `kind`, `caip2` and `rpcUrl`, from
   * `config set networks.<name> … --params <given>` (Bitcoin's address parameters: a preset
   * or JSON, else those of a known chain). A family without it takes no --params.
   */
  params?: {
    /** Who takes --params, for a refusal: "Bitcoin-family (bip122)". */
    label: string
    /** The network field the parameters are stored in (`bitcoin`). */
    field: string
    /** From `--params` (a preset or JSON), else known ones. @throws {UsageError} bad or missing parameters */
    fromFlag(caip2: string, given: string | undefined): unknown
    /** From an imported file's field (an object), else known ones. @throws {UsageError} worded after the field: "missing: …", "bech32 must be …" */
    fromFile(caip2: string, given: unknown): unknown
  }
}

const a = (s: string) => (/^[aeiou]/.test(s) ? `an ${s}` : `a ${s}`)

/**
 * One schema refusal in words: the dotted path of the field, then what is wrong, e.g.
 * `networks.sepolia.rpcUrl: Invalid URL "x".` or `buy.settleDelay: must be a number, not string`.
 * @param prefix - path of the validated value inside config.json (`networks.x`), or ''
 */
export function issueText(issue: z.ZodIssue, prefix = ''): string {
  const path = [...(prefix ? [prefix] : []), ...issue.path].join('.')
  const at = (p: string) => (p ? `${p}: ` : '')
  switch (issue.code) {
    case z.ZodIssueCode.unrecognized_keys:
      return `${at([path, issue.keys[0]].filter(Boolean).join('.'))}unknown field`
    case z.ZodIssueCode.invalid_type:
      // zod's own words ("Required", "Expected string, received number") → ours; a schema's own message stays
      if (issue.message !== 'Required' && !issue.message.startsWith('Expected ')) return `${at(path)}${issue.message}`
      return issue.received === 'undefined' ? `${at(path)}missing (${a(issue.expected)} is required)` : `${at(path)}must be ${a(issue.expected)}, not ${issue.received}`
    case z.ZodIssueCode.invalid_union_discriminator:
      return `${at(path)}must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`
    case z.ZodIssueCode.invalid_enum_value:
      return `${at(path)}must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, not ${JSON.stringify(issue.received)}`
    default:
      return `${at(path)}${issue.message}`
  }
}

/**
 * The payee's redemption service (`channels serve`'s watcher, families/evm/redeemer.ts;
 * DESIGN §12, issue 11 §4): when it redeems the vouchers it holds. Read at every round, so a
 * `config set redeem.…` takes effect without restarting `serve`.
 */
export const RedeemPolicySchema = z.object({
  /** Seconds between rounds (`serve --watch-interval` overrides it). */
  interval: secondsField(1).default(30),
  /**
   * Least profit of a redemption, in base units of the network's coin (wei): a channel is
   * redeemed when its unredeemed value − estimated gas × fee per gas ≥ this, or when a deadline is near.
   */
  minProfit: baseUnitsField.default('0'),
  /** Seconds before a settling channel's settleAt from which it is redeemed whatever it is worth. */
  margin: secondsField(0).default(3600),
  /**
   * Seconds before a held hash-locked voucher's timeLockMax from which it is redeemed (with its secret) whatever it
   * is worth, by an `updateMany` that leaves the channel open (issue 12). Short: a payment through a hub is simplified
   * within moments, and its locks are minutes long; a margin longer than a lock would redeem every forwarded payment.
   */
  lockMargin: secondsField(0).default(60),
  /** Most channels redeemed in one `closeMany` transaction. */
  batchSize: z.number().int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(20),
})
/** The redemption policy, as stored (amounts are base-unit decimal strings). */
export type RedeemPolicy = z.infer<typeof RedeemPolicySchema>

/**
 * The redemption policy in force: the stored `redeem` section (absent until set) with its defaults filled in.
 * @example redeemPolicy(undefined) // { interval: 30, minProfit: '0', margin: 3600, lockMargin: 60, batchSize: 20 }
 */
export function redeemPolicy(stored: Partial<RedeemPolicy> | undefined): RedeemPolicy {
  return RedeemPolicySchema.parse(stored ?? {})
}
