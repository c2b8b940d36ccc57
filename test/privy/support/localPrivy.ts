import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import canonicalizeModule from 'canonicalize'
import { authorizeParties, type Party, rebuildSignedPayload } from './localPrivyAuth.js'
import { type Answer, executeRpc, parseRpcBody, privyError } from './localPrivyRpc.js'
import { LocalPrivyState } from './localPrivyState.js'
import { LocalJwtIssuer, mintUserKey } from './localPrivyUserKeys.js'

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined

export type LocalPrivyOptions = {
  appId?: string
  appSecret?: string
  /** Server clock (ms); tests move it to expire requests and user keys. */
  now?: () => number
  /** Lifetime of user keys minted by /v1/wallets/authenticate. Default 10 min. */
  userKeyTtlMs?: number
  /**
   * Also store a refused authorization (401) under its idempotency key, so the same key and body
   * get that answer again. Privy's idempotency guide says it stores the response "regardless if the
   * request succeeds or errors"; whether that covers authorization failures is not documented, so
   * tests of code that resends after one run both ways. Default false.
   */
  storeAuthorizationFailures?: boolean
}

/** An answer the next request gets before any processing (a load balancer's 429 or 503). */
export type Fault = { status: number; code?: string; retryAfterSeconds?: number }

export type LocalPrivy = {
  url: string
  appId: string
  appSecret: string
  state: LocalPrivyState
  /** Signatures actually produced by wallet keys (idempotent replays do not count). */
  readonly signCount: number
  /** Every request seen: method, path and the Privy headers. */
  readonly requests: { method: string; path: string; headers: Record<string, string | undefined> }[]
  /** Queue answers for the next requests. */
  fail(...faults: Fault[]): void
  /** Process the next `count` requests fully but drop the connection instead of answering. */
  dropResponses(count: number): void
  /** Process the next `count` requests fully, send the answer's headers and part of its body, then reset the connection. */
  cutResponseBodies(count: number): void
  /**
   * Holds the wallet RPC requests (signatures) of the wallets `which` picks, unanswered until the
   * returned function releases them (or the server closes): a custody call that hangs. A request
   * released is processed as usual.
   */
  holdRpc(which: (walletId: string) => boolean): () => void
  issueUserJwt(userId: string, ttlMs?: number): string
  close(): Promise<void>
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A stand-in for api.privy.io on 127.0.0.1 (port 0), faithful on the endpoints
 * Deputy uses: wallet RPC with authorization signatures, key quorums, request
 * expiry, policies and idempotency; JWT exchange for HPKE-sealed user keys;
 * users; policy creation.
 */
export async function startLocalPrivy(options: LocalPrivyOptions = {}): Promise<LocalPrivy> {
  const appId = options.appId ?? 'local-app-id-0123456789'
  const appSecret = options.appSecret ?? 'local-app-secret'
  const now = options.now ?? Date.now
  const userKeyTtlMs = options.userKeyTtlMs ?? 600_000
  const state = new LocalPrivyState(now)
  const jwt = new LocalJwtIssuer(appId)
  const idempotency = new Map<string, { body: string; answer: Answer }>()
  const faults: Fault[] = []
  const requests: LocalPrivy['requests'] = []
  let signCount = 0
  let drops = 0
  let cuts = 0
  const holds: { which: (walletId: string) => boolean; released: Promise<void>; release: () => void }[] = []
  let baseUrl = ''

  const basic = `Basic ${Buffer.from(`${appId}:${appSecret}`).toString('base64')}`

  async function rpc(walletId: string, path: string, bodyText: string, headers: Record<string, string | undefined>): Promise<Answer> {
    for (const hold of holds) if (hold.which(walletId)) await hold.released
    const wallet = state.wallets.get(walletId)
    if (!wallet) return privyError(404, 'Wallet not found.')
    let body: unknown
    try {
      body = JSON.parse(bodyText)
    } catch {
      return privyError(400, 'Invalid JSON body.', 'invalid_data')
    }
    const parsed = parseRpcBody(body)
    if ('status' in parsed) return parsed

    const expiry = headers['privy-request-expiry']
    if (expiry !== undefined) {
      if (!/^\d+$/.test(expiry)) return privyError(400, 'privy-request-expiry must be a unix timestamp in milliseconds.', 'invalid_data')
      if (Number(expiry) < now()) return privyError(400, 'Request has expired.', 'request_expired')
    }

    const parties: Party[] = []
    if (wallet.ownerId) parties.push({ quorum: state.quorums.get(wallet.ownerId)!, policyIds: wallet.policyIds })
    for (const signer of wallet.additionalSigners) {
      const policyIds = signer.override_policy_ids?.length ? signer.override_policy_ids : wallet.policyIds
      parties.push({ quorum: state.quorums.get(signer.signer_id)!, policyIds })
    }
    // A wallet with neither owner nor signers is the app's to use with basic auth alone.
    const key = headers['privy-idempotency-key']
    const canonicalBody = canonicalize(body) ?? ''
    let policyIds = wallet.policyIds
    if (parties.length > 0) {
      const payload = rebuildSignedPayload({ method: 'POST', baseUrl, path, body, headers })
      const result = authorizeParties({ parties, signatureHeader: headers['privy-authorization-signature'], payload, userKeys: state.userKeys, now: now() })
      if ('status' in result) {
        const refused = privyError(result.status, result.message, result.code)
        if (key && options.storeAuthorizationFailures && !idempotency.has(key)) idempotency.set(key, { body: canonicalBody, answer: refused })
        return refused
      }
      policyIds = result.party.policyIds
    }

    if (key) {
      const seen = idempotency.get(key)
      if (seen && seen.body !== canonicalBody) {
        return privyError(400, 'Idempotency key has already been used with a different request body.', 'invalid_data')
      }
      if (seen) return seen.answer
    }
    const answer = await executeRpc(wallet, parsed, policyIds.map((id) => state.policies.get(id)!))
    if (answer.status === 200) signCount++
    // Privy stores the answer to a processed request, success or refusal, for 24 h.
    if (key) idempotency.set(key, { body: canonicalBody, answer })
    return answer
  }

  async function authenticate(bodyText: string): Promise<Answer> {
    let body: Record<string, unknown>
    try {
      body = JSON.parse(bodyText) as Record<string, unknown>
    } catch {
      return privyError(400, 'Invalid JSON body.', 'invalid_data')
    }
    if (body.encryption_type !== 'HPKE' || typeof body.recipient_public_key !== 'string' || typeof body.user_jwt !== 'string') {
      return privyError(400, 'Invalid request body: user_jwt, encryption_type HPKE and recipient_public_key are required.', 'invalid_data')
    }
    const userId = jwt.verify(body.user_jwt, now())
    if (!userId || !state.users.has(userId)) return privyError(401, 'Invalid JWT token provided.')
    let minted
    try {
      minted = await mintUserKey(body.recipient_public_key)
    } catch {
      return privyError(400, 'Invalid recipient_public_key.', 'invalid_data')
    }
    const expiresAt = now() + userKeyTtlMs
    state.userKeys.push({ userId, publicKey: minted.publicKey, expiresAt })
    return {
      status: 200,
      body: { encrypted_authorization_key: minted.encrypted, expires_at: expiresAt, wallets: state.walletsOfUser(userId).map((w) => state.walletJson(w)) },
    }
  }

  async function route(method: string, path: string, bodyText: string, headers: Record<string, string | undefined>): Promise<Answer> {
    const fault = faults.shift()
    if (fault) {
      const answer = privyError(fault.status, fault.status === 429 ? 'Too many requests.' : 'Internal server error.', fault.code)
      return fault.retryAfterSeconds === undefined ? answer : { ...answer, headers: { 'retry-after': String(fault.retryAfterSeconds) } }
    }
    if (headers.authorization !== basic) return privyError(401, 'Invalid app ID or app secret.')
    if (headers['privy-app-id'] !== appId) return privyError(401, 'Invalid app ID.')

    const rpcMatch = /^\/v1\/wallets\/([^/]+)\/rpc$/.exec(path)
    if (method === 'POST' && path === '/v1/wallets/authenticate') return authenticate(bodyText)
    if (method === 'POST' && rpcMatch) return rpc(decodeURIComponent(rpcMatch[1]!), path, bodyText, headers)
    if (method === 'POST' && path === '/v1/policies') {
      try {
        return { status: 200, body: state.createPolicy(JSON.parse(bodyText) as Record<string, unknown>) }
      } catch (error) {
        return privyError(400, `Invalid request body: ${error instanceof Error ? error.message : ''}`, 'invalid_data')
      }
    }
    const userMatch = /^\/v1\/users\/([^/]+)$/.exec(path)
    if (method === 'GET' && userMatch) {
      const user = state.users.get(decodeURIComponent(userMatch[1]!))
      return user ? { status: 200, body: state.userJson(user) } : privyError(404, 'User not found.')
    }
    const walletMatch = /^\/v1\/wallets\/([^/]+)$/.exec(path)
    if (method === 'GET' && walletMatch) {
      const wallet = state.wallets.get(decodeURIComponent(walletMatch[1]!))
      return wallet ? { status: 200, body: state.walletJson(wallet) } : privyError(404, 'Wallet not found.')
    }
    return privyError(404, 'Not found.')
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!
    const header = (name: string) => {
      const value = request.headers[name]
      return Array.isArray(value) ? value.join(',') : value
    }
    const headers: Record<string, string | undefined> = {}
    for (const name of ['authorization', 'privy-app-id', 'privy-authorization-signature', 'privy-idempotency-key', 'privy-request-expiry']) headers[name] = header(name)
    const bodyText = await readBody(request)
    const method = request.method ?? 'GET'
    requests.push({ method, path, headers: { ...headers, authorization: headers.authorization ? '[redacted]' : undefined } })
    const answer = await route(method, path, bodyText, headers)
    if (drops > 0) {
      drops--
      request.socket.destroy()
      return
    }
    if (cuts > 0) {
      cuts--
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      response.write(JSON.stringify(answer.body).slice(0, 12), () => request.socket.destroy())
      return
    }
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
    response.end(JSON.stringify(answer.body))
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ error: error instanceof Error ? error.message : 'internal error' }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: baseUrl,
    appId,
    appSecret,
    state,
    get signCount() {
      return signCount
    },
    requests,
    fail: (...more) => void faults.push(...more),
    cutResponseBodies: (count) => {
      cuts += count
    },
    dropResponses: (count) => {
      drops += count
    },
    holdRpc: (which) => {
      let release!: () => void
      const released = new Promise<void>((resolve) => { release = resolve })
      const hold = { which, released, release }
      holds.push(hold)
      return () => {
        const at = holds.indexOf(hold)
        if (at >= 0) holds.splice(at, 1)
        release()
      }
    },
    issueUserJwt: (userId, ttlMs = 3_600_000) => jwt.issue(userId, now(), ttlMs),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const hold of holds.splice(0)) hold.release()
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
