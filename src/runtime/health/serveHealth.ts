import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { HealthAnswer, HealthSource } from './workerHealth.js'

export type HealthServer = { url: string; close(): Promise<void> }

const paths = ['/healthz', '/readyz']

/**
 * A plain `node:http` server answering `GET /healthz` (`health.live()`) and `GET /readyz`
 * (`health.ready()`) in JSON, for a supervisor's probes. Not Fastify: two fixed answers need no
 * routing, validation or plugins, and it starts before the rest of the process. It never keeps the
 * process alive (unref'd), and `close` ends kept-alive connections too. Rejects when it cannot
 * listen (the port in use: `EADDRINUSE`), naming the address.
 */
export async function serveHealth(options: { host: string; port: number; health: HealthSource; log: Logger }): Promise<HealthServer> {
  const server = createServer((request, response) => {
    answer(request, options.health).then((result) => send(response, result), (error: unknown) => {
      options.log.error({ err: error }, 'health check failed unexpectedly')
      send(response, { statusCode: 503, body: { status: 'unavailable' } })
    })
  })
  await new Promise<void>((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => {
      error.message = `cannot listen on ${options.host}:${options.port}: ${error.message}`
      reject(error)
    }
    server.once('error', refused)
    server.listen(options.port, options.host, () => {
      server.off('error', refused)
      resolve()
    })
  })
  server.unref()
  const { address, port } = server.address() as AddressInfo
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`
  options.log.info({ url }, 'health server listening')
  return {
    url,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}

async function answer(request: IncomingMessage, health: HealthSource): Promise<HealthAnswer | { statusCode: 404 | 405; body: Record<string, unknown>; allow?: string }> {
  const path = new URL(request.url ?? '/', 'http://health').pathname
  if (!paths.includes(path)) return { statusCode: 404, body: { status: 'not found', paths } }
  if (request.method !== 'GET' && request.method !== 'HEAD') return { statusCode: 405, body: { status: 'method not allowed' }, allow: 'GET, HEAD' }
  return path === '/healthz' ? health.live() : health.ready()
}

function send(response: ServerResponse, result: { statusCode: number; body: Record<string, unknown>; allow?: string }): void {
  const body = JSON.stringify(result.body)
  response.writeHead(result.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(result.allow ? { allow: result.allow } : {}),
  })
  response.end(body)
}
