/**
 * BullMQ needs a Redis that never evicts its keys (`maxmemory-policy noeviction`): under any other
 * policy and memory pressure, Redis deletes a queued job's key or list entry, and the order is never
 * sent. BullMQ itself only prints a warning to stderr. The worker reads the policy at start-up and
 * refuses any other with a configuration error; a Redis that refuses the reads (managed Redis often
 * disables CONFIG) is warned about, not refused. The replies are judged by pure functions, tested
 * first; then the check against the shared Redis (noeviction: left untouched) and private
 * redis-servers of this file's own, started with the policy or the disabled commands to test.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/core/errors/ConfigError.js'
import { checkEvictionPolicy } from '../../src/queue/checkEvictionPolicy.js'
import { evictionPolicyError, policyFromConfigReply, policyFromInfo } from '../../src/queue/evictionPolicy.js'
import { capturedLog } from '../support/capturedLog.js'
import { privateRedis } from '../support/privateRedis.js'
import { REDIS_URL } from '../worker/support/harness.js'

describe('the replies, judged', () => {
  it('reads the policy from a CONFIG GET reply, and none from a reply that names none', () => {
    expect(policyFromConfigReply(['maxmemory-policy', 'noeviction'])).toBe('noeviction')
    expect(policyFromConfigReply(['maxmemory-policy', 'allkeys-lru'])).toBe('allkeys-lru')
    // A Redis-like server without the setting answers an empty list.
    expect(policyFromConfigReply([])).toBeUndefined()
    expect(policyFromConfigReply(['maxmemory-policy', ''])).toBeUndefined()
    expect(policyFromConfigReply(null)).toBeUndefined()
  })

  it('reads the policy from INFO memory, and none from INFO without the line', () => {
    expect(policyFromInfo('# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\nmaxmemory_policy:volatile-lru\r\nallocator_frag_ratio:1.0\r\n')).toBe('volatile-lru')
    expect(policyFromInfo('# Memory\r\nused_memory:1000\r\n')).toBeUndefined()
  })

  it('passes noeviction and refuses every other policy with one line naming REDIS_URL, the setting and the rule', () => {
    expect(evictionPolicyError('noeviction')).toBeUndefined()
    for (const policy of ['allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl']) {
      const error = evictionPolicyError(policy)
      expect(error, policy).toBeInstanceOf(ConfigError)
      expect(error!.message).toMatch(new RegExp(`^REDIS_URL: Redis's maxmemory-policy is ${policy}; it must be noeviction`))
      expect(error!.message).not.toContain('\n')
    }
  })
})

describe('against a real Redis', () => {
  let evicting: Awaited<ReturnType<typeof privateRedis>>
  let noConfig: Awaited<ReturnType<typeof privateRedis>>
  let noReads: Awaited<ReturnType<typeof privateRedis>>
  const opened: Redis[] = []
  const connect = (url: string) => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, enableReadyCheck: false })
    opened.push(redis)
    return redis
  }
  beforeAll(async () => {
    [evicting, noConfig, noReads] = await Promise.all([
      privateRedis(['--maxmemory-policy', 'allkeys-lru']),
      // CONFIG disabled, as managed Redis does (ElastiCache, for one): the policy is read from INFO.
      privateRedis(['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '']),
      // A user refused both (NOPERM): ioredis and BullMQ need INFO, so a server without it is unusable anyway.
      privateRedis(['--maxmemory-policy', 'allkeys-lru', '--user', 'limited', 'on', 'nopass', '~*', '&*', '+@all', '-config', '-info']),
    ])
  }, 30_000)
  afterAll(async () => {
    for (const redis of opened) redis.disconnect()
    await Promise.all([evicting?.stop(), noConfig?.stop(), noReads?.stop()])
  })

  it('the shared Redis (noeviction) passes, without a word', async () => {
    const { log, lines } = capturedLog('info')
    await expect(checkEvictionPolicy(connect(REDIS_URL), log)).resolves.toBeUndefined()
    expect(lines).toEqual([])
  })

  it('a Redis that evicts is refused with a configuration error', async () => {
    await expect(checkEvictionPolicy(connect(evicting.url), capturedLog().log)).rejects.toThrow(new ConfigError(evictionPolicyError('allkeys-lru')!.message))
  })

  it('a Redis that refuses CONFIG is judged by what INFO says', async () => {
    await expect(checkEvictionPolicy(connect(noConfig.url), capturedLog().log)).rejects.toThrow(/^REDIS_URL: Redis's maxmemory-policy is volatile-lru; it must be noeviction/)
  })

  it('a Redis that refuses both reads is warned about, and the start goes on', async () => {
    const { log, entries } = capturedLog('info')
    await expect(checkEvictionPolicy(connect(noReads.url.replace('redis://', 'redis://limited@')), log)).resolves.toBeUndefined()
    expect(entries()).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/could not read Redis's maxmemory-policy.*noeviction/) })])
  })
})
