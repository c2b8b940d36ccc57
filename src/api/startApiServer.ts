import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { buildApi } from './buildApi.js'
import { openApiDeps } from './openApiDeps.js'

export type ApiServer = { app: FastifyInstance; url: string; close(): Promise<void> }

/** `deputy api`: the API in a process of its own, listening on API_HOST:API_PORT. */
export async function startApiServer(config: Config, log: Logger, options: { signal?: AbortSignal } = {}): Promise<ApiServer> {
  const deps = await openApiDeps(config, log, options.signal)
  try {
    const app = await buildApi(deps)
    const url = await app.listen({ host: config.API_HOST, port: config.API_PORT })
    if (!config.ADMIN_TOKEN) log.warn('ADMIN_TOKEN is not set: tenant administration and Bull Board are closed')
    return {
      app, url,
      async close() {
        await app.close()
        await deps.close()
      },
    }
  } catch (error) {
    await deps.close()
    throw error
  }
}
