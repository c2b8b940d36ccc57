import { once } from 'node:events'
import { Writable } from 'node:stream'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import Fastify from 'fastify'
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

describe('the logger, on secrets nested deeper than one level', () => {
  it('redacts secret-named fields at any depth, in errors and in plain objects', () => {
    const { log, lines } = capture()
    const error = Object.assign(new Error('request refused'), { config: { headers: { authorization: 'Bearer nested-auth-0123' } } })
    log.error({ err: error, session: { key: { privateKey: 'nested-private-key-0123' } }, tenant: { apiKeys: [{ apiKey: 'dpk_nested_0123' }] } }, 'failed')
    const text = JSON.stringify(lines[0])
    for (const secret of ['nested-auth-0123', 'nested-private-key-0123', 'dpk_nested_0123']) expect(text).not.toContain(secret)
    expect(lines[0]).toMatchObject({
      err: { type: 'Error', message: 'request refused', config: { headers: { authorization: '[redacted]' } } },
      session: { key: { privateKey: '[redacted]' } },
      tenant: { apiKeys: [{ apiKey: '[redacted]' }] },
    })
  })

  it('never prints the bound values of a failed statement wrapped in another error', () => {
    const { log, lines } = capture()
    const secret = 'sealed-key-material-nested-0123'
    const failed = new DrizzleQueryError('update "sessions" set "sealed_private_key" = $1', [secret], new Error('deadlock detected'))
    log.error({ err: new AggregateError([failed], 'every attempt failed'), detail: { failure: failed } }, 'failed')
    expect(JSON.stringify(lines[0])).not.toContain(secret)
    expect(lines[0]).toMatchObject({
      err: { aggregateErrors: [{ type: 'DrizzleQueryError', params: '[redacted]' }] },
      detail: { failure: { type: 'DrizzleQueryError', params: '[redacted]', message: expect.stringContaining('params: [redacted]') } },
    })
  })

  it('never prints the arguments of the commands of a transaction Redis refused (ioredis keeps them on previousErrors)', async () => {
    const { log, lines } = capture()
    const redis = createRedis(REDIS_URL)
    const key = `h-secrets:${process.pid}:probe`
    const error = await redis.multi().set(key, 'queued-value-0123').call('get', key, 'queued-arg-0123').exec().then(() => undefined, (e: unknown) => e)
    await redis.del(key)
    redis.disconnect()
    expect(JSON.stringify((error as { previousErrors?: unknown }).previousErrors)).toContain('queued-arg-0123')
    log.error({ err: error }, 'submit queue error')
    expect(JSON.stringify(lines[0])).not.toContain('queued-arg-0123')
    expect(lines[0]!.err).toMatchObject({ message: expect.stringContaining('EXECABORT'), previousErrors: [{ message: expect.stringContaining('wrong number of arguments'), command: { name: 'get', args: '[redacted]' } }] })
  })
})

describe('the logger, under Fastify', () => {
  it('still prints a request as Fastify\'s serializer does, and no credential header', async () => {
    const { log, lines } = capture()
    const app = Fastify({ loggerInstance: log })
    app.get('/ping', async () => ({ ok: true }))
    await app.inject({ method: 'GET', url: '/ping', headers: { 'x-api-key': 'dpk_header_0123', authorization: 'Bearer header-0123' } })
    await app.close()
    expect(JSON.stringify(lines)).not.toMatch(/dpk_header_0123|header-0123/)
    expect(lines.find((line) => line.msg === 'incoming request')).toMatchObject({ req: { method: 'GET', url: '/ping' } })
    expect(lines.find((line) => line.msg === 'request completed')).toMatchObject({ res: { statusCode: 200 } })
  })
})
