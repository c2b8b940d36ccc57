/**
 * `redisConnections` against a Redis that hangs (takes the connection, then never answers), as
 * opposed to one that is down: nothing ever fails on its own, so every wait needs its own end.
 */
import { afterEach, expect, it } from 'vitest'
import { redisConnections } from '../../src/queue/redisConnections.js'
import { freezingRelay } from '../support/freezingRelay.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

let relay: Awaited<ReturnType<typeof freezingRelay>> | undefined
afterEach(async () => { await relay?.close() })

it('closeAll ends connections whose Redis stopped answering, instead of waiting for their QUIT for ever', async () => {
  relay = await freezingRelay(REDIS_URL)
  const redis = redisConnections(relay.url, 'deputy-test:hung-close')
  const connections = [redis.open(), redis.open()]
  await eventually(async () => connections.every((c) => c.status === 'ready'), 5_000)
  relay.freeze()
  const startedAt = Date.now()
  const closed = await Promise.race([redis.closeAll().then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 8_000))])
  expect(closed).toBe(true)
  expect(Date.now() - startedAt).toBeLessThan(4_000)
  // Disconnected: ioredis destroys a socket the server does not close within its disconnect timeout (2 s).
  await eventually(async () => connections.every((c) => c.status === 'end'), 5_000)
}, 20_000)
