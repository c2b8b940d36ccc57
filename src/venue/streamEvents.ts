import { createParser } from 'eventsource-parser'
import { VenueError, isVenueErrorCode } from '../core/errors/venue.js'
import { parseStorableJson } from '../core/text/storableText.js'
import type { ReadAuth, VenueEvent } from './types.js'
import { type UnreadableFrame, unreadableFrameStandIn } from './unreadableFrame.js'

export type StreamEventsOptions = {
  baseUrl: string
  auth: ReadAuth
  /** The last seq already stored; the stream resumes after it. */
  since: bigint
  /** Called once per event, strictly in seq order with no gaps. Awaited before the next. */
  onEvent?: (event: VenueEvent) => Promise<void>
  /**
   * Instead of `onEvent`: called with every event that arrived together (at most `maxBatch`),
   * consecutive and in seq order. A consumer that stores them in one transaction pays its
   * overhead once per batch rather than once per event. Awaited before the next batch.
   */
  onEvents?: (events: VenueEvent[]) => Promise<void>
  /** Largest batch handed to `onEvents` (default 200). */
  maxBatch?: number
  signal: AbortSignal
  /** Reconnect delay bounds (exponential with full jitter). */
  minBackoffMs?: number
  maxBackoffMs?: number
  /**
   * A connection that stayed open this long (default 1 s) was a healthy one: the failures before
   * it are forgotten, and a drop after it is reconnected with the shortest backoff. One that
   * closed sooner, even cleanly, without an event is a failure, backed off: an operator that ends
   * every stream at once (shutting down, a proxy) would otherwise be asked again as fast as it answers.
   */
  heldConnectionMs?: number
  /**
   * Reconnect when nothing at all (no event, no keep-alive comment) has arrived for this long,
   * from the request on (default 60 s): a connection that went silent without closing (the
   * operator's host vanished, a NAT or load balancer dropped it) would otherwise hold the stream
   * until fetch's own body timeout, five minutes. On an operator that sends no keep-alives an
   * idle wallet's stream reconnects this often, which costs one request and loses nothing.
   */
  idleTimeoutMs?: number
  /** Told when the stream is dropped for silence (`idleTimeoutMs`), before it reconnects. */
  onIdle?: (idleMs: number) => void
  /**
   * Told when the operator refused the read's deadline: as past (DeadlineExpired), or with
   * InvalidRequest, which a read's own headers earn only with a deadline too far ahead. This
   * side's clock has stepped since the offset to the operator's was measured. Awaited before the
   * reconnect, which would otherwise sign on the same wrong clock, and be refused, every time.
   */
  onDeadlineRefused?: () => Promise<void>
  /** Observability hooks. */
  onConnect?: (since: bigint) => void
  /** `got` is undefined when the frame in the expected one's place could not be read (not JSON, no seq). */
  onGap?: (expected: bigint, got: bigint | undefined) => void
  /**
   * A frame that cannot be read (not JSON, no seq) whose SSE `id` (PROTOCOL.md §7: the seq) is the
   * seq expected next, met there this many times in a row (default 5: the first connection and four
   * replays, a few seconds of backoff), is handed over in its place as a stand-in event
   * (`unreadableFrameStandIn`, type UnreadableFrame), which the consumer stores and passes over: the
   * stream resumes after the last seq delivered, so the operator sends it again on every reconnect,
   * and every later event of the wallet would wait behind it for good. 0: never.
   */
  skipUnreadableAfter?: number
  /**
   * Told of a frame that cannot be read (not JSON, no seq) and is passed over where it stands, with
   * why (`not JSON`, `no seq`) and none of its text (which may be anything):
   * - one that carries no SSE `id` (`seq` undefined; PROTOCOL.md §7 gives every event one: this is
   *   no event of the stream, or one that cannot be placed): the frames after it go on, and a seq
   *   it leaves missing is met as a gap by the next event (`onGap`, the stream resumed before it);
   * - one whose SSE `id` is a seq at or below the last delivered (`seq`: a replay, delivery being
   *   at-least-once, that came corrupted): that seq was delivered already, so it is dropped as a
   *   readable duplicate is, nothing lost, neither a gap nor counted towards `skipUnreadableAfter`.
   */
  onUnreadable?: (problem: string, seq?: bigint) => void
  onError?: (error: unknown) => void
  random?: () => number
}

class GapError extends Error {}

/** A frame in the queue: an event, or one that could not be read. */
type Frame = { event: VenueEvent } | { unreadable: UnreadableFrame; reason: string }
class SilentStreamError extends Error {}

export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000

/**
 * Consumes a wallet's SSE stream (PROTOCOL.md §6–§7) until `signal` aborts.
 * Delivery is at-least-once and may re-order across reconnects, so it drops
 * events at or below the last delivered seq, and on a jump it drops the
 * connection and resumes from the last delivered seq (the operator replays).
 * Authentication failures (the session is gone) end the stream with the error.
 * A connection silent for `idleTimeoutMs` is dropped and opened again.
 */
export async function streamEvents(options: StreamEventsOptions): Promise<void> {
  const { signal } = options
  const minBackoff = options.minBackoffMs ?? 100
  const maxBackoff = options.maxBackoffMs ?? 5_000
  const random = options.random ?? Math.random
  const maxBatch = options.maxBatch ?? 200
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS
  const heldConnectionMs = options.heldConnectionMs ?? 1_000
  const skipUnreadableAfter = options.skipUnreadableAfter ?? 5
  if (!options.onEvent && !options.onEvents) throw new TypeError('streamEvents: give onEvent or onEvents')
  let last = options.since
  let failures = 0
  // Where the last gap was met: the same gap again is not events lost in flight (the replay from
  // `last` would have carried them) but an operator that keeps skipping or corrupting that seq.
  let gapAt: bigint | undefined
  // The unreadable frame last met at the seq expected next, and how many times in a row.
  let unreadableAt: { seq: bigint; meetings: number } | undefined
  while (!signal.aborted) {
    const connection = new AbortController()
    const abortConnection = () => connection.abort()
    signal.addEventListener('abort', abortConnection, { once: true })
    // Refreshed by every chunk that arrives: silence this long drops the connection. Time spent
    // applying events is this side's, not the connection's silence.
    let applying = false
    // When the answer turned out to be an event stream; whether it held long enough (see heldConnectionMs).
    let openedAt: number | undefined
    const held = () => openedAt !== undefined && performance.now() - openedAt >= heldConnectionMs
    const silence = setTimeout(() => {
      if (applying) silence.refresh()
      else connection.abort(new SilentStreamError())
    }, idleTimeoutMs)
    try {
      options.onConnect?.(last)
      const response = await fetch(new URL(`/v1/events?since=${last}`, options.baseUrl), {
        headers: { accept: 'text/event-stream', ...(await options.auth()) },
        signal: connection.signal,
      })
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } } | undefined
        const code = body?.error?.code
        if (isVenueErrorCode(code) && (code === 'SessionUnauthorized' || code === 'SignerMismatch')) {
          throw new VenueError(code, String(body?.error?.message ?? ''), { status: response.status })
        }
        if (code === 'DeadlineExpired' || code === 'InvalidRequest') await options.onDeadlineRefused?.()
        throw new Error(`event stream answered HTTP ${response.status}`)
      }
      // Not a stream (a proxy's or a maintenance page's 200): it would end at once with no event and be
      // opened again as fast as it answers. A failure, backed off like any other.
      const contentType = response.headers.get('content-type') ?? ''
      if (!/^text\/event-stream\s*(;|$)/i.test(contentType)) throw new Error(`event stream answered ${contentType || 'no content type'}, not text/event-stream`)
      openedAt = performance.now()
      const since = last
      const queue: Frame[] = []
      const parser = createParser({
        onEvent(message) {
          if (!message.data) return
          try {
            // Postgres cannot store U+0000 or a lone surrogate (JSON escapes both): one would make the
            // event unstorable, and its wallet's stream would stop at it. Replaced on arrival (U+FFFD).
            const event = parseStorableJson(message.data) as VenueEvent | null
            // Without a seq an event cannot be placed in the stream: treated as a corrupt frame.
            if (typeof event?.seq === 'number' && Number.isSafeInteger(event.seq)) event.seq = String(event.seq)
            if (typeof event?.seq !== 'string' || !/^\d+$/.test(event.seq)) throw new Error('no seq')
            queue.push({ event })
          } catch (error) {
            // With an id past the last seq delivered, a corrupt frame is treated like a gap: the replay
            // will carry it again (or, for good, skipUnreadableAfter). Without one, or with the id of a
            // seq delivered already (a duplicate), it is passed over (onUnreadable).
            const problem = error instanceof SyntaxError ? `not JSON: ${error.message}` : error instanceof Error ? error.message : String(error)
            // JSON.parse's message quotes some of the text: `reason` (for logs) quotes none of it.
            queue.push({ unreadable: { id: message.id, text: message.data, problem }, reason: error instanceof SyntaxError ? 'not JSON' : problem })
          }
        },
      })
      const decoder = new TextDecoder()
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        silence.refresh()
        parser.feed(decoder.decode(chunk, { stream: true }))
        while (queue.length) {
          // Take the run of consecutive events that arrived, stopping at a gap or a corrupt frame.
          const batch: VenueEvent[] = []
          let head = last
          let gap: GapError | undefined
          while (queue.length && batch.length < maxBatch) {
            const frame = queue.shift()!
            if ('unreadable' in frame) {
              const next = head + 1n
              // Without an id it holds no place: passed over. Had it stood for an event, the event
              // after it jumps the seq (a gap, as for one lost); had it not (a greeting, a heartbeat
              // without a seq), nothing is missing. Met as a gap itself, an operator sending it on
              // every connection would hold the wallet's events behind it for good.
              if (frame.unreadable.id === undefined) {
                options.onUnreadable?.(frame.reason)
                continue
              }
              // Its SSE id places it at or below the last seq delivered: a duplicate (a replay after
              // a reconnect that came corrupted) of an event already delivered, dropped as a readable
              // one is. Met as a gap, the replay would carry it again on every reconnect.
              if (/^\d+$/.test(frame.unreadable.id) && BigInt(frame.unreadable.id) <= head) {
                options.onUnreadable?.(frame.reason, BigInt(frame.unreadable.id))
                continue
              }
              // Its SSE id places it: met there on every replay, it is handed over in its place.
              if (frame.unreadable.id === String(next) && skipUnreadableAfter > 0) {
                const meetings = unreadableAt?.seq === next ? unreadableAt.meetings + 1 : 1
                unreadableAt = { seq: next, meetings }
                if (meetings >= skipUnreadableAfter) {
                  batch.push(unreadableFrameStandIn(next, frame.unreadable))
                  head = next
                  continue
                }
              }
              // Like a gap: an operator that sends this frame unreadable on every replay holds the
              // wallet's later events behind it, and is told of as one that never sends the event.
              options.onGap?.(next, undefined)
              gap = new GapError('corrupt frame')
              break
            }
            const { event } = frame
            const seq = BigInt(event.seq)
            if (seq <= head) continue
            if (seq !== head + 1n) {
              options.onGap?.(head + 1n, seq)
              gap = new GapError(`expected seq ${head + 1n}, got ${seq}`)
              break
            }
            batch.push(event)
            head = seq
          }
          applying = true
          try {
            if (batch.length && options.onEvents) {
              await options.onEvents(batch)
              last = head
              failures = 0
            } else {
              for (const event of batch) {
                await options.onEvent!(event)
                last = BigInt(event.seq)
                failures = 0
              }
            }
          } finally {
            applying = false
            silence.refresh()
          }
          if (gap) throw gap
        }
      }
      // The server closed the stream: reconnect from the last delivered seq, at once if it held or
      // delivered; closed at once with nothing, a failure.
      if (held() || last !== since) failures = 0
      else {
        options.onError?.(new Error('event stream closed at once, with no event'))
        failures++
      }
    } catch (error) {
      if (signal.aborted) break
      if (error instanceof VenueError) throw error
      // A drop after a connection that held is a first failure, not one more of a series.
      if (held()) failures = 0
      // Silence is not a failure of the operator's: reconnect at once, without backing off.
      if (connection.signal.reason instanceof SilentStreamError) {
        options.onIdle?.(idleTimeoutMs)
      } else if (!(error instanceof GapError)) {
        options.onError?.(error)
        failures++
      } else if (gapAt === last) {
        // Met again after reconnecting: backed off like an error, or the stream would spin on it
        // (one request after another, as fast as the operator answers). Reconciliation reads what
        // the stream cannot deliver meanwhile.
        options.onError?.(error)
        failures++
      } else {
        gapAt = last
      }
    } finally {
      clearTimeout(silence)
      signal.removeEventListener('abort', abortConnection)
      connection.abort()
    }
    if (failures > 0) await sleep(Math.min(maxBackoff, minBackoff * 2 ** Math.min(failures, 10)) * random(), signal)
  }
}

/** Waits `ms`, or until `signal` aborts; its listener goes with it (the signal outlives many waits). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
