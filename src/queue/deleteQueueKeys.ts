import { createRedis } from './connection.js'

/**
 * Deletes every key under one BullMQ prefix (`<prefix>:*`: queues, jobs, schedulers,
 * events) and nothing else — never a FLUSHDB, so other users of the same Redis are
 * untouched. For throwaway prefixes (tests, the demo, benchmarks) once their
 * workers are closed. Answers how many keys went.
 */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix) throw new Error('deleteQueueKeys: prefix must not be empty (it would match every key)')
  const redis = createRedis(redisUrl, { maxRetriesPerRequest: 3 })
  // The prefix is matched literally: glob characters in it are escaped.
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      if (keys.length) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return deleted
}
