import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VenueError, VenueTransportError } from '../../src/core/errors/venue.js'
import { type HttpTarget, httpJson, httpTarget } from '../../src/venue/httpJson.js'

// A real HTTP server whose answer each test chooses, to see how every kind of answer is classified.
let answer: (request: IncomingMessage, body: string, response: ServerResponse) => void
const connections: string[] = []
const server = createServer(async (request, response) => {
  let body = ''
  for await (const chunk of request) body += chunk
  answer(request, body, response)
})
server.on('connection', (socket) => connections.push(`${socket.remotePort}`))
let http: HttpTarget
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  http = httpTarget({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 500 })
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const json = (response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers })
  response.end(JSON.stringify(value))
}

describe('httpJson over node:http', () => {
  it('sends the JSON body with its length and headers, answers the parsed JSON, and reuses one kept-alive connection', async () => {
    answer = (request, body, response) => json(response, 200, { method: request.method, body: JSON.parse(body), type: request.headers['content-type'], length: request.headers['content-length'], auth: request.headers['x-auth'] })
    const before = connections.length
    const first = await httpJson(http, '/v1/requests', { method: 'POST', body: JSON.stringify({ ü: 'é' }), headers: { 'x-auth': 'k' } })
    expect(first).toEqual({ method: 'POST', body: { ü: 'é' }, type: 'application/json', length: String(Buffer.byteLength('{"ü":"é"}')), auth: 'k' })
    answer = (request, _body, response) => json(response, 200, { method: request.method, length: request.headers['content-length'] ?? null })
    expect(await httpJson(http, '/v1/info')).toEqual({ method: 'GET', length: null })
    expect(connections.length - before).toBe(1)
  })

  it('replaces text Postgres cannot store (U+0000, a lone surrogate) in what the operator answers, in values and keys', async () => {
    // As an operator would send it: JSON escapes both.
    answer = (_request, _body, response) => json(response, 200, { fills: [{ fillId: 'f\ud800', note: 'a\u0000b', ['k\udc00']: 'pair \ud83d\ude00 kept' }] })
    expect(await httpJson(http, '/v1/fills?since=0')).toEqual({ fills: [{ fillId: 'f\ufffd', note: 'a\ufffdb', ['k\ufffd']: 'pair \ud83d\ude00 kept' }] })
  })

  it('turns a protocol error into a typed VenueError, with Retry-After in ms', async () => {
    answer = (_request, _body, response) => json(response, 429, { error: { code: 'RateLimited', message: 'slow down' } }, { 'retry-after': '2' })
    const error = await httpJson(http, '/v1/requests', { method: 'POST', body: '{}' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(VenueError)
    expect(error).toMatchObject({ venueCode: 'RateLimited', status: 429, retryAfterMs: 2000 })
  })

  it('answers InvalidRequest for a 4xx that is not a protocol error, and an unknown outcome for a 5xx without one', async () => {
    answer = (_request, _body, response) => { response.writeHead(400); response.end('<html>bad</html>') }
    await expect(httpJson(http, '/x')).rejects.toMatchObject({ venueCode: 'InvalidRequest', status: 400 })
    answer = (_request, _body, response) => json(response, 404, { message: 'no route' })
    await expect(httpJson(http, '/x')).rejects.toMatchObject({ venueCode: 'InvalidRequest', status: 404 })
    answer = (_request, _body, response) => { response.writeHead(502); response.end('bad gateway') }
    await expect(httpJson(http, '/x')).rejects.toBeInstanceOf(VenueTransportError)
  })

  it("reads a proxy's 429 without a protocol code as a rate limit (Retry-After in seconds or as a date), and its 408 as an unknown outcome", async () => {
    // A load balancer in front of the operator answers with its own HTML: not a verdict on the order.
    answer = (_request, _body, response) => { response.writeHead(429, { 'retry-after': '3' }); response.end('<html>Too Many Requests</html>') }
    await expect(httpJson(http, '/v1/requests', { method: 'POST', body: '{}' })).rejects.toMatchObject({ venueCode: 'RateLimited', status: 429, retryAfterMs: 3000 })
    const at = new Date(Date.now() + 10_000).toUTCString()
    answer = (_request, _body, response) => json(response, 429, { message: 'slow down' }, { 'retry-after': at })
    const dated = await httpJson(http, '/v1/requests', { method: 'POST', body: '{}' }).catch((e: unknown) => e)
    expect(dated).toMatchObject({ venueCode: 'RateLimited', status: 429 })
    expect((dated as VenueError).retryAfterMs).toBeGreaterThan(8_000)
    expect((dated as VenueError).retryAfterMs).toBeLessThanOrEqual(10_000)
    answer = (_request, _body, response) => { response.writeHead(429); response.end() }
    await expect(httpJson(http, '/v1/requests', { method: 'POST', body: '{}' })).rejects.toMatchObject({ venueCode: 'RateLimited', retryAfterMs: undefined })
    answer = (_request, _body, response) => { response.writeHead(408); response.end('<html>Request Timeout</html>') }
    await expect(httpJson(http, '/v1/requests', { method: 'POST', body: '{}' })).rejects.toBeInstanceOf(VenueTransportError)
  })

  it("reads a Retry-After date on the operator's clock (its Date header), not this host's: an hour apart, the wait is still the few seconds it asks", async () => {
    // The operator's clock runs an hour ahead of ours (a worker tolerates that: deadlines are signed on the operator's clock).
    const theirs = Date.now() + 3_600_000
    answer = (_request, _body, response) => json(response, 429, { error: { code: 'RateLimited', message: 'slow down' } },
      { date: new Date(theirs).toUTCString(), 'retry-after': new Date(theirs + 5_000).toUTCString() })
    const ahead = (await httpJson(http, '/v1/requests', { method: 'POST', body: '{}' }).catch((e: unknown) => e)) as VenueError
    expect(ahead).toMatchObject({ venueCode: 'RateLimited', status: 429 })
    expect(ahead.retryAfterMs).toBeGreaterThan(3_000)
    expect(ahead.retryAfterMs).toBeLessThanOrEqual(6_000)
    // An hour behind ours: the date is not read as long past (and so as no wait at all).
    const behind = Date.now() - 3_600_000
    answer = (_request, _body, response) => json(response, 429, { error: { code: 'RateLimited', message: 'slow down' } },
      { date: new Date(behind).toUTCString(), 'retry-after': new Date(behind + 5_000).toUTCString() })
    const late = (await httpJson(http, '/v1/requests', { method: 'POST', body: '{}' }).catch((e: unknown) => e)) as VenueError
    expect(late.retryAfterMs).toBeGreaterThan(3_000)
    expect(late.retryAfterMs).toBeLessThanOrEqual(6_000)
  })

  it('makes the outcome unknown when no answer comes in time, or the connection drops mid-body', async () => {
    answer = () => undefined
    await expect(httpJson(http, '/v1/requests', { method: 'POST', body: '{}' })).rejects.toThrow(/no response from the operator/)
    answer = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      response.write('{"receipt":')
      setTimeout(() => response.socket?.destroy(), 20)
    }
    const lost = await httpJson(http, '/v1/requests', { method: 'POST', body: '{}' }).catch((e: unknown) => e)
    expect(lost).toBeInstanceOf(VenueTransportError)
    expect(String((lost as Error).message)).toMatch(/response lost while reading/)
  })

  it('makes the outcome unknown when the body stalls past the timeout, and then takes the next request on a fresh connection', async () => {
    answer = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      response.write('{"receipt":')
    }
    const started = Date.now()
    const stalled = await httpJson(http, '/v1/requests', { method: 'POST', body: '{}' }).catch((e: unknown) => e)
    expect(stalled).toBeInstanceOf(VenueTransportError)
    expect(String((stalled as Error).message)).toMatch(/response lost while reading/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(http.timeoutMs - 5)
    answer = (_request, _body, response) => json(response, 200, { fine: true })
    expect(await httpJson(http, '/v1/info')).toEqual({ fine: true })
  })

  it('makes the outcome unknown when nothing listens', async () => {
    await expect(httpJson(httpTarget({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 500 }), '/v1/info')).rejects.toThrow(/no response from the operator/)
  })
})
