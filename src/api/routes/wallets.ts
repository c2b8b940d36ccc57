import { and, asc, eq } from 'drizzle-orm'
import { getAddress, isAddress } from 'viem'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ensureWallet } from '../../runtime/wallets.js'
import { type WalletRow, wallets } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { ApiError } from '../errors.js'
import { ownedWallet } from '../ownership.js'
import { presentOneWallet, presentWallets } from '../presentWallets.js'
import { errorResponses, idempotencyHeader, walletParams } from '../schemas/common.js'
import { Wallet } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'

const CreateWallet = z.strictObject({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address (0x + 40 hex digits)').optional()
    .describe('Register an existing wallet; its Delegations are signed by the configured wallet signer'),
  generate: z.boolean().optional().describe('Development: create a wallet whose key this process holds (local signer)'),
  custodyWalletId: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional()
    .describe("with address: the wallet's id at the custody service (Privy) that signs its Delegations"),
})

function checksummed(address: string): string {
  // Mixed case carries an EIP-55 checksum; a wrong one means a mistyped address.
  if (!isAddress(address, { strict: true })) {
    throw new ApiError(422, 'CORE.VALIDATION', 'address: the mixed-case checksum is wrong', { field: 'address', rule: 'must have a valid EIP-55 checksum (or be all lower case)' })
  }
  return getAddress(address)
}

export const walletRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  const tags = ['wallets']

  app.post('/wallets', {
    schema: {
      summary: 'Register a wallet (address) or create a development wallet (generate: true)', tags, security: tenantSecurity,
      headers: idempotencyHeader, body: CreateWallet, response: { 200: Wallet, 201: Wallet, ...errorResponses },
    },
  }, async (request, reply) => {
    const tenantId = tenantOf(request)
    const { address, generate } = request.body
    if (generate && request.body.custodyWalletId !== undefined) {
      throw new ApiError(400, 'API.VALIDATION', 'custodyWalletId goes with an address', { field: 'custodyWalletId', rule: 'is only allowed with address' })
    }
    if ((address === undefined) === (generate !== true)) {
      throw new ApiError(400, 'API.VALIDATION', 'give either an address or generate: true', { field: 'address', rule: 'give either an address or generate: true (not both)' })
    }
    if (generate && !deps.walletSigners.allowsLocal) {
      throw new ApiError(422, 'CORE.VALIDATION', 'development wallets are disabled', { field: 'generate', rule: 'is only allowed with WALLET_SIGNER=local' })
    }
    const target = generate ? deps.walletSigners.generateLocal().address : checksummed(address!)
    const before = await db.select().from(wallets).where(eq(wallets.address, target))
    let row = await ensureWallet(db, target, tenantId)
    if (row.tenantId !== tenantId) {
      throw new ApiError(409, 'WALLET.UNAVAILABLE', 'this address cannot be registered by this tenant', { field: 'address', rule: 'must not be registered already' })
    }
    if (request.body.custodyWalletId !== undefined && row.custodyWalletId !== request.body.custodyWalletId) {
      ;[row] = await db.update(wallets).set({ custodyWalletId: request.body.custodyWalletId }).where(eq(wallets.id, row.id)).returning() as [WalletRow]
    }
    return reply.code(before.length ? 200 : 201).send(await presentOneWallet(deps, row))
  })

  app.get('/wallets', {
    schema: { summary: "The tenant's wallets", tags, security: tenantSecurity, response: { 200: z.object({ wallets: z.array(Wallet) }), ...errorResponses } },
  }, async (request) => {
    const rows = await db.select().from(wallets).where(and(eq(wallets.tenantId, tenantOf(request)))).orderBy(asc(wallets.createdAt), asc(wallets.id))
    return { wallets: await presentWallets(deps, rows) }
  })

  app.get('/wallets/:walletId', {
    schema: { summary: 'One wallet', tags, security: tenantSecurity, params: walletParams, response: { 200: Wallet, ...errorResponses } },
  }, async (request) => {
    const row = await ownedWallet(db, tenantOf(request), request.params.walletId)
    return presentOneWallet(deps, row)
  })
}
