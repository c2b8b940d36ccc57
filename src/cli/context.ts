import type { Command } from 'commander'
import { isHttpUrl } from '../core/isHttpUrl.js'
import { ApiClient } from './ApiClient.js'
import { CliError, exitCodes } from './errors.js'
import { type Output, createOutput } from './output.js'

export const DEFAULT_API_URL = 'http://127.0.0.1:8080'

/** What a client command needs: the API client and the output, from the global options and the environment. */
export type ClientContext = { api: ApiClient; out: Output }

type GlobalOptions = { apiUrl?: string; apiKey?: string; adminToken?: string; json?: boolean }

/** The API's base URL, checked before anything is sent: a usage error naming where it came from. */
function apiUrl(options: GlobalOptions): string {
  const [value, source] = options.apiUrl !== undefined ? [options.apiUrl, '--api-url']
    : process.env.DEPUTY_API_URL ? [process.env.DEPUTY_API_URL, 'DEPUTY_API_URL'] : [DEFAULT_API_URL, 'the default']
  if (!isHttpUrl(value)) {
    throw new CliError(exitCodes.usage, `${source}: must be an http(s) URL with a host, like ${DEFAULT_API_URL}; got ${JSON.stringify(value)}`, { code: 'CLI.USAGE' })
  }
  return value
}

export function clientContext(command: Command): ClientContext {
  const options = command.optsWithGlobals<GlobalOptions>()
  return {
    api: new ApiClient({
      baseUrl: apiUrl(options),
      apiKey: options.apiKey ?? process.env.DEPUTY_API_KEY,
      apiKeySource: options.apiKey !== undefined ? '--api-key' : 'DEPUTY_API_KEY',
      adminToken: options.adminToken ?? process.env.DEPUTY_ADMIN_TOKEN,
      adminTokenSource: options.adminToken !== undefined ? '--admin-token' : 'DEPUTY_ADMIN_TOKEN',
    }),
    out: createOutput(options.json === true),
  }
}

/**
 * Wraps a client command's action: commander hands the positional arguments,
 * then the options, then the command itself.
 */
export function clientAction<Args extends unknown[], Options>(run: (ctx: ClientContext, options: Options, ...args: Args) => Promise<void>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command
    const options = received.at(-2) as Options
    const args = received.slice(0, -2) as Args
    await run(clientContext(command), options, ...args)
  }
}
