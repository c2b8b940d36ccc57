import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { SandboxEvent } from '../engine/types.js'
import { type SandboxState, walletOf } from '../state.js'
import { authenticateRead } from '../verify/authenticateRead.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'
import { assertOwnWallet, maybeUnavailable, sinceParameter } from './routeContext.js'

type Stream = { response: ServerResponse; delegation: KnownDelegation; dropTimer: NodeJS.Timeout | undefined; close(): void }

/** The open SSE streams, so faults, keep-alives, session ends and shutdown can reach them. */
export type EventStreams = {
  /** Re-arms every stream's drop timer after `streamDropEveryMs` changed. */
  rearm(): void
  closeAll(): void
  readonly size: number
}

/**
 * `GET /v1/events?since=N` (PROTOCOL.md §6–7): every event with seq > N, then
 * live ones. `Last-Event-ID`, when present, wins over `since` (a reconnecting
 * EventSource sends it with the original URL). Frames carry `id: <seq>` and
 * `data: <event JSON>` with no `event:` name, so a plain `onmessage` sees them.
 * The stream ends after the SessionRevoked / SessionExpired of the delegation
 * that opened it.
 */
export function registerEventStream(app: FastifyInstance, state: SandboxState): EventStreams {
  const streams = new Set<Stream>()

  const arm = (stream: Stream): void => {
    clearTimeout(stream.dropTimer)
    const every = state.faults.streamDropEveryMs
    stream.dropTimer = every > 0 ? setTimeout(() => stream.response.destroy(), every) : undefined
  }

  const keepAlive = setInterval(() => {
    for (const stream of streams) stream.response.write(': keep-alive\n\n')
  }, state.config.keepAliveMs)
  keepAlive.unref()

  const onSessionEnded = (delegation: KnownDelegation): void => {
    for (const stream of streams) if (stream.delegation === delegation) stream.close()
  }
  state.sessionEnded.add(onSessionEnded)
  app.addHook('onClose', async () => {
    clearInterval(keepAlive)
    state.sessionEnded.delete(onSessionEnded)
    for (const stream of streams) stream.close()
  })

  app.get<{ Querystring: { since?: string; wallet?: string } }>('/v1/events', async (request, reply) => {
    maybeUnavailable(state)
    const delegation = authenticateRead(state, request.headers)
    assertOwnWallet(delegation, request.query.wallet)
    const lastEventId = request.headers['last-event-id']
    const since = typeof lastEventId === 'string' && lastEventId !== '' ? sinceParameter('Last-Event-ID', lastEventId) : sinceParameter('since', request.query.since)
    const events = walletOf(state, delegation.walletKey).events

    reply.hijack()
    const response = reply.raw
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    response.write('retry: 1000\n\n')
    let closed = false
    const write = (event: SandboxEvent): void => {
      // A `since` beyond the head holds for live events too: only seq > N is sent (PROTOCOL.md §6).
      if (closed || Number(event.seq) <= since) return
      if (state.faults.skipEventSeq > 0 && event.seq === String(state.faults.skipEventSeq)) return
      const frame = `id: ${event.seq}\ndata: ${JSON.stringify(state.faults.protocolEventData ? withProtocolData(event) : event)}\n\n`
      response.write(frame)
      const duplicate = state.faults.duplicateEvents
      if (duplicate > 0 && state.random() < duplicate) response.write(frame)
    }
    // Replay and subscribe in one synchronous step, so no event falls between them.
    for (const event of events.since(since)) write(event)
    const unsubscribe = events.subscribe(write)
    // Detach at once, not on 'close': a write after end() would be an unhandled 'error'.
    const detach = (): void => {
      if (closed) return
      closed = true
      unsubscribe()
      clearTimeout(stream.dropTimer)
      streams.delete(stream)
    }
    const stream: Stream = {
      response,
      delegation,
      dropTimer: undefined,
      close: () => {
        detach()
        response.end()
      },
    }
    streams.add(stream)
    arm(stream)
    response.on('close', detach)
    response.on('error', detach)
    return reply
  })

  return {
    rearm: () => streams.forEach(arm),
    closeAll: () => streams.forEach((stream) => stream.close()),
    get size() {
      return streams.size
    },
  }
}

/** The data fields PROTOCOL.md §7 names per event type; an event of another type carries none. */
const protocolDataFields: Partial<Record<SandboxEvent['type'], readonly string[]>> = {
  OrderFilled: ['fillId', 'price', 'size', 'fee', 'remaining'],
  OrderCancelled: ['reason'],
}

/** The event as an operator holding to PROTOCOL.md's text sends it (`protocolEventData`). */
function withProtocolData(event: SandboxEvent): SandboxEvent {
  const fields = protocolDataFields[event.type] ?? []
  return { ...event, data: Object.fromEntries(fields.filter((field) => field in event.data).map((field) => [field, event.data[field]])) }
}
