import type { Logger } from 'pino'
import type { CheckLog } from './checkDependency.js'

/**
 * Logs a readiness check's state changes, not its every probe: 'readiness check failed' (with the
 * error) once when a dependency (`postgres`, `redis (control queue)`, …) starts failing, and
 * 'readiness check passes again' once when it answers again. A supervisor probing every few seconds
 * would otherwise log a warning per probe for as long as the dependency is down. One per process's
 * health (its state is which dependencies are failing now).
 */
export function createCheckLog(log: Pick<Logger, 'warn' | 'info'>): CheckLog {
  const failing = new Set<string>()
  return {
    failed(dependency, err) {
      if (failing.has(dependency)) return
      failing.add(dependency)
      log.warn({ err, dependency }, 'readiness check failed')
    },
    passed(dependency) {
      if (failing.delete(dependency)) log.info({ dependency }, 'readiness check passes again')
    },
  }
}
