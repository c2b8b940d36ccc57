import { once } from 'node:events'
import { Writable } from 'node:stream'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { REDIS_URL } from '../worker/support/harness.js'

/** A logger writing into an array of parsed lines. */
function capture() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  return { log: createLogger('info', 'test', stream), lines }
}

describe('the logger', () => {
  it('never prints the bound values of a failed statement, in its fields or in its message and stack', () => {
    const { log, lines } = capture()
    const secret = 'sealed-key-material-0123456789'
    const cause = Object.assign(new Error('duplicate key value violates unique constraint "api_keys_secret_hash_unique"'), { code: '23505' })
    const error = new DrizzleQueryError('insert into "api_keys" ("secret_hash", "label") values ($1, $2)', [secret, 'label'], cause)
    log.error({ err: error }, 'request failed')
    const [line] = lines
    expect(JSON.stringify(line)).not.toContain(secret)
    expect(line!.err).toMatchObject({
      type: 'DrizzleQueryError',
      params: '[redacted]',
      message: 'Failed query: insert into "api_keys" ("secret_hash", "label") values ($1, $2)\nparams: [redacted]',
      query: 'insert into "api_keys" ("secret_hash", "label") values ($1, $2)',
    })
    expect(line!.err).toMatchObject({ stack: expect.stringContaining('params: [redacted]') })
  })

  it('prints other errors as pino does, and still redacts secret paths', () => {
    const { log, lines } = capture()
    log.error({ err: Object.assign(new Error('operator unreachable'), { code: 'VENUE.UNAVAILABLE' }), apiKey: 'dpk_123' }, 'failed')
    expect(lines[0]).toMatchObject({ err: { type: 'Error', message: 'operator unreachable', code: 'VENUE.UNAVAILABLE' }, apiKey: '[redacted]' })
  })

  it('never prints the password of a Redis AUTH that Redis refused (ioredis puts the command and its arguments on the error)', async () => {
    const { log, lines } = capture()
    const url = new URL(REDIS_URL)
    url.username = 'deputy-no-such-user'
    url.password = 'redis-password-0123456789'
    const redis = createRedis(url.href, { lazyConnect: true, retryStrategy: () => null })
    redis.on('error', () => undefined)
    const refused = once(redis, 'error')
    await redis.connect().catch(() => undefined)
    const [error] = await refused as [Error & { command?: { name: string; args: unknown[] } }]
    redis.disconnect()
    expect(error.command?.args).toContain('redis-password-0123456789')
    log.error({ err: error }, 'submit queue error')
    expect(JSON.stringify(lines[0])).not.toContain('redis-password-0123456789')
    expect(lines[0]!.err).toMatchObject({ message: expect.stringContaining('WRONGPASS'), command: { name: 'auth', args: '[redacted]' } })
  })
})
