/**
 * The event stream consumer against an operator that misbehaves in ways the sandbox does not: a
 * seq it keeps skipping on every replay. A small SSE server on loopback stands in for it.
 */
import { getEventListeners } from 'node:events'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { type StreamEventsOptions, streamEvents } from '../../src/venue/streamEvents.js'
import type { VenueEvent } from '../../src/venue/types.js'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server ? server.close(resolve) : resolve(undefined))
})

/** Serves seq 1 (when asked from 0) and then seq 3 on every connection: seq 2 never comes. */
async function skippingOperator(): Promise<{ url: string; connections: () => number }> {
  let connections = 0
  server = createServer((request, response) => {
    connections++
    const since = BigInt(new URL(request.url!, 'http://x').searchParams.get('since') ?? '0')
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    const event = (seq: number): string => `id: ${seq}\ndata: ${JSON.stringify({ seq: String(seq), type: 'OrderAccepted', wallet: '0x0', at: 0, data: {} })}\n\n`
    response.write(`${since < 1n ? event(1) : ''}${event(3)}`)
    request.on('close', () => response.end())
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections }
}

/**
 * Serves `respond` on loopback and consumes its stream for `ms` (waits of 200 ms, then 400 ms, unless
 * `options` say otherwise): how many connections were made, and the errors the consumer was told.
 */
async function consumeFor(respond: (response: ServerResponse) => void, ms: number, options: Partial<StreamEventsOptions> = {}) {
  let connections = 0
  server = createServer((_request, response) => {
    connections++
    respond(response)
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const stop = new AbortController()
  const errors: string[] = []
  const consuming = streamEvents({
    baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, auth: () => ({}), since: 0n, signal: stop.signal,
    minBackoffMs: 100, maxBackoffMs: 400, random: () => 1,
    onEvents: async () => {},
    onError: (error) => { errors.push(String(error)) },
    ...options,
  })
  await new Promise((resolve) => setTimeout(resolve, ms))
  stop.abort()
  await consuming
  return { connections, errors }
}

it('backs off on a gap the replay does not fill, instead of reconnecting as fast as the operator answers', async () => {
  const operator = await skippingOperator()
  const stop = new AbortController()
  const delivered: string[] = []
  const errors: string[] = []
  const gaps: string[] = []
  const consuming = streamEvents({
    baseUrl: operator.url, auth: () => ({}), since: 0n, signal: stop.signal, minBackoffMs: 100, maxBackoffMs: 400, random: () => 1,
    onEvents: async (events: VenueEvent[]) => { delivered.push(...events.map((e) => e.seq)) },
    onGap: (expected, got) => { gaps.push(`${expected}→${got}`) },
    onError: (error) => { errors.push(String(error)) },
  })
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  stop.abort()
  await consuming
  // Event 1 once; the gap at 2 each connection.
  expect(delivered).toEqual(['1'])
  expect(new Set(gaps)).toEqual(new Set(['2→3']))
  // The first meeting reconnects at once (events lost in flight); from the second on the waits
  // double, 200 ms then 400 ms: a handful of connections in 1.5 s, not hundreds.
  expect(operator.connections()).toBeGreaterThanOrEqual(3)
  expect(operator.connections()).toBeLessThanOrEqual(8)
  // Each connection after the first met the same gap (the last one perhaps not yet when stopped).
  expect(errors.length).toBeGreaterThanOrEqual(operator.connections() - 2)
  expect(errors.length).toBeLessThanOrEqual(operator.connections() - 1)
  expect(errors[0]).toMatch(/expected seq 2, got 3/)
})

it('backs off on an answer that is not an event stream (a maintenance page answered 200), instead of reconnecting as fast as it comes', async () => {
  const { connections, errors } = await consumeFor((response) => {
    response.writeHead(200, { 'content-type': 'text/html' })
    response.end('<html><body>down for maintenance</body></html>')
  }, 1_500)
  // Waits of 200 ms, then 400 ms: a handful of connections in 1.5 s, not hundreds.
  expect(connections).toBeLessThanOrEqual(8)
  expect(errors[0]).toMatch(/text\/html/)
})

it('keeps no listener of its own on the caller\'s signal per reconnect, however long the operator fails', async () => {
  let connections = 0
  server = createServer((_request, response) => {
    connections++
    response.writeHead(503, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ error: { code: 'Unavailable', message: 'down' } }))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const stop = new AbortController()
  const consuming = streamEvents({
    baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, auth: () => ({}), since: 0n, signal: stop.signal,
    minBackoffMs: 1, maxBackoffMs: 2, random: () => 1,
    onEvents: async () => {},
  })
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const listeners = getEventListeners(stop.signal, 'abort').length
  stop.abort()
  await consuming
  expect(connections).toBeGreaterThan(20)
  // The connection's own listener, and the wait's while it waits: not one per failed reconnect.
  expect(listeners).toBeLessThanOrEqual(2)
})

it('backs off on an event stream that closes at once with no event (an operator shutting down), instead of reconnecting as fast as it answers', async () => {
  const { connections, errors } = await consumeFor((response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.end(': bye\n\n')
  }, 1_500)
  // Waits of 200 ms, then 400 ms: a handful of connections in 1.5 s, not hundreds.
  expect(connections).toBeGreaterThanOrEqual(3)
  expect(connections).toBeLessThanOrEqual(8)
  expect(errors[0]).toMatch(/closed at once, with no event/)
})

it('reconnects a stream that held before it dropped with the shortest wait, however many such drops came before', async () => {
  // A proxy cutting idle connections: each one held 150 ms, then cut.
  const { connections } = await consumeFor((response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.write(': open\n\n')
    setTimeout(() => response.destroy(), 150)
  }, 3_000, { maxBackoffMs: 5_000, heldConnectionMs: 100 })
  // 150 ms open + 200 ms wait each time: about 8 connections in 3 s. Had the waits kept doubling
  // (200, 400, 800, 1,600 ms), 4.
  expect(connections).toBeGreaterThanOrEqual(7)
})

/**
 * Serves seq 1, then seq 2 as a frame that is not JSON (with its SSE id, as PROTOCOL.md §7 has
 * every event, or without), then seq 3, on every connection from the start.
 */
async function unreadableOperator(withId: boolean): Promise<{ url: string; connections: () => number }> {
  let connections = 0
  server = createServer((request, response) => {
    connections++
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    const event = (seq: number): string => `id: ${seq}\ndata: ${JSON.stringify({ seq: String(seq), type: 'OrderAccepted', wallet: '0x0', at: 0, data: {} })}\n\n`
    const unreadable = `${withId ? 'id: 2\n' : ''}data: {"seq":"2","type":"OrderFilled","clientOrderId":"0x000000000000000000000000000000aa","at":NaN,"data":{"fillId":"F-2","note":"\\u0000"}}\n\n`
    response.write(`${event(1)}${unreadable}${event(3)}`)
    request.on('close', () => response.end())
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections }
}

async function consumeUnreadable(withId: boolean, ms: number) {
  const operator = await unreadableOperator(withId)
  const stop = new AbortController()
  const delivered: VenueEvent[] = []
  const gaps: string[] = []
  const unreadable: string[] = []
  let last = 0n
  const consuming = streamEvents({
    // Resumed from the last seq delivered, as the worker's cursor does.
    baseUrl: operator.url, auth: () => ({}), since: 0n, signal: stop.signal, minBackoffMs: 10, maxBackoffMs: 40, random: () => 1,
    onEvents: async (events: VenueEvent[]) => { delivered.push(...events); last = BigInt(events.at(-1)!.seq) },
    onGap: (expected, got) => { gaps.push(`${expected}→${got}`) },
    onUnreadable: (problem) => { unreadable.push(problem) },
  })
  await new Promise((resolve) => setTimeout(resolve, ms))
  stop.abort()
  await consuming
  return { delivered, gaps, connections: operator.connections(), last, unreadable }
}

it('hands over a frame it cannot read, met at its seq (its SSE id) on every replay, as a stand-in once met five times, and goes on past it', async () => {
  const { delivered, gaps, connections } = await consumeUnreadable(true, 1_500)
  expect(delivered.map((e) => [e.seq, e.type])).toEqual([['1', 'OrderAccepted'], ['2', 'UnreadableFrame'], ['3', 'OrderAccepted']])
  // Met on the first connection and four replays; the fifth meeting hands it over.
  expect(gaps).toEqual(['2→undefined', '2→undefined', '2→undefined', '2→undefined'])
  expect(connections).toBe(5)
  const standIn = delivered[1]!
  // What can be made out of it, for the audit trail and reconciliation; text Postgres cannot store replaced.
  expect(standIn.clientOrderId).toBe('0x000000000000000000000000000000aa')
  expect(standIn.data).toEqual({
    frame: '{"seq":"2","type":"OrderFilled","clientOrderId":"0x000000000000000000000000000000aa","at":NaN,"data":{"fillId":"F-2","note":"\\u0000"}}',
    problem: expect.stringMatching(/^not JSON: /),
    typeNamed: 'OrderFilled',
    fillId: 'F-2',
  })
})

it('never hands over a frame it cannot read that carries no SSE id: it cannot tell which seq it was; the seq left missing is a gap', async () => {
  const { delivered, gaps, connections, unreadable } = await consumeUnreadable(false, 1_000)
  expect(delivered.map((e) => e.seq)).toEqual(['1'])
  expect(connections).toBeGreaterThan(5)
  // Passed over, and seq 3 following seq 1 is the gap, met on every replay as one never sent.
  expect(new Set(gaps)).toEqual(new Set(['2→3']))
  expect(unreadable.length).toBe(gaps.length)
  expect(unreadable[0]).toBe('not JSON')
})

it('passes over a frame it cannot read that carries no SSE id (an operator greeting every connection so) and goes on with the events after it', async () => {
  // Every connection opens with a frame that is no event (no id, not JSON), then the events after
  // `since`, a heartbeat among them that is JSON without a seq (and without an id).
  let connections = 0
  server = createServer((request, response) => {
    connections++
    const since = Number(new URL(request.url!, 'http://x').searchParams.get('since') ?? '0')
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    const event = (seq: number): string => `id: ${seq}\ndata: ${JSON.stringify({ seq: String(seq), type: 'OrderAccepted', wallet: '0x0', at: 0, data: {} })}\n\n`
    const frames = [1, 2, 3].filter((seq) => seq > since).map(event)
    frames.splice(1, 0, 'data: {"type":"Heartbeat"}\n\n')
    response.write(`data: connected\n\n${frames.join('')}`)
    request.on('close', () => response.end())
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const stop = new AbortController()
  const delivered: string[] = []
  const gaps: string[] = []
  const unreadable: string[] = []
  const consuming = streamEvents({
    baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, auth: () => ({}), since: 0n, signal: stop.signal,
    minBackoffMs: 10, maxBackoffMs: 40, random: () => 1,
    onEvents: async (events: VenueEvent[]) => { delivered.push(...events.map((e) => e.seq)) },
    onGap: (expected, got) => { gaps.push(`${expected}→${got}`) },
    onUnreadable: (problem) => { unreadable.push(problem) },
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  stop.abort()
  await consuming
  // Before, each greeting was met as a gap at seq 1: the stream reconnected into it for good.
  expect(delivered).toEqual(['1', '2', '3'])
  expect(gaps).toEqual([])
  expect(connections).toBe(1)
  expect(unreadable).toEqual(['not JSON', 'no seq'])
})

it('drops a frame it cannot read whose SSE id is a seq already delivered (a replay corrupted) as it drops a readable duplicate, without reconnecting', async () => {
  // The first connection delivers seq 1 and 2, then drops. Every connection after it replays seq 2
  // (at-least-once, PROTOCOL.md §7) as a frame that is not JSON, with its SSE id, then sends seq 3.
  let connections = 0
  server = createServer((request, response) => {
    connections++
    const since = Number(new URL(request.url!, 'http://x').searchParams.get('since') ?? '0')
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    const event = (seq: number): string => `id: ${seq}\ndata: ${JSON.stringify({ seq: String(seq), type: 'OrderAccepted', wallet: '0x0', at: 0, data: {} })}\n\n`
    if (since === 0) return void response.end(`${event(1)}${event(2)}`)
    response.write(`id: ${since}\ndata: {"seq":"${since}","type":"OrderAccepted","at":NaN,"data":{}}\n\n${event(since + 1)}`)
    request.on('close', () => response.end())
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const stop = new AbortController()
  const delivered: VenueEvent[] = []
  const gaps: string[] = []
  const errors: string[] = []
  const unreadable: [string, bigint | undefined][] = []
  const consuming = streamEvents({
    baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, auth: () => ({}), since: 0n, signal: stop.signal,
    minBackoffMs: 10, maxBackoffMs: 40, random: () => 1,
    onEvents: async (events: VenueEvent[]) => { delivered.push(...events) },
    onGap: (expected, got) => { gaps.push(`${expected}→${got}`) },
    onError: (error) => { errors.push(String(error)) },
    onUnreadable: (problem, seq) => { unreadable.push([problem, seq]) },
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  stop.abort()
  await consuming
  // Before, the corrupt replay of seq 2 was met as a gap at seq 3 on every connection, backed off
  // from the second on: seq 3, behind it, never came.
  expect(delivered.map((e) => [e.seq, e.type])).toEqual([['1', 'OrderAccepted'], ['2', 'OrderAccepted'], ['3', 'OrderAccepted']])
  expect(gaps).toEqual([])
  expect(errors).toEqual([])
  expect(connections).toBe(2)
  // Told with why and the seq it repeats, none of its text.
  expect(unreadable).toEqual([['not JSON', 2n]])
})
