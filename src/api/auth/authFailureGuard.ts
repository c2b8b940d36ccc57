import type { FastifyRequest } from 'fastify'
import { ApiError, UnauthorizedError } from '../errors.js'

/** An `onRequest` hook that checks the request's credentials, throwing `UnauthorizedError` when they fail. */
export type AuthHook = (request: FastifyRequest) => Promise<void>

/** Wraps an authentication hook; `exempt` requests are checked even while their address is refused. */
export type AuthFailureGuard = (authenticate: AuthHook, exempt?: (request: FastifyRequest) => boolean) => AuthHook

/** Client addresses counted at once; past it the oldest count is dropped (that address starts again). */
const ADDRESSES_COUNTED = 10_000
const WINDOW_MS = 60_000

/**
 * Counts failed authentications (a 401: a key unknown, revoked or malformed, a wrong admin or
 * metrics token) per client address (`request.ip`: the peer, or the client a trusted proxy names,
 * `TRUST_PROXY`) in a fixed minute, in this API process. Once an address has failed `perMinute`
 * times, its requests are refused 429 `API.AUTH_RATE_LIMITED` with Retry-After until the minute ends,
 * before their credentials are looked at: guessing the admin token (chosen by a person) or
 * flooding Postgres with key lookups costs the guesser a minute per `perMinute` tries. Requests
 * that pass are not counted. `exempt` ones (a tenant's halts and cancels) are still checked and
 * served with valid credentials: an API key cannot be guessed (32 random bytes), and a tenant
 * sharing an address with a broken client must still be able to stop trading. `perMinute` 0
 * counts nothing.
 */
export function authFailureGuard(perMinute: number, now: () => number): AuthFailureGuard {
  const windows = new Map<string, { start: number; failures: number }>()
  const current = (address: string, at: number) => {
    const window = windows.get(address)
    if (window && at - window.start < WINDOW_MS) return window
    if (window) windows.delete(address)
    return undefined
  }
  const countFailure = (request: FastifyRequest, at: number) => {
    let window = current(request.ip, at)
    if (!window) {
      if (windows.size >= ADDRESSES_COUNTED) windows.delete(windows.keys().next().value!)
      window = { start: at, failures: 0 }
      windows.set(request.ip, window)
    }
    window.failures++
    if (window.failures === perMinute) {
      request.log.warn({ clientAddress: request.ip, failures: window.failures }, 'failed authentications from one address reached the limit; its requests are refused until the minute ends')
    }
  }
  return (authenticate, exempt) => {
    if (perMinute === 0) return authenticate
    return async (request) => {
      const at = now()
      const window = current(request.ip, at)
      if (window && window.failures >= perMinute && !exempt?.(request)) {
        const seconds = Math.max(1, Math.ceil((window.start + WINDOW_MS - at) / 1000))
        throw new ApiError(429, 'API.AUTH_RATE_LIMITED', `this address failed to authenticate ${window.failures} times in this minute; retry in ${seconds} s`, {
          field: 'authorization',
          rule: `at most ${perMinute} failed authentications a minute from one client address`,
          headers: { 'retry-after': String(seconds) },
          retryable: true,
        })
      }
      try {
        await authenticate(request)
      } catch (error) {
        if (error instanceof UnauthorizedError) countFailure(request, at)
        throw error
      }
    }
  }
}
