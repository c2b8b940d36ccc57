import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { getAddress, isAddress, recoverTypedDataAddress, zeroAddress } from 'viem'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { REGISTRATION_MAX_VALIDITY_SECONDS, walletRegistrationTypedData } from '../../core/wallets/walletRegistrationTypedData.js'
import { resyncAfterCommit } from '../../runtime/schedules/resyncAfterCommit.js'
import { ensureWallet } from '../../runtime/wallets.js'
import { takeUnprovenWallet } from '../../store/repositories/takeUnprovenWallet.js'
import { type WalletRow, wallets } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { ApiError } from '../errors.js'
import { ownedWallet, walletPageMark } from '../ownership.js'
import { presentOneWallet, presentWallets } from '../presentWallets.js'
import { LIST_LIMIT_DEFAULT, errorResponses, idempotencyHeader, listLimit, uuid, walletParams } from '../schemas/common.js'
import { Wallet } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'
import { PRIVY_WALLET_ID, PRIVY_WALLET_ID_RULE } from '../../signers/privy/privyWalletId.js'

const CreateWallet = z.strictObject({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address (0x + 40 hex digits)').optional()
    .describe('Register an existing wallet; its Delegations are signed by the configured wallet signer'),
  generate: z.boolean().optional().describe('Development: create a wallet whose key this process holds (local signer)'),
  custodyWalletId: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(PRIVY_WALLET_ID, PRIVY_WALLET_ID_RULE).optional()
    .describe("with address: the wallet's id at the custody service (Privy) that signs its Delegations"),
  ownership: z.strictObject({
    deadline: z.number().int('must be whole unix seconds').positive('must be whole unix seconds'),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte hex signature (0x + 130 hex digits)'),
  }).optional().describe("with custodyWalletId: the wallet's EIP-712 signature of a WalletRegistration naming this tenant, the custody wallet id and a deadline at most 24 hours ahead (docs/privy.md)"),
})

type Ownership = { deadline: number; signature: string }

/**
 * A custody wallet id is taken only with the wallet's own signature of a WalletRegistration naming
 * this tenant and that id: with it Deputy has the custody service sign the wallet's Delegations.
 */
async function checkOwnership(tenantId: string, address: string, custodyWalletId: string, ownership: Ownership | undefined, nowMs: number): Promise<void> {
  if (!ownership) {
    throw new ApiError(400, 'API.VALIDATION', "custodyWalletId needs the wallet's ownership signature", {
      field: 'ownership', rule: "is required with custodyWalletId: the wallet's signature of a WalletRegistration for this tenant",
    })
  }
  const nowSeconds = Math.floor(nowMs / 1000)
  if (ownership.deadline <= nowSeconds) {
    throw new ApiError(422, 'CORE.VALIDATION', 'ownership.deadline: has passed', { field: 'ownership.deadline', rule: 'must be in the future' })
  }
  if (ownership.deadline > nowSeconds + REGISTRATION_MAX_VALIDITY_SECONDS) {
    throw new ApiError(422, 'CORE.VALIDATION', 'ownership.deadline: too far ahead', { field: 'ownership.deadline', rule: 'must be at most 24 hours ahead' })
  }
  const typedData = walletRegistrationTypedData({ tenant: tenantId, custodyWalletId, deadline: BigInt(ownership.deadline) })
  const signer = await recoverTypedDataAddress({ ...typedData, signature: ownership.signature as `0x${string}` }).catch(() => undefined)
  if (signer !== address) {
    throw new ApiError(422, 'CORE.VALIDATION', 'ownership.signature: not the wallet\'s signature of this registration', {
      field: 'ownership.signature', rule: 'must be signed by the wallet at address, for this tenant, custodyWalletId and deadline',
    })
  }
}

/** The address to register, checksummed: its checksum right, and not the zero address. */
function registrable(address: string): string {
  // Mixed case carries an EIP-55 checksum; a wrong one means a mistyped address.
  if (!isAddress(address, { strict: true })) {
    throw new ApiError(422, 'CORE.VALIDATION', 'address: the mixed-case checksum is wrong', { field: 'address', rule: 'must have a valid EIP-55 checksum (or be all lower case)' })
  }
  // No key signs for it (an unset value, most likely): every Delegation of the wallet would fail.
  if (address === zeroAddress) {
    throw new ApiError(422, 'CORE.VALIDATION', 'address: the zero address', { field: 'address', rule: 'must not be the zero address (0x0000…0000): no key can sign for it' })
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
    if (request.body.ownership && request.body.custodyWalletId === undefined) {
      throw new ApiError(400, 'API.VALIDATION', 'ownership goes with a custodyWalletId', { field: 'ownership', rule: 'is only allowed with custodyWalletId' })
    }
    if ((address === undefined) === (generate !== true)) {
      throw new ApiError(400, 'API.VALIDATION', 'give either an address or generate: true', { field: 'address', rule: 'give either an address or generate: true (not both)' })
    }
    if (generate && !deps.walletSigners.allowsLocal) {
      throw new ApiError(422, 'CORE.VALIDATION', 'development wallets are disabled', { field: 'generate', rule: 'is only allowed with WALLET_SIGNER=local' })
    }
    const target = generate ? deps.walletSigners.generateLocal().address : registrable(address!)
    const { custodyWalletId } = request.body
    // Checked before anything is stored: a refused registration claims nothing.
    if (custodyWalletId !== undefined) await checkOwnership(tenantId, target, custodyWalletId, request.body.ownership, deps.runtime.now())
    // Created for this tenant now (201), or registered already (200).
    let created = (await db.select({ id: wallets.id }).from(wallets).where(and(eq(wallets.address, target), isNull(wallets.retiredAt)))).length === 0
    let row = await ensureWallet(db, target, tenantId, custodyWalletId)
    if (row.tenantId !== tenantId) {
      // With the owner's proof, an address another tenant named first without one, and never had a
      // session for, is registered anew for this tenant; the other tenant's row is retired.
      const taken = custodyWalletId !== undefined ? await takeUnprovenWallet(db, row.id, tenantId, custodyWalletId) : undefined
      // The schedules it deleted lose their job schedulers now, not at their next firing or the worker's repair sweep.
      if (taken) await Promise.all(taken.deletedSchedules.map((id) => resyncAfterCommit({ db, queue: deps.controlQueue, log: deps.runtime.log }, id)))
      // Not taken because a concurrent registration of this tenant's took it first: that one's row answers (200).
      const live = taken ? undefined : custodyWalletId !== undefined ? await ensureWallet(db, target, tenantId) : undefined
      if (!taken && live?.tenantId !== tenantId) throw new ApiError(409, 'WALLET.UNAVAILABLE', 'this address cannot be registered by this tenant', { field: 'address', rule: 'must not be registered already' })
      row = taken?.wallet ?? live!
      created = taken !== undefined
    }
    if (custodyWalletId !== undefined && row.custodyWalletId !== custodyWalletId) {
      ;[row] = await db.update(wallets).set({ custodyWalletId }).where(eq(wallets.id, row.id)).returning() as [WalletRow]
    }
    return reply.code(created ? 201 : 200).send(await presentOneWallet(deps, row))
  })

  app.get('/wallets', {
    schema: {
      summary: "The tenant's wallets, oldest first", tags, security: tenantSecurity,
      querystring: z.strictObject({ limit: listLimit, after: uuid.optional().describe('only wallets registered after this one (the last of the previous page; still a page mark once retired)') }),
      response: { 200: z.object({ wallets: z.array(Wallet) }), ...errorResponses },
    },
  }, async (request) => {
    const tenantId = tenantOf(request)
    const after = request.query.after ? await walletPageMark(db, tenantId, request.query.after) : undefined
    const rows = await db.select().from(wallets)
      .where(and(eq(wallets.tenantId, tenantId), isNull(wallets.retiredAt), after ? sql`(${wallets.createdAt}, ${wallets.id}) > (select created_at, id from wallets where id = ${after.id})` : undefined))
      .orderBy(asc(wallets.createdAt), asc(wallets.id)).limit(request.query.limit ?? LIST_LIMIT_DEFAULT)
    return { wallets: await presentWallets(deps, rows) }
  })

  app.get('/wallets/:walletId', {
    schema: { summary: 'One wallet', tags, security: tenantSecurity, params: walletParams, response: { 200: Wallet, ...errorResponses } },
  }, async (request) => {
    const row = await ownedWallet(db, tenantOf(request), request.params.walletId)
    return presentOneWallet(deps, row)
  })
}
