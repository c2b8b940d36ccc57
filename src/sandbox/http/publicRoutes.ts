import type { FastifyInstance } from 'fastify'
import { invalid } from '../SandboxError.js'
import { marketView, tickerView } from '../engine/views.js'
import type { SandboxState } from '../state.js'

export function registerPublicRoutes(app: FastifyInstance, state: SandboxState): void {
  // The domain's four fields are given flat (PROTOCOL.md §2) and once more nested, ready for viem.
  // Read at each call: the domain can change at runtime (`POST /sandbox/domain`).
  app.get('/v1/info', async () => {
    const { domain, maxDeadlineMs } = state.config
    return { ...domain, domain, serverTime: state.now(), maxDeadlineMs }
  })
  app.get('/v1/markets', async () => ({ markets: [...state.config.markets.values()].map(marketView) }))
  app.get<{ Params: { market: string } }>('/v1/markets/:market/ticker', async (request) => {
    const market = state.config.markets.get(request.params.market)
    if (!market) throw invalid(`unknown market ${JSON.stringify(request.params.market)}`)
    return tickerView(market)
  })
}
