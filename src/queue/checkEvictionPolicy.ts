import { type Redis, ReplyError } from 'ioredis'
import type { Logger } from 'pino'
import { REQUIRED_EVICTION_POLICY, evictionPolicyError, policyFromConfigReply, policyFromInfo } from './evictionPolicy.js'

/**
 * Start-up check that the Redis the queues are on never evicts keys (`maxmemory-policy noeviction`,
 * which BullMQ requires; BullMQ itself only prints a warning to stderr). Read with `CONFIG GET`, or,
 * where Redis refuses CONFIG (managed Redis often disables it), from `INFO memory`. Another policy:
 * a ConfigError (`evictionPolicyError`; exit 2). Both reads refused, or neither naming a policy: a
 * warning, and the start goes on. Any other failure (a command timed out, the connection dropped)
 * is thrown, for the caller to try again.
 */
export async function checkEvictionPolicy(redis: Pick<Redis, 'config' | 'info'>, log: Logger): Promise<void> {
  const config = await unlessRefused(redis.config('GET', 'maxmemory-policy'))
  let policy = config.refused ? undefined : policyFromConfigReply(config.reply)
  const info = policy === undefined ? await unlessRefused(redis.info('memory')) : undefined
  if (info && !info.refused) policy = policyFromInfo(info.reply)
  if (policy === undefined) {
    const refusals = [config, info].flatMap((read) => (read?.refused ? [read.refused.message] : []))
    log.warn({ refusals }, `could not read Redis's maxmemory-policy (CONFIG GET and INFO refused or silent, as managed Redis may be): make sure it is ${REQUIRED_EVICTION_POLICY}; any other lets Redis delete queued jobs when it runs short of memory`)
    return
  }
  const error = evictionPolicyError(policy)
  if (error) throw error
}

/** The reply, or the error Redis answered with (an unknown or forbidden command); any other failure is thrown. */
async function unlessRefused<T>(command: Promise<T>): Promise<{ reply: T; refused?: undefined } | { refused: Error }> {
  try {
    return { reply: await command }
  } catch (error) {
    // ioredis's typing of ReplyError narrows to unknown: it is an Error.
    if (error instanceof ReplyError) return { refused: error as Error }
    throw error
  }
}
