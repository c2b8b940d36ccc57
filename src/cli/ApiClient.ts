import { randomUUID } from 'node:crypto'
import { CliError, exitCodes } from './errors.js'
import { parseRetryAfterMs } from '../core/parseRetryAfter.js'

export type ApiClientOptions = {
  baseUrl: string
  apiKey?: string
  adminToken?: string
  /** Where the key and the token came from, named in errors about them (default the environment variables). */
  apiKeySource?: string
  adminTokenSource?: string
  timeoutMs?: number
  /** Attempts after a transport failure (same Idempotency-Key, so a POST never acts twice). Default 2. */
  retries?: number
}

type ErrorBody = NonNullable<CliError['body']>

/**
 * What fetch puts in a header as given: printable ASCII. Anything else (a line break pasted with the
 * key, a control character, a letter outside Latin-1) fetch refuses with an error quoting the header,
 * key and all, or sends as bytes the API reads otherwise.
 */
const SENDABLE_CREDENTIAL = /^[\x20-\x7e]+$/

/**
 * A credential without the whitespace around it (a key file's last line break, a copied line's):
 * fetch drops it from a header value's ends anyway, so such a key always worked and still does; a
 * line break inside it is still refused (`SENDABLE_CREDENTIAL`).
 */
function trimmed(credential: string | undefined): string | undefined {
  return credential?.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')
}

/** Rows per page when a command reads a whole list (the API's largest `limit`). */
const PAGE = 500
/** How many answers asking for a retry (`Retry-After`) a call waits out before it reports the last one. */
const MAX_RETRY_AFTER_WAITS = 10

/** The wait a 409, 429 or 503 asks for with `Retry-After` (at most 10 s), or undefined. */
function retryAfterMs(response: Response): number | undefined {
  if (![409, 429, 503].includes(response.status)) return undefined
  const ms = parseRetryAfterMs(response.headers.get('retry-after'), Date.now())
  return ms === undefined ? undefined : Math.min(ms, 10_000)
}

/**
 * The CLI's HTTP client for a running API. Every POST carries a fresh
 * Idempotency-Key, reused across the retries of that one call (after a transport
 * failure, and after an answer asking for a retry with Retry-After). Failures become
 * CliErrors whose exit code says what happened: 2 for input the API refused
 * (400/422), 1 for any other refusal, 3 when the API cannot be reached.
 */
export class ApiClient {
  readonly baseUrl: string
  readonly #apiKey: string | undefined
  readonly #apiKeySource: string
  readonly #adminToken: string | undefined
  readonly #adminTokenSource: string
  readonly #timeoutMs: number
  readonly #retries: number

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.#apiKey = trimmed(options.apiKey)
    this.#apiKeySource = options.apiKeySource ?? 'DEPUTY_API_KEY'
    this.#adminToken = trimmed(options.adminToken)
    this.#adminTokenSource = options.adminTokenSource ?? 'DEPUTY_ADMIN_TOKEN'
    this.#timeoutMs = options.timeoutMs ?? 30_000
    this.#retries = options.retries ?? 2
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]))
    return this.send<T>('GET', params.size ? `${path}?${params}` : path)
  }
  /** Every row of a list the API pages with `limit` and `after` (the last row's id), page by page. */
  async getAll<T extends { id: string }>(path: string, field: string, query: Record<string, string | number | undefined> = {}): Promise<T[]> {
    const all: T[] = []
    for (;;) {
      const page = (await this.get<Record<string, T[]>>(path, { ...query, limit: PAGE, after: all.at(-1)?.id }))[field] ?? []
      all.push(...page)
      if (page.length < PAGE) return all
    }
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.send<T>('POST', path, body)
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PATCH', path, body)
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PUT', path, body)
  }
  delete<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    const params = new URLSearchParams(query)
    return this.send<T>('DELETE', params.size ? `${path}?${params}` : path)
  }
  /** Admin endpoints authenticate with the admin token instead of the API key. */
  admin(): ApiClient {
    if (!this.#adminToken) throw new CliError(exitCodes.usage, 'set DEPUTY_ADMIN_TOKEN (or pass --admin-token) for admin commands', { code: 'CLI.NO_ADMIN_TOKEN' })
    return new ApiClient({ baseUrl: this.baseUrl, apiKey: this.#adminToken, apiKeySource: this.#adminTokenSource, timeoutMs: this.#timeoutMs, retries: this.#retries })
  }

  async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.#apiKey) throw new CliError(exitCodes.usage, 'set DEPUTY_API_KEY (or pass --api-key) to talk to the API', { code: 'CLI.NO_API_KEY' })
    if (!SENDABLE_CREDENTIAL.test(this.#apiKey)) {
      // Named, never quoted: the value is a secret.
      throw new CliError(exitCodes.usage, `${this.#apiKeySource}: must be printable ASCII (no line break, control character or non-ASCII letter); check it was copied whole and alone`, { code: 'CLI.INVALID_CREDENTIAL' })
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (method === 'POST') headers['idempotency-key'] = randomUUID()
    let response: Response | undefined
    let lastError: unknown
    for (let attempt = 0, waits = 0; attempt <= this.#retries && !response;) {
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.#timeoutMs),
        })
      } catch (error) {
        lastError = error
        attempt++
        if (attempt <= this.#retries) await new Promise((r) => setTimeout(r, 200 * attempt))
        continue
      }
      // An answer asking to be asked again (the first attempt under this key still running after its
      // answer timed out here; the database briefly unavailable) is asked again under the same key,
      // which answers what that attempt did. Reported instead, it left the user to run the command
      // again under a new key, and a placement that had gone through was placed twice.
      const wait = waits < MAX_RETRY_AFTER_WAITS ? retryAfterMs(response) : undefined
      if (wait !== undefined) {
        await response.body?.cancel()
        response = undefined
        waits++
        await new Promise((r) => setTimeout(r, wait))
      }
    }
    if (!response) {
      // Never quoting the key, whatever the transport's error says (the key is checked printable above).
      const cause = (lastError instanceof Error ? (lastError.cause instanceof Error ? lastError.cause.message : lastError.message) : String(lastError))
        .replaceAll(this.#apiKey, '[redacted]')
      throw new CliError(exitCodes.unreachable, `cannot reach the API at ${this.baseUrl}: ${cause}`, { code: 'CLI.UNREACHABLE', cause: lastError })
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = undefined
    }
    if (response.ok) return parsed as T
    const error = (parsed as { error?: ErrorBody } | undefined)?.error ?? { code: `HTTP_${response.status}`, message: text.slice(0, 200) || response.statusText }
    const where = error.field ? `${error.field}: ${error.rule ?? error.message}` : error.message
    const exitCode = response.status === 400 || response.status === 422 ? exitCodes.usage : exitCodes.failed
    throw new CliError(exitCode, `${where} (${error.code}, HTTP ${response.status})`, { status: response.status, body: error })
  }
}
