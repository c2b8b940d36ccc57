import { and, eq, isNull } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { setPolicy } from '../../runtime/policy/setPolicy.js'
import { policies, sessions } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { ApiError, NotFoundError } from '../errors.js'
import { ownedWallet } from '../ownership.js'
import { presentPolicy } from '../present.js'
import { decimal, errorResponses, uuid, walletParams } from '../schemas/common.js'
import { Policy } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'

const count = (max: number) => z.number().int('must be an integer').min(0, 'must be at least 0').max(max, `must be at most ${max}`)

/** The longest `allowedMarkets`: far more than an operator lists (each name must be one of its markets, once). */
export const MAX_ALLOWED_MARKETS = 256

const PolicyRules = z.strictObject({
  allowedMarkets: z.array(z.string().min(1, 'must not be empty')).max(MAX_ALLOWED_MARKETS, `must name at most ${MAX_ALLOWED_MARKETS} markets`).optional()
    .describe("the operator's markets the wallet may trade, each named once"),
  maxOrderNotional: decimal.optional().describe('quote units'),
  maxDailyNotional: decimal.optional().describe('quote units, per UTC day'),
  priceBandBps: count(10_000).optional().describe('limit price at most this far from the mark'),
  maxOpenOrders: count(100_000).optional(),
  maxRequestsPerMinute: count(1_000_000).optional(),
})

/**
 * Each of `allowedMarkets` must be one of the operator's markets, named once. A market the operator
 * does not list (a misspelling) would let no order of the wallet through, at signing; one named again
 * is most likely another one mistyped.
 */
function checkAllowedMarkets(allowed: readonly string[], markets: ReadonlyMap<string, unknown>): void {
  const first = new Map<string, number>()
  allowed.forEach((market, index) => {
    const field = `rules.allowedMarkets.${index}`
    if (!markets.has(market)) {
      const rule = `must be one of the operator's markets (${[...markets.keys()].join(', ')})`
      throw new ApiError(422, 'CORE.VALIDATION', `${field}: ${rule}`, { field, rule })
    }
    const earlier = first.get(market)
    if (earlier !== undefined) {
      const rule = `must name each market once: ${market} is rules.allowedMarkets.${earlier} already`
      throw new ApiError(422, 'CORE.VALIDATION', `${field}: ${rule}`, { field, rule })
    }
    first.set(market, index)
  })
}

export const policyRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  const tags = ['policy']

  const sessionOfWallet = async (walletId: string, sessionId: string | undefined) => {
    if (!sessionId) return
    const [row] = await db.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.id, sessionId), eq(sessions.walletId, walletId)))
    if (!row) throw new NotFoundError('session', 'sessionId')
  }

  app.put('/wallets/:walletId/policy', {
    schema: {
      summary: "Set (replace) the wallet's local trading limits, or one session's; checked before every signature", tags, security: tenantSecurity,
      params: walletParams, body: z.strictObject({ rules: PolicyRules, sessionId: uuid.optional() }), response: { 200: Policy, ...errorResponses },
    },
  }, async (request) => {
    checkAllowedMarkets(request.body.rules.allowedMarkets ?? [], deps.markets)
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    await sessionOfWallet(wallet.id, request.body.sessionId)
    // The tenant is checked again in the policy's transaction: the wallet may have been retired since (a takeover by proof of ownership).
    return presentPolicy(await setPolicy(db, { walletId: wallet.id, tenantId: tenantOf(request), sessionId: request.body.sessionId, rules: request.body.rules, actor: 'api' }))
  })

  app.get('/wallets/:walletId/policy', {
    schema: {
      summary: "The wallet's policy (or a session's)", tags, security: tenantSecurity, params: walletParams,
      querystring: z.strictObject({ sessionId: uuid.optional() }), response: { 200: Policy, ...errorResponses },
    },
  }, async (request) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const { sessionId } = request.query
    await sessionOfWallet(wallet.id, sessionId)
    const [row] = await db.select().from(policies)
      .where(and(eq(policies.walletId, wallet.id), sessionId ? eq(policies.sessionId, sessionId) : isNull(policies.sessionId)))
    if (!row) {
      throw sessionId
        ? new NotFoundError('policy', 'sessionId', 'must name a session whose policy has been set (PUT /v1/wallets/:walletId/policy with sessionId)')
        : new NotFoundError('policy', 'walletId', 'must name a wallet whose policy has been set (PUT /v1/wallets/:walletId/policy)')
    }
    return presentPolicy(row)
  })
}
