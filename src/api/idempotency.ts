import { createHash } from 'node:crypto'
import canonicalizeModule from 'canonicalize'
import { and, eq, isNull, lt } from 'drizzle-orm'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../store/Database.js'
import { idempotencyKeys } from '../store/schema/index.js'
import { ApiError } from './errors.js'

// canonicalize is CommonJS typed as an ES default export; under NodeNext the default is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined

/** Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash. */
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/
/** A claim older than this whose request never finished (a crashed process) may be taken over. */
const STALE_CLAIM_MS = 5 * 60_000
/** The claim time of a released claim (an answer asking for a retry): any retry takes it over. */
const RELEASED_AT = new Date(0)
/** How often a process sweeps expired keys away. */
const PRUNE_EVERY_MS = 10 * 60_000

/** `actionId`: the same for every attempt under one claim (see the table's `action_id`). */
type Claim = { scope: string; key: string; actionId: string }

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyFingerprint?: string
    idempotencyClaim?: Claim
  }
  interface FastifyContextConfig {
    /**
     * The response carries a secret shown once (an API key): it is stored
     * without its `key` fields, and a replay answers 409 instead of the secret.
     */
    idempotencySecret?: boolean
  }
}

/** The body without any `key` property, at any depth. */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).filter(([name]) => name !== 'key').map(([name, item]) => [name, withoutSecrets(item)]))
}

export type IdempotencyOptions = { db: Db; now: () => number; ttlMs: number }

/**
 * `Idempotency-Key` on POST. The first request claims (principal, key) with a
 * fingerprint of its method, URL and body; its response (status and body) is
 * stored when it is sent. A later request with the same key and fingerprint
 * gets the stored response again (`Idempotent-Replayed: true`); with another
 * fingerprint it is refused 422; while the first is still running, 409.
 * Responses of 5xx are not stored: the claim is released so the client may retry.
 * Every attempt under one claim carries its `actionId` (`request.idempotencyClaim`);
 * an action that uses it as its own id (a placement's intent id; the outbox row of a
 * modify, a cancel, a CancelAll, a halt or a compromise) is not done twice
 * when an attempt's outcome was lost (its answer unstored, its process dead, a 5xx
 * after a COMMIT that landed).
 */
export function idempotency(options: IdempotencyOptions) {
  const { db, now, ttlMs } = options
  let prunedAt = 0

  /** preValidation: fingerprint the body as sent, before defaults and transforms. */
  const fingerprint = async (request: FastifyRequest): Promise<void> => {
    if (request.method !== 'POST' || request.headers['idempotency-key'] === undefined) return
    const key = request.headers['idempotency-key']
    if (typeof key !== 'string' || !KEY_FORMAT.test(key)) {
      throw new ApiError(400, 'API.VALIDATION', 'Idempotency-Key: must be 1 to 255 printable ASCII characters', { field: 'Idempotency-Key', rule: 'must be 1 to 255 printable ASCII characters' })
    }
    const canonical = canonicalize({ method: request.method, url: request.url, body: request.body ?? null }) ?? ''
    request.idempotencyFingerprint = createHash('sha256').update(canonical).digest('hex')
  }

  /** preHandler: the request passed validation; claim the key or answer from it. */
  const claim = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const fingerprint = request.idempotencyFingerprint
    if (!fingerprint || !request.principal) return undefined
    const key = request.headers['idempotency-key'] as string
    const scope = request.principal.kind === 'tenant' ? request.principal.tenantId : 'admin'
    const at = new Date(now())
    if (at.getTime() - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = at.getTime()
      await db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, at))
    }
    const row = { scope, key, fingerprint, method: request.method, path: request.url, createdAt: at, expiresAt: new Date(at.getTime() + ttlMs) }
    // An expired key is free again: a new request, with a new action id.
    await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), lt(idempotencyKeys.expiresAt, at)))
    const [claimed] = await db.insert(idempotencyKeys).values(row).onConflictDoNothing().returning({ actionId: idempotencyKeys.actionId })
    if (claimed) {
      request.idempotencyClaim = { scope, key, actionId: claimed.actionId }
      return undefined
    }
    const [existing] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    if (!existing) throw new ApiError(409, 'API.IDEMPOTENCY_IN_PROGRESS', 'the Idempotency-Key was released while this request waited; retry', { field: 'Idempotency-Key', rule: 'retry the request', retryable: true, headers: { 'retry-after': '1' } })
    if (existing.fingerprint !== fingerprint) {
      throw new ApiError(422, 'API.IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with another request (method, path or body); use a new key for a new request', {
        field: 'Idempotency-Key', rule: 'must not be reused with a different request',
      })
    }
    if (existing.status === null) {
      // A claim whose attempt died (a crashed process) or whose answer could not be stored is taken
      // over, keeping its action id: what that attempt did, if anything, is found and answered.
      const [taken] = await db.update(idempotencyKeys).set({ createdAt: at }).where(and(
        eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), isNull(idempotencyKeys.status),
        lt(idempotencyKeys.createdAt, new Date(at.getTime() - STALE_CLAIM_MS)),
      )).returning({ actionId: idempotencyKeys.actionId })
      if (taken) {
        request.idempotencyClaim = { scope, key, actionId: taken.actionId }
        return undefined
      }
      throw new ApiError(409, 'API.IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still being processed; retry shortly', {
        field: 'Idempotency-Key', rule: 'wait for the first request to finish', retryable: true, headers: { 'retry-after': '1' },
      })
    }
    if (request.routeOptions.config.idempotencySecret && existing.status < 300) {
      throw new ApiError(409, 'API.IDEMPOTENCY_SECRET_SHOWN_ONCE', 'this request already succeeded; the API key it created was shown once and is not stored (revoke it and create another if it was lost)', {
        field: 'Idempotency-Key', rule: 'replays of requests that create a secret do not return the secret',
      })
    }
    return reply.code(existing.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(JSON.stringify(existing.response))
  }

  /**
   * onSend: store the response of a claimed request. The claim is released instead for a 5xx and
   * for any answer that tells the client to retry (a `Retry-After`: rate limited, a grant or a
   * request in progress): replaying it for the key's lifetime would refuse the retry it asked for.
   */
  const record = async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const held = request.idempotencyClaim
    if (!held) return payload
    request.idempotencyClaim = undefined
    const where = and(eq(idempotencyKeys.scope, held.scope), eq(idempotencyKeys.key, held.key))
    try {
      if (reply.statusCode >= 500 || reply.hasHeader('retry-after')) {
        // Released, not deleted: the retry takes the claim over at once with its action id (a
        // placement whose transaction failed may have committed after all: the retry finds it).
        await db.update(idempotencyKeys).set({ createdAt: RELEASED_AT }).where(and(where, isNull(idempotencyKeys.status)))
        return payload
      }
      let response: unknown = null
      if (typeof payload === 'string' && payload.length) {
        try {
          response = JSON.parse(payload)
        } catch {
          response = payload
        }
      }
      if (request.routeOptions.config.idempotencySecret) response = withoutSecrets(response)
      await db.update(idempotencyKeys).set({ status: reply.statusCode, response, completedAt: new Date(now()) }).where(where)
    } catch (error) {
      // The request has been answered (and acted on): its answer goes out as it is. Thrown here, the
      // failure would replace it (for a refusal, with Fastify's fallback body quoting the failed
      // statement and its parameters). The claim stays pending, answering 409, until it goes stale.
      request.log.warn({ err: error }, 'Idempotency-Key: the response could not be stored')
    }
    return payload
  }

  return { fingerprint, claim, record }
}
