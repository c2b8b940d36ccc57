import { sql } from 'drizzle-orm'
import type { RedisProbe } from '../../queue/redisConnections.js'
import type { Db } from '../../store/Database.js'
import { DEPENDENCY_DEADLINE_MS, DeadlineError, withinDeadline } from '../withinDeadline.js'

/** One dependency's answer to a readiness check. */
export type CheckResult = { ok: boolean; detail: string }
/** Told of a failed check's error (for the process's log). */
export type CheckFailed = (dependency: string, error: unknown) => void
/** Where readiness checks report each dependency's answer: its error when it fails, its name when it answers (`createCheckLog`). */
export type CheckLog = { failed: CheckFailed; passed(dependency: string): void }

/**
 * Runs one readiness check within `DEPENDENCY_DEADLINE_MS`. Readiness endpoints are unauthenticated:
 * a failure's detail says only whether the dependency did not answer in time or answered with an
 * error; the error itself (hosts, ports, user names) goes to `log.failed`, for the log of
 * `processName`; an answer, to `log.passed` (so that a log of state changes sees it recover).
 */
export async function checkDependency(dependency: string, check: () => Promise<unknown>, log: CheckLog, processName: string): Promise<CheckResult> {
  try {
    await withinDeadline(check())
    log.passed(dependency)
    return { ok: true, detail: 'ok' }
  } catch (error) {
    log.failed(dependency, error)
    return { ok: false, detail: error instanceof DeadlineError ? `no answer within ${DEPENDENCY_DEADLINE_MS} ms` : `failed (the ${processName} log has the error)` }
  }
}

/** Postgres answers a statement. */
export const pingPostgres = (db: Db) => () => db.execute(sql`select 1`)

/**
 * One `redis` check over every connection of `probes`, asked at once, each within the deadline: ok
 * only when all answer; otherwise the detail names each that did not (`control queue: no answer
 * within 2000 ms`), and each is told to `log` as `redis (<name>)`.
 */
export async function checkRedis(probes: RedisProbe[], log: CheckLog, processName: string): Promise<CheckResult> {
  const results = await Promise.all(probes.map(async ({ name, probe }) => {
    const result = await checkDependency(`redis (${name})`, probe, log, processName)
    return { name, result }
  }))
  const failing = results.filter(({ result }) => !result.ok)
  return failing.length ? { ok: false, detail: failing.map(({ name, result }) => `${name}: ${result.detail}`).join('; ') } : { ok: true, detail: 'ok' }
}
