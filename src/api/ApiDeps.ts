import type { Queue } from 'bullmq'
import type { Registry } from 'prom-client'
import type { Keyring } from '../keys/Keyring.js'
import type { RedisProbe } from '../queue/redisConnections.js'
import type { WorkerDeps } from '../runtime/deps.js'
import type { GrantSessionInput } from '../runtime/sessions/grantSession.js'
import type { MarketRules } from '../runtime/intake/marketRules.js'
import type { WalletSignerRegistry } from '../runtime/walletSignerRegistry.js'

/**
 * What the API needs. The demo builds it from a running worker
 * (`apiDepsFromWorker`); `deputy api` builds it from the environment
 * (`openApiDeps`). `runtime` carries the database, the operator client and
 * domain, the session-key cache and the clock.
 */
export type ApiDeps = {
  runtime: WorkerDeps
  markets: MarketRules
  keyring: Keyring
  /** The worker's queues (same Redis, same prefix): schedules, Bull Board, metrics, readiness. */
  submitQueue: Queue
  controlQueue: Queue
  /** A probe of each Redis connection the API works on (its two queues'), for its /readyz. */
  redisProbes: RedisProbe[]
  walletSigners: WalletSignerRegistry
  /** Unset: admin endpoints and Bull Board answer 401. */
  adminToken?: string
  /** Set: GET /metrics needs it as a Bearer token (METRICS_TOKEN); unset: /metrics is open. */
  metricsToken?: string
  /** Relays new outbox rows now (in-process worker); otherwise the worker's relay timer picks them up. */
  relay?: () => Promise<unknown>
  /** The operator guide's live probe, run on every granted or rotated session before it goes live. */
  probe?: GrantSessionInput['probe']
  /** Lifetime of granted sessions when the request names none. Default 7 days. */
  sessionLifetimeSeconds?: number
  /** The worker's rotation lead (`SESSION_ROTATE_LEAD_SECONDS`): a granted lifetime must be at least twice it. Default 6 h. */
  sessionRotateLeadSeconds?: number
  /** The least time between two runs of a schedule (`SCHEDULE_MIN_INTERVAL_SECONDS`). Default 60. */
  scheduleMinIntervalSeconds?: number
  /** prom-client registry for `/metrics`; a fresh one by default (so several APIs in one process do not clash). */
  metricsRegistry?: Registry
  /** Requests a tenant may make a minute on `/v1` (`API_RATE_LIMIT_PER_MINUTE`; halts and cancels not counted); 0: no limit. Default 6,000. */
  rateLimitPerMinute?: number
  /** Failed admin or metrics token checks a client may make a minute (`TOKEN_FAILURES_PER_MINUTE`) before those routes refuse it for the rest of it; 0: no limit. Default 20. */
  tokenFailuresPerMinute?: number
  /** Fastify's `trustProxy` (`TRUST_PROXY`): the proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client. Unset: the peer is the client. */
  trustProxy?: string[]
  /** How long an `Idempotency-Key` is remembered. Default 24 h. */
  idempotencyTtlMs?: number
}

type WorkerLike = { deps: WorkerDeps; markets: MarketRules; submitQueue: Queue; controlQueue: Queue; redisProbes: RedisProbe[]; relay: () => Promise<unknown> }

/** The connections the API works on, named as the worker and `openApiDeps` name them: its queues'. */
const apiConnections = ['submit queue', 'control queue']

/**
 * API deps sharing a worker started in this process (the demo, tests). Its readiness asks the
 * connections of the worker's queues, which it uses; not the worker's own, which it does not.
 */
export function apiDepsFromWorker(worker: WorkerLike, extra: Omit<ApiDeps, 'runtime' | 'markets' | 'submitQueue' | 'controlQueue' | 'redisProbes' | 'relay'>): ApiDeps {
  const redisProbes = worker.redisProbes.filter(({ name }) => apiConnections.includes(name))
  return { runtime: worker.deps, markets: worker.markets, submitQueue: worker.submitQueue, controlQueue: worker.controlQueue, redisProbes, relay: worker.relay, ...extra }
}
