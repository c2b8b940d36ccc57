import type { Logger } from 'pino'
import type { RedisProbe } from '../../queue/redisConnections.js'
import type { Db } from '../../store/Database.js'
import { type OperatorDomainWatch, domainChangedDetail } from '../operatorDomain.js'
import { type CheckResult, checkDependency, checkRedis, pingPostgres } from './checkDependency.js'
import { createCheckLog } from './checkLog.js'
import { freshShared } from '../freshShared.js'

/** A health endpoint's answer: its status code and JSON body. */
export type HealthAnswer = { statusCode: 200 | 503; body: Record<string, unknown> }

/** What answers `/healthz` and `/readyz`. */
export type HealthSource = { live(): HealthAnswer; ready(): Promise<HealthAnswer> }

type Phase = 'starting' | 'ready' | 'stopping'

/** What the worker hands over once started: its own Postgres, a probe of each of its Redis connections, and what it knows of the operator's domain. */
type Running = { db: Db; redis: RedisProbe[]; operatorDomain?: Pick<OperatorDomainWatch, 'changed'> }

/**
 * The worker process's health, in three phases: `starting` (migrations, the wait for the operator,
 * the start-up reconciliation, the schedulers' sync), `ready` (`started`), `stopping` (shutdown
 * began, `stopping`; never left). Live unless stopping: answering at all shows the event loop
 * turns. Ready only once started, and then only while Postgres and every Redis connection the
 * worker works on (its queues', its workers', their blocking ones: `redis`) each answer within
 * `DEPENDENCY_DEADLINE_MS` (`checkDependency`), and, given `operatorDomain`, the
 * operator still verifies over the EIP-712 domain the worker signs with (no request: what the
 * worker last saw; it signs nothing while the domain differs). A check that starts failing is
 * logged once, with its error ('readiness check failed'), and once when it passes again
 * (`createCheckLog`): not on every probe of a supervisor polling every few seconds. It is named in
 * the answer without its error.
 */
export function createWorkerHealth(log: Logger) {
  let phase: Phase = 'starting'
  let running: Running | undefined
  const checkLog = createCheckLog(log)
  const stopping: HealthAnswer = { statusCode: 503, body: { status: 'stopping' } }
  // Probes arriving while a check is under way share the next one (`freshShared`): a flood of them
  // costs two checks at a time, not a Postgres ping and a ping of every Redis connection each.
  const readiness = freshShared(async (): Promise<HealthAnswer> => {
    if (!running) return { statusCode: 503, body: { status: phase } }
    const [postgres, redis] = await Promise.all([
      checkDependency('postgres', pingPostgres(running.db), checkLog, 'worker'),
      checkRedis(running.redis, checkLog, 'worker'),
    ])
    // Shutdown may have begun while the checks ran (the queue closing under its own).
    if (phase === 'stopping') return stopping
    const checks: Record<string, CheckResult> = { postgres, redis }
    if (running.operatorDomain) {
      const change = running.operatorDomain.changed()
      checks.operatorDomain = change ? { ok: false, detail: domainChangedDetail(change) } : { ok: true, detail: 'ok' }
    }
    const ready = Object.values(checks).every((check) => check.ok)
    return { statusCode: ready ? 200 : 503, body: { status: ready ? 'ready' : 'unavailable', checks } }
  })
  return {
    /** Start-up finished: `db` and `redis` (a probe of each Redis connection) are the worker's own. Ignored once stopping. */
    started(worker: Running): void {
      if (phase !== 'starting') return
      phase = 'ready'
      running = worker
    },
    /** Shutdown began: neither live nor ready from now on. */
    stopping(): void {
      phase = 'stopping'
      running = undefined
    },
    live(): HealthAnswer {
      return phase === 'stopping' ? stopping : { statusCode: 200, body: { status: 'ok' } }
    },
    ready: () => readiness(),
  }
}
export type WorkerHealth = ReturnType<typeof createWorkerHealth>
