import { ConfigError } from '../core/errors/ConfigError.js'

/** The only `maxmemory-policy` BullMQ can work on: under any other, Redis deletes keys to make room. */
export const REQUIRED_EVICTION_POLICY = 'noeviction'

/**
 * The policy named by a reply to `CONFIG GET maxmemory-policy` (`['maxmemory-policy', 'noeviction']`);
 * undefined for a reply that names none (a Redis-like server without the setting answers `[]`).
 */
export function policyFromConfigReply(reply: unknown): string | undefined {
  if (!Array.isArray(reply)) return undefined
  const value: unknown = reply[reply.indexOf('maxmemory-policy') + 1]
  return reply.includes('maxmemory-policy') && typeof value === 'string' && value !== '' ? value : undefined
}

/** The policy in `INFO memory`'s `maxmemory_policy:` line; undefined without one. */
export function policyFromInfo(info: string): string | undefined {
  const prefix = 'maxmemory_policy:'
  const value = info.split(/\r?\n/).find((line) => line.startsWith(prefix))?.slice(prefix.length).trim()
  return value || undefined
}

/**
 * A ConfigError for any policy but noeviction, naming REDIS_URL (the variable that chose this Redis),
 * the setting and the rule: with another policy, Redis under memory pressure deletes BullMQ's keys,
 * a queued job's list entry among them, and the order it stood for is never sent.
 */
export function evictionPolicyError(policy: string): ConfigError | undefined {
  if (policy === REQUIRED_EVICTION_POLICY) return undefined
  const shown = /^[\w-]{1,40}$/.test(policy) ? policy : 'not one Redis knows'
  return new ConfigError(`REDIS_URL: Redis's maxmemory-policy is ${shown}; it must be ${REQUIRED_EVICTION_POLICY}: `
    + 'any other lets Redis delete queued jobs when it runs short of memory, and the orders they stand for are never sent; '
    + `set maxmemory-policy ${REQUIRED_EVICTION_POLICY} (redis.conf, CONFIG SET, or the managed service's parameter group) and give Redis the memory the queues need`)
}
