import { isIP } from 'node:net'
import type { FastifyRequest } from 'fastify'
import ipaddr from 'ipaddr.js'
import { ApiError, UnauthorizedError } from '../errors.js'

/** A synchronous check of a request's token: throws `UnauthorizedError` when it fails. */
export type TokenCheck = (request: FastifyRequest) => void

/** Turns a token check into an `onRequest` hook. */
export type TokenGuard = (check: TokenCheck) => (request: FastifyRequest) => Promise<void>

/** The check alone: nothing counted. */
export const unguarded: TokenGuard = (check) => async (request) => check(request)

/** Client addresses counted at once; past it the oldest count is dropped (that address starts again). */
const ADDRESSES_COUNTED = 10_000
const WINDOW_MS = 60_000

/**
 * Counts the failed checks of a token a person chose (ADMIN_TOKEN, METRICS_TOKEN) per client
 * (`clientOf`) in a fixed minute, in this API process. Once a client has failed `perMinute` times,
 * its requests to the routes behind those tokens are refused 429 `API.AUTH_RATE_LIMITED` with
 * Retry-After until the minute ends, before the token is looked at: an online guess of the token
 * costs a minute per `perMinute` tries. Requests that pass are not counted. The check and the count
 * run in one synchronous step, so requests arriving together (pipelined on one connection) cannot
 * all be checked before the first failure is counted. `perMinute` 0 counts nothing.
 *
 * Tenant API keys are not guarded: they cannot be guessed (32 random bytes), and a count there
 * would let anyone refuse every tenant behind the same address (a balancer's) for a minute.
 */
export function tokenFailureGuard(perMinute: number, now: () => number): TokenGuard {
  if (perMinute === 0) return unguarded
  const windows = new Map<string, { start: number; failures: number }>()
  const current = (client: string, at: number) => {
    const window = windows.get(client)
    if (window && at - window.start < WINDOW_MS) return window
    if (window) windows.delete(client)
    return undefined
  }
  const countFailure = (request: FastifyRequest, client: string, at: number) => {
    let window = current(client, at)
    if (!window) {
      if (windows.size >= ADDRESSES_COUNTED) windows.delete(windows.keys().next().value!)
      window = { start: at, failures: 0 }
      windows.set(client, window)
    }
    window.failures++
    if (window.failures === perMinute) {
      request.log.warn({ client, failures: window.failures }, 'failed token checks from one client reached the limit; its admin and metrics requests are refused until the minute ends')
    }
  }
  return (check) => async (request) => {
    const at = now()
    // No address when the client has already gone: counted together, as one unknown client.
    const client = clientOf(request.ip ?? 'unknown')
    const window = current(client, at)
    if (window && window.failures >= perMinute) {
      const seconds = Math.max(1, Math.ceil((window.start + WINDOW_MS - at) / 1000))
      throw new ApiError(429, 'API.AUTH_RATE_LIMITED', `this client failed the token check ${window.failures} times in this minute; retry in ${seconds} s`, {
        field: 'authorization',
        rule: `at most ${perMinute} failed token checks a minute from one client address`,
        headers: { 'retry-after': String(seconds) },
        retryable: true,
      })
    }
    try {
      check(request)
    } catch (error) {
      if (error instanceof UnauthorizedError) countFailure(request, client, at)
      throw error
    }
  }
}

/**
 * Whom a failure is counted against: the IPv4 address (an IPv4-mapped IPv6 one read as IPv4, a
 * port a proxy appended dropped), or the /64 of an IPv6 one, which one host holds whole and could
 * otherwise change with every try.
 */
export function clientOf(ip: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(ip)
  const address = (bracketed ? bracketed[1]! : /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(ip)?.[1] ?? ip).replace(/%.*$/, '')
  if (isIP(address) === 0) return address
  // ipaddr.js, as proxy-addr (Fastify's trustProxy) reads addresses: an IPv4-mapped one as IPv4.
  const parsed = ipaddr.process(address)
  if (parsed.kind() === 'ipv4') return parsed.toString()
  return `${(parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`
}
