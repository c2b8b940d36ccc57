import { VenueError, VenueTransportError, isVenueErrorCode } from '../core/errors/venue.js'

export type HttpOptions = {
  baseUrl: string
  /** Per-request timeout; past it the outcome is unknown. */
  timeoutMs: number
}

/**
 * One HTTP exchange with the operator. Answers with parsed JSON, a typed
 * VenueError for a protocol error, or a VenueTransportError when the outcome
 * is unknown (timeout, reset, lost or unreadable response, unexpected 5xx).
 */
export async function httpJson<T>(options: HttpOptions, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(new URL(path, options.baseUrl), {
      method: init.method ?? 'GET',
      body: init.body,
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      signal: AbortSignal.timeout(options.timeoutMs),
    })
  } catch (cause) {
    throw new VenueTransportError(`${init.method ?? 'GET'} ${path}: no response from the operator`, { cause })
  }
  let text: string
  try {
    text = await response.text()
  } catch (cause) {
    throw new VenueTransportError(`${init.method ?? 'GET'} ${path}: response lost while reading`, { cause })
  }
  let json: unknown
  try {
    json = text.length ? JSON.parse(text) : undefined
  } catch (cause) {
    if (response.ok || response.status >= 500) throw new VenueTransportError(`${path}: unreadable response (HTTP ${response.status})`, { cause })
    throw new VenueError('InvalidRequest', `HTTP ${response.status} with a body that is not JSON`, { status: response.status, cause })
  }
  if (response.ok) return json as T
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
  if (error && isVenueErrorCode(error.code)) {
    const retryAfter = Number(response.headers.get('retry-after'))
    throw new VenueError(error.code, String(error.message ?? ''), {
      status: response.status,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    })
  }
  if (response.status >= 500) throw new VenueTransportError(`${path}: HTTP ${response.status} without a protocol error code`)
  throw new VenueError('InvalidRequest', `HTTP ${response.status} without a protocol error code`, { status: response.status })
}
