import { Redis, type RedisOptions } from 'ioredis'

/**
 * A Redis connection for BullMQ. Workers block on Redis, so BullMQ requires
 * `maxRetriesPerRequest: null` on the connections it uses for workers.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options })
}
