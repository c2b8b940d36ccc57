import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/**
 * `url` as the demo prints it: a password in it shown as `***`, whether before the host
 * (`redis://:secret@host`) or in the query (`redis://host?password=secret`, which ioredis takes too).
 */
export function shownRedisUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/[^/]*@/, '//***@').replace(/([?&]password=)[^&#]*/gi, '$1***')
  const parsed = new URL(url)
  if (!parsed.password && !parsed.searchParams.has('password')) return url
  if (parsed.password) parsed.password = '***'
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
  return parsed.href
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError'
}

/**
 * A Redis for the demo: `REDIS_URL` when it answers, otherwise a throwaway
 * `redis-server` on a free port (nothing persisted), stopped on `stop()`.
 */
export async function ensureRedis(env: Record<string, string | undefined> = process.env): Promise<{ url: string; started: boolean; stop(): Promise<void> }> {
  if (env.REDIS_URL) {
    if (await answers(env.REDIS_URL)) return { url: env.REDIS_URL, started: false, stop: async () => undefined }
    throw new RedisUnavailableError(`REDIS_URL=${shownRedisUrl(env.REDIS_URL)} does not answer PING`)
  }
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const failed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new RedisUnavailableError(
    `no REDIS_URL and no redis-server on PATH (${error.message}). Start one with \`docker compose up -d redis\` and set REDIS_URL=redis://127.0.0.1:6379, or install it (apt-get install redis-server).`))))
  const url = `redis://127.0.0.1:${port}`
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (await answers(url)) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new RedisUnavailableError(`redis-server did not answer on ${url}`)
  })()
  await Promise.race([ready, failed])
  return {
    url,
    started: true,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}
