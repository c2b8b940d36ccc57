import { parseRetryAfterMs } from '../../core/parseRetryAfter.js'
import { PrivyError, privyConfigError } from './errors.js'
import { formatRequestForAuthorizationSignature } from './formatRequestForAuthorizationSignature.js'
import { privyErrorFromResponse } from './privyErrorFromResponse.js'

export const DEFAULT_PRIVY_API_URL = 'https://api.privy.io'

/** Something that can sign Privy authorization payloads: app keys, a user's key, or both. */
export interface RequestAuthorizer {
  /** Base64 DER signatures over the canonical payload bytes, one per key. */
  signatures(payload: Uint8Array): Promise<string[]>
  /** Drops cached credentials after Privy reported them expired (user keys). */
  invalidate?(): void
}

export type RetryPolicy = {
  /** Attempts in total, first one included. */
  maxAttempts: number
  baseDelayMs: number
  /** Cap on one wait; a longer Retry-After ends the retries (the job retries later). */
  maxDelayMs: number
}

export type PrivyApiOptions = {
  appId: string
  appSecret: string
  /** Default `https://api.privy.io`. Part of every signed payload, so it must be the URL Privy sees. */
  apiUrl?: string
  /** Per-attempt timeout. Default 15 s. */
  timeoutMs?: number
  retry?: Partial<RetryPolicy>
  fetch?: typeof fetch
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export type PrivyPostOptions = {
  /** Path below the API URL, already encoded: `/v1/wallets/<id>/rpc`. */
  path: string
  body: unknown
  /** For messages and error classification (`eth_signTypedData_v4`, `authenticate`). */
  operation: string
  idempotencyKey?: string
  /** Signs the request; absent for endpoints that take basic auth only. */
  authorizer?: RequestAuthorizer
  /** How long the signed request stays valid (privy-request-expiry = now + this). */
  expiryMs?: number
  /** Whether sending the same bytes twice is harmless (then 5xx and network failures are retried). */
  idempotent: boolean
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 4_000 }
const DEFAULT_EXPIRY_MS = 120_000

/** Privy's own path encoding (the SDK's `encodeURIPath`): keeps `:` and `@`, so `did:privy:…` stays readable. */
export function encodePathSegment(segment: string): string {
  return segment.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent)
}

/**
 * The HTTP side of Privy: basic auth, `privy-app-id`, authorization signatures,
 * request expiry, bounded retries with backoff. Retries resend the exact same
 * bytes (same signature, expiry and idempotency key), so Privy sees one request.
 */
export class PrivyApi {
  readonly appId: string
  readonly apiUrl: string
  readonly #basicAuth: string
  readonly #timeoutMs: number
  readonly #retry: RetryPolicy
  readonly #fetch: typeof fetch
  readonly #sleep: (ms: number) => Promise<void>
  readonly now: () => number

  constructor(options: PrivyApiOptions) {
    if (!options.appId) throw privyConfigError('PRIVY_APP_ID is empty', 'set PRIVY_APP_ID to the app id from the Privy dashboard')
    if (!options.appSecret) throw privyConfigError('PRIVY_APP_SECRET is empty', 'set PRIVY_APP_SECRET to the app secret from the Privy dashboard')
    const apiUrl = (options.apiUrl ?? DEFAULT_PRIVY_API_URL).replace(/\/+$/, '')
    if (!/^https?:\/\/[^/]/.test(apiUrl)) throw privyConfigError('PRIVY_API_URL is not an http(s) URL', `leave it unset for ${DEFAULT_PRIVY_API_URL}`)
    // fetch refuses a URL with credentials (quoting it whole in its error); Privy takes the app's in a header.
    if (/^https?:\/\/[^/?#]*@/.test(apiUrl)) throw privyConfigError('PRIVY_API_URL must not carry a user or password', 'Privy authenticates the app with PRIVY_APP_ID and PRIVY_APP_SECRET; give the URL without them')
    this.appId = options.appId
    this.apiUrl = apiUrl
    this.#basicAuth = `Basic ${Buffer.from(`${options.appId}:${options.appSecret}`).toString('base64')}`
    this.#timeoutMs = options.timeoutMs ?? 15_000
    this.#retry = { ...DEFAULT_RETRY, ...options.retry }
    this.#fetch = options.fetch ?? fetch
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.now = options.now ?? Date.now
  }

  /** POST, signed when an authorizer is given. Returns the parsed 2xx JSON body. */
  async post(options: PrivyPostOptions): Promise<unknown> {
    const url = `${this.apiUrl}${options.path}`
    // Round-trip once so the signed body is exactly the JSON that goes on the wire.
    const bodyText = JSON.stringify(options.body ?? {})
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (options.idempotencyKey) headers['privy-idempotency-key'] = options.idempotencyKey
    if (options.authorizer) {
      headers['privy-request-expiry'] = String(this.now() + (options.expiryMs ?? DEFAULT_EXPIRY_MS))
      const payload = formatRequestForAuthorizationSignature({
        version: 1,
        method: 'POST',
        url,
        body: JSON.parse(bodyText) as unknown,
        headers: {
          'privy-app-id': this.appId,
          'privy-idempotency-key': headers['privy-idempotency-key'],
          'privy-request-expiry': headers['privy-request-expiry'],
        },
      })
      const signatures = await options.authorizer.signatures(payload)
      if (signatures.length > 0) headers['privy-authorization-signature'] = signatures.join(',')
    }
    return this.#send({ method: 'POST', url, headers, body: bodyText, operation: options.operation, idempotent: options.idempotent })
  }

  /** GET with basic auth (Privy signs no GETs). */
  async get(path: string, operation: string): Promise<unknown> {
    return this.#send({ method: 'GET', url: `${this.apiUrl}${path}`, headers: {}, operation, idempotent: true })
  }

  async #send(request: { method: string; url: string; headers: Record<string, string>; body?: string; operation: string; idempotent: boolean }): Promise<unknown> {
    const headers = { ...request.headers, authorization: this.#basicAuth, 'privy-app-id': this.appId }
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#retry.maxAttempts
      let response: Response
      let text: string
      try {
        response = await this.#fetch(request.url, {
          method: request.method,
          headers,
          body: request.body,
          signal: AbortSignal.timeout(this.#timeoutMs),
        })
        // The timeout covers the body too: a body that stalls or a connection reset mid-body is
        // the same unknown outcome as no answer.
        text = await response.text()
      } catch (cause) {
        // Lost or timed out: only a request Privy deduplicates may be sent again.
        const error = new PrivyError(`Privy unreachable during ${request.operation}`, {
          code: 'PRIVY.NETWORK',
          retryable: true,
          hint: 'network path to PRIVY_API_URL (DNS, TLS, firewall); a request Privy deduplicates is sent again here with the same idempotency key.',
          details: cause instanceof Error ? cause.name : undefined,
          cause,
        })
        if (last || !request.idempotent) throw error
        await this.#sleep(this.#backoff(attempt))
        continue
      }
      let body: unknown
      try {
        body = text.length > 0 ? JSON.parse(text) : undefined
      } catch {
        body = undefined
      }
      if (response.ok) {
        if (body === undefined) {
          throw new PrivyError(`Privy answered ${request.operation} with a body that is not JSON`, { code: 'PRIVY.BAD_RESPONSE', retryable: true, hint: 'a proxy between this host and Privy may be rewriting responses.', status: response.status })
        }
        return body
      }
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), Date.now())
      const error = privyErrorFromResponse({ operation: request.operation, status: response.status, body, retryAfterMs })
      // 429 means not processed, so it is always safe; 5xx, 408 (a timeout in front of Privy) and
      // 409 (the same idempotency key still in progress) only when Privy deduplicates, as
      // @privy-io/node retries them.
      const unknownOutcome = response.status >= 500 || response.status === 408 || response.status === 409
      const mayRetry = response.status === 429 || (unknownOutcome && request.idempotent)
      if (last || !mayRetry) throw error
      const wait = retryAfterMs ?? this.#backoff(attempt)
      if (wait > this.#retry.maxDelayMs) throw error
      await this.#sleep(wait)
    }
  }

  /** Exponential backoff with full jitter, capped. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1))
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
  }

  toString(): string {
    return `PrivyApi(${this.apiUrl}, app ${this.appId}, secret [redacted])`
  }
  toJSON(): { apiUrl: string; appId: string } {
    return { apiUrl: this.apiUrl, appId: this.appId }
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }
}
