import { z } from 'zod'
import { DEFAULT_FEE_RESERVE_BPS, MAX_FEE_RESERVE_BPS } from './core/rebalance/computeRebalance.js'
import { DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS } from './core/rebalance/cronIntervalProblem.js'
import { DEFAULT_MAX_LATENESS_MS, LEAST_MAX_LATENESS_MS, LEAST_SCHEDULE_INTERVAL_RULE, LEAST_SCHEDULE_INTERVAL_SECONDS } from './core/rebalance/runWaits.js'
import { isHttpUrl } from './core/isHttpUrl.js'
import { DEFAULT_API_RATE_LIMIT_PER_MINUTE, DEFAULT_TOKEN_FAILURES_PER_MINUTE } from './api/defaultRateLimit.js'
import { parseTrustProxy } from './api/trustProxy.js'
import { ConfigError } from './core/errors/ConfigError.js'
import { MAX_SESSION_LIFETIME_RULE, MAX_SESSION_LIFETIME_SECONDS, MIN_SESSION_LIFETIME_RULE, MIN_SESSION_LIFETIME_SECONDS, shortestLifetimeSeconds } from './core/sessions/lifetimeBounds.js'

/**
 * Every setting Deputy reads from the environment, validated in one place.
 * The README's configuration table documents each one with its default.
 */
/**
 * Node runs a timer of 2^31 ms or more after 1 ms (TimeoutOverflowWarning), and Postgres refuses
 * such a statement_timeout: a duration in ms stays below it, with room for the 10 s the shutdown
 * deadline adds.
 */
const MAX_MS = 2_147_483_647 - 10_000
/**
 * A whole number written in decimal digits, then checked by `rules`. `Number()` alone reads a
 * blank value as 0 (a fee reserve of ' ' turned it off without a word) and takes hex and exponents.
 */
const wholeNumber = (rules: (n: z.ZodNumber) => z.ZodNumber) =>
  z.string().trim().regex(/^\d+$/, 'must be a whole number in decimal digits').transform(Number).pipe(rules(z.number()))
const ms = (min: number, fallback: number, minRule?: string) =>
  wholeNumber((n) => n.min(min, minRule).max(MAX_MS, `must be at most ${MAX_MS} ms (about 24.8 days): Node fires longer timers at once`)).default(fallback)
/** An http(s) URL with a host: `z.string().url()` alone reads `localhost:8787` as scheme `localhost:`. */
const httpUrl = () => z.string().url().refine(isHttpUrl, 'must be an http(s) URL with a host, like http://127.0.0.1:8787')

/** node-postgres reads any other string as something: `db.internal:5432/deputy` as database "432/deputy" on localhost. */
const isPostgresUrl = (value: string) => /^postgres(ql)?:\/\//.test(value) && URL.canParse(value)

/** ioredis reads any other string as something: `http://cache:6379` as host "http", `cache` as host "cache" on port 6379. */
const isRedisUrl = (value: string) => /^rediss?:\/\//.test(value) && URL.canParse(value)

/** Spaces alone are no value: `PGLITE_DIR='  '` made a directory named by two spaces. */
const notBlank = () => z.string().refine((value) => value.trim() !== '', 'must not be blank')

const schema = z.object({
  DATABASE_URL: z.string().refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL, like postgres://deputy@db.internal:5432/deputy (a Unix socket: ?host=/var/run/postgresql)').optional(),
  PGLITE_DIR: notBlank().default('./.data/pglite'),
  REDIS_URL: z.string().refine(isRedisUrl, 'must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379 (a password: redis://:secret@host:6379; a database: redis://host:6379/2)').default('redis://127.0.0.1:6379'),
  REDIS_COMMAND_TIMEOUT_MS: ms(100, 10_000),
  // A worker's wait for jobs (BZPOPMIN) is answered within 10 s (BullMQ's longest block), and it is on a socket with this timeout.
  REDIS_SOCKET_TIMEOUT_MS: ms(15_000, 20_000, "must be at least 15000 ms: a worker's wait for jobs takes up to 10 s to be answered"),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('deputy'),
  // No credentials in it: the operator authenticates each request by its signature, and fetch refuses
  // such a URL with an error quoting it whole, password and all, which the event streams would log.
  OPERATOR_URL: httpUrl().refine((value) => { const url = new URL(value); return url.username === '' && url.password === '' },
    'must not carry a user or password (the operator authenticates every request by its signature)').default('http://127.0.0.1:8787'),
  OPERATOR_TIMEOUT_MS: ms(100, 10_000),
  EVENT_STREAM_IDLE_TIMEOUT_MS: ms(1000, 60_000),
  DATABASE_QUERY_TIMEOUT_MS: ms(100, 30_000),
  DEPUTY_MASTER_KEY: notBlank().optional(),
  WORKER_CONCURRENCY: wholeNumber((n) => n.min(1).max(1000)).default(64),
  RECONCILE_INTERVAL_MS: ms(1000, 30_000),
  ORPHAN_POLICY: z.enum(['adopt', 'cancel']).default('adopt'),
  RELAY_INTERVAL_MS: ms(10, 100),
  SWEEP_INTERVAL_MS: ms(100, 5_000),
  RETENTION_DAYS: wholeNumber((n) => n.max(36_500)).default(30),
  SCHEDULE_MIN_INTERVAL_SECONDS: wholeNumber((n) => n.min(LEAST_SCHEDULE_INTERVAL_SECONDS, LEAST_SCHEDULE_INTERVAL_RULE).max(86_400)).default(DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS),
  SCHEDULE_MAX_LATENESS_MS: wholeNumber((n) => n.max(MAX_MS, `must be at most ${MAX_MS} ms (about 24.8 days)`)
    .refine((v) => v === 0 || v >= LEAST_MAX_LATENESS_MS, `must be 0 (no limit) or at least ${LEAST_MAX_LATENESS_MS} ms: a run delayed only by its retries and a busy queue would be skipped`)).default(DEFAULT_MAX_LATENESS_MS),
  REBALANCE_FEE_RESERVE_BPS: wholeNumber((n) => n.max(MAX_FEE_RESERVE_BPS)).default(DEFAULT_FEE_RESERVE_BPS),
  SHUTDOWN_TIMEOUT_MS: ms(100, 20_000),
  SESSION_LIFETIME_SECONDS: wholeNumber((n) => n
    .min(MIN_SESSION_LIFETIME_SECONDS, MIN_SESSION_LIFETIME_RULE).max(MAX_SESSION_LIFETIME_SECONDS, MAX_SESSION_LIFETIME_RULE)).default(7 * 24 * 3600),
  SESSION_LIVE_PROBE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  SESSION_ROTATE_LEAD_SECONDS: wholeNumber((n) => n.min(10)).default(6 * 3600),
  ALERT_WEBHOOK_URL: httpUrl().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WALLET_SIGNER: z.enum(['local', 'privy']).default('local'),
  // Privy (WALLET_SIGNER=privy); parsed and checked by src/signers/createWalletSigner.ts readWalletSignerEnv.
  PRIVY_APP_ID: z.string().optional(),
  PRIVY_APP_SECRET: z.string().optional(),
  PRIVY_AUTHORIZATION_KEYS: z.string().optional(),
  PRIVY_API_URL: httpUrl().default('https://api.privy.io'),
  API_HOST: notBlank().default('127.0.0.1'),
  API_PORT: wholeNumber((n) => n.max(65535)).default(8080),
  /** Requests a tenant may make a minute on /v1, per API process (halts and cancels not counted); 0: no limit. */
  API_RATE_LIMIT_PER_MINUTE: wholeNumber((n) => n.max(1_000_000)).default(DEFAULT_API_RATE_LIMIT_PER_MINUTE),
  /** Failed admin or metrics token checks a client may make a minute, per API process, before those routes refuse it for the rest of it; 0: no limit. */
  TOKEN_FAILURES_PER_MINUTE: wholeNumber((n) => n.max(1_000_000)).default(DEFAULT_TOKEN_FAILURES_PER_MINUTE),
  /** The proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client; unset → the peer is the client. */
  TRUST_PROXY: z.string().transform((value, ctx) => {
    const parsed = parseTrustProxy(value)
    if ('rule' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.rule })
      return z.NEVER
    }
    return parsed.trustProxy
  }).optional(),
  /**
   * Where the worker answers `/healthz` and `/readyz` (`src/runtime/health/`); unset → no health server.
   * No 0 (any free port): a supervisor probes a port it was told.
   */
  WORKER_HEALTH_PORT: wholeNumber((n) => n.min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535')).optional(),
  WORKER_HEALTH_HOST: notBlank().default('127.0.0.1'),
  /** Bearer token for the admin endpoints (tenants, API keys) and Bull Board; unset → admin is closed. */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Bearer token Prometheus sends to scrape /metrics; unset → /metrics is open (bind the API to a private network). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Development only: comma-separated wallet private keys the API and worker may sign Delegations with. */
  DEV_WALLET_KEYS: z.string().regex(/^\s*0x[0-9a-fA-F]{64}(\s*,\s*0x[0-9a-fA-F]{64})*\s*$/, 'must be comma-separated 0x-prefixed 32-byte hex keys').optional(),
})

export type Config = z.infer<typeof schema>

/** Every variable `loadConfig` reads. */
export const configVariables = Object.keys(schema.shape) as (keyof Config)[]

export { ConfigError }

/** Parses the environment; a bad value fails start-up with the variable and the rule. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')))
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'))
  }
  const { SESSION_LIFETIME_SECONDS: lifetime, SESSION_ROTATE_LEAD_SECONDS: lead } = parsed.data
  // A session is rotated once it has less than the lead left: with a lifetime not well past the lead,
  // every new session is due at once, and each maintenance run would ask the wallet for another.
  if (lifetime < shortestLifetimeSeconds(lead)) {
    throw new ConfigError(`SESSION_LIFETIME_SECONDS: must be at least twice SESSION_ROTATE_LEAD_SECONDS (${lead}), got ${lifetime}: a session is rotated once less than the lead is left`)
  }
  return parsed.data
}
