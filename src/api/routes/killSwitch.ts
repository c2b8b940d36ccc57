import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { haltWallet, resumeWallet } from '../../runtime/intake/killSwitch.js'
import { compromiseWallet } from '../../runtime/sessions/compromiseWallet.js'
import { tenantOf } from '../auth/authenticate.js'
import { ownedWallet } from '../ownership.js'
import { presentOneWallet } from '../presentWallets.js'
import { errorResponses, idempotencyHeader, uuid, walletParams } from '../schemas/common.js'
import { Wallet } from '../schemas/resources.js'
import { type RouteOptions, relayNow, tenantSecurity } from './context.js'

export const killSwitchRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  const tags = ['kill switch']

  app.post('/wallets/:walletId/halt', {
    schema: {
      summary: 'Kill switch: halt the wallet (intake refuses orders, unsent placements are dropped) and queue a CancelAll for every market', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams,
      body: z.strictObject({ reason: z.string().trim().min(1, 'must say why the wallet is halted').max(500, 'must be at most 500 characters') }),
      response: { 200: z.object({ wallet: Wallet, cancelAllOutboxId: uuid, cancelledLocally: z.number().int() }), ...errorResponses },
    },
  }, async (request) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    // The tenant is checked again in the write's transaction (here and below): the wallet may have been retired since (a takeover by proof of ownership).
    const { outboxId, cancelledLocally } = await haltWallet(db, { walletId: wallet.id, tenantId: tenantOf(request), reason: request.body.reason, actor: 'api', outboxId: request.idempotencyClaim?.actionId })
    await relayNow(deps)
    const halted = await ownedWallet(db, tenantOf(request), wallet.id)
    return { wallet: await presentOneWallet(deps, halted), cancelAllOutboxId: outboxId, cancelledLocally }
  })

  app.post('/wallets/:walletId/compromise', {
    schema: {
      summary: "Suspected compromise of the wallet's session keys: halt it, cancel its intents and queued work, CancelAll at the operator, revoke every session there, alert. "
        + 'Resuming needs a person (resume) and a new grant. 502 SESSION.REVOKE_FAILED when a revocation failed (or the operator\'s EIP-712 domain changed: restart Deputy first): the wallet is halted all the same; call again to retry',
      tags, security: tenantSecurity, headers: idempotencyHeader, params: walletParams,
      body: z.strictObject({ reason: z.string().trim().min(1, 'must say what was suspected').max(500, 'must be at most 500 characters') }),
      response: { 200: z.object({ wallet: Wallet, revokedSessions: z.number().int() }), ...errorResponses },
    },
  }, async (request) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const { revoked } = await compromiseWallet(deps.runtime, deps.keyring, {
      walletId: wallet.id, tenantId: tenantOf(request), reason: request.body.reason, actor: 'api', outboxId: request.idempotencyClaim?.actionId, walletSigner: deps.walletSigners.signerFor(wallet),
    })
    const halted = await ownedWallet(db, tenantOf(request), wallet.id)
    return { wallet: await presentOneWallet(deps, halted), revokedSessions: revoked }
  })

  app.post('/wallets/:walletId/resume', {
    schema: {
      summary: 'Lift the kill switch', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams, body: z.strictObject({}).optional(), response: { 200: Wallet, ...errorResponses },
    },
  }, async (request) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    await resumeWallet(db, { walletId: wallet.id, tenantId: tenantOf(request), actor: 'api' })
    const resumed = await ownedWallet(db, tenantOf(request), wallet.id)
    return presentOneWallet(deps, resumed)
  })
}
