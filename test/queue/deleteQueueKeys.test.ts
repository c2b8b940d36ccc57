/** Throwaway BullMQ prefixes are removed key by key, and only theirs (real Redis). */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { REDIS_URL } from '../worker/support/harness.js'

let redis: Redis
const written: string[] = []
beforeAll(() => { redis = new Redis(REDIS_URL) })
afterAll(async () => {
  // Whatever an assertion left behind.
  for (const prefix of written) await deleteQueueKeys(REDIS_URL, prefix)
  redis?.disconnect()
})

const keysUnder = async (pattern: string) => {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found
}

it('deletes every key under the prefix, over many SCAN pages, and leaves other prefixes alone', async () => {
  const id = randomUUID().slice(0, 8)
  const mine = `deputy-unit-${id}`
  // Neighbours: a longer prefix that starts with `mine`, and a prefix with a glob character in it.
  const neighbours = [`${mine}x`, `deputy-unit-*${id}`]
  written.push(mine, ...neighbours)
  const pipeline = redis.pipeline()
  for (let i = 0; i < 2500; i++) pipeline.set(`${mine}:submit:${i}`, '1')
  for (const other of neighbours) pipeline.set(`${other}:submit:1`, '1')
  await pipeline.exec()

  // A prefix holding glob characters is taken literally: as a pattern, `deputy-unit-*<id>:*`
  // would also match every key of `mine`.
  expect(await deleteQueueKeys(REDIS_URL, `deputy-unit-*${id}`)).toBe(1)
  expect(await keysUnder(`${mine}:*`)).toHaveLength(2500)

  expect(await deleteQueueKeys(REDIS_URL, mine)).toBe(2500)
  expect(await keysUnder(`${mine}:*`)).toEqual([])
  expect(await redis.exists(`${mine}x:submit:1`)).toBe(1)
})

it('refuses an empty prefix instead of matching every key', async () => {
  await expect(deleteQueueKeys(REDIS_URL, '')).rejects.toThrow(/prefix must not be empty/)
})
