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
    // The default, for the demo and development: said at every start, so that a deployment that
    // left it unset learns what it allows.
    if (config.WALLET_SIGNER === 'local') {
      log.warn('WALLET_SIGNER=local (development): any tenant may make wallets whose keys this process holds in memory (POST /v1/wallets without an address), and a DEV_WALLET_KEYS address signs for whichever tenant registers it; set WALLET_SIGNER=privy for real users\' wallets')
    }
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
