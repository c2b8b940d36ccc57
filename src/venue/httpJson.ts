import { type IncomingMessage, Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
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
 * Uses node:http with keep-alive agents rather than `fetch`: no WHATWG
 * Request/Response/streams per call, a fraction of `fetch`'s CPU per request,
 * and every order is one request.
 */
export async function httpJson<T>(options: HttpOptions, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<T> {
  const method = init.method ?? 'GET'
  let response: IncomingMessage
  try {
    response = await send(new URL(path, options.baseUrl), method, {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(init.body)) }),
      ...init.headers,
    }, init.body, AbortSignal.timeout(options.timeoutMs))
  } catch (cause) {
    throw new VenueTransportError(`${method} ${path}: no response from the operator`, { cause })
  }
  const status = response.statusCode ?? 0
  const ok = status >= 200 && status < 300
  let text: string
  try {
    const chunks: Buffer[] = []
    // Rejects when the connection closes before the body ends, or the timeout aborts it.
    for await (const chunk of response) chunks.push(chunk as Buffer)
    text = Buffer.concat(chunks).toString('utf8')
  } catch (cause) {
    throw new VenueTransportError(`${method} ${path}: response lost while reading`, { cause })
  }
  let json: unknown
  try {
    json = text.length ? JSON.parse(text) : undefined
  } catch (cause) {
    if (ok || status >= 500) throw new VenueTransportError(`${path}: unreadable response (HTTP ${status})`, { cause })
    throw new VenueError('InvalidRequest', `HTTP ${status} with a body that is not JSON`, { status, cause })
  }
  if (ok) return json as T
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
  if (error && isVenueErrorCode(error.code)) {
    const retryAfter = Number(response.headers['retry-after'])
    throw new VenueError(error.code, String(error.message ?? ''), {
      status,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    })
  }
  if (status >= 500) throw new VenueTransportError(`${path}: HTTP ${status} without a protocol error code`)
  throw new VenueError('InvalidRequest', `HTTP ${status} without a protocol error code`, { status })
}

// An idle pooled connection is dropped after 4 s, before servers' usual 5 s keep-alive timeout, so a
// request rarely meets a connection the server is closing (if it does, the outcome is unknown and
// resolved as any lost response is: the same bytes resent).
const agents = { http: new HttpAgent({ keepAlive: true, timeout: 4_000 }), https: new HttpsAgent({ keepAlive: true, timeout: 4_000 }) }

/** Sends the request; answers once the response's status and headers arrived. */
function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:'
    const request = (secure ? httpsRequest : httpRequest)(url, { method, headers, signal, agent: secure ? agents.https : agents.http }, resolve)
    request.on('error', reject)
    request.end(body)
  })
}
