import { eq, sql } from 'drizzle-orm'
import type { Hex } from 'viem'
import { type AppliedEvent, type ApplyEventsOptions, type WalletEvents, applyEventRuns, applyEvents } from '../../jobs/applyEvent.js'
import { VenueError } from '../core/errors/venue.js'
import { saysOnlyModified } from '../core/orders/eventProblem.js'
import { sessions, streamCursors } from '../store/schema/index.js'
import { streamEvents } from '../venue/streamEvents.js'
import type { VenueEvent } from '../venue/types.js'
import type { WorkerDeps } from './deps.js'
import type { ActiveSession } from './sessionSigners.js'
import { markSessionRefused } from './sessions/markSessionRefused.js'
import { sessionEndedAtOperator } from './sessions/sessionEndedAtOperator.js'
import { unauthorizedStatus } from './sessions/unauthorizedStatus.js'
import { readBackOrder } from './submission/readBack.js'
import { createEventGapWatch } from './eventGapWatch.js'
import { groupCommit } from './groupCommit.js'
import { throttledErrorLog } from './throttledErrorLog.js'
import { isConnectionFailure } from '../store/isConnectionFailure.js'
import { errorMessage } from '../core/errors/errorMessage.js'
import { judgeSignatureRefusal } from './judgeSignatureRefusal.js'
import { domainChangedAlert } from './operatorDomain.js'
import { alertWithin } from './alertWithin.js'

/** Failures in a row at one seq before EVENT_STREAM_STALLED is raised. */
export const STALL_ALERT_AFTER = 5

export type EventStreamsOptions = {
  /** This process's identity in leases. */
  owner: string
  leaseMs?: number
  tickMs?: number
  /** A stream silent this long (not even a keep-alive) is dropped and opened again (`streamEvents`). */
  idleTimeoutMs?: number
  /** How long the same gap may be met again, reconnect after reconnect, before EVENT_GAP_STALLED (default 60 s). */
  gapAlertAfterMs?: number
}

/**
 * Keeps one event stream per wallet that has an active session, across all
 * worker processes: a wallet's stream runs where its lease is held. The lease
 * is taken with a conditional update and renewed every tick; a process that
 * stops renewing loses it after `leaseMs` and another takes over. Correctness
 * never depends on the lease alone: events are stored by (wallet, seq).
 */
export function startEventStreams(deps: WorkerDeps, options: EventStreamsOptions) {
  const leaseMs = options.leaseMs ?? 10_000
  const tickMs = options.tickMs ?? 1_000
  const running = new Map<string, AbortController>()
  const stopped = new AbortController()
  let ticking: Promise<void> | undefined
  // While the operator is unreachable every wallet's stream fails each reconnect: one line per failure.
  const streamError = throttledErrorLog(deps.log, 'event stream error; reconnecting', { level: 'warn' })
  const tickFailed = throttledErrorLog(deps.log, 'event stream supervisor tick failed')
  // An operator that sends no keep-alives makes every idle wallet's stream reconnect each period.
  const streamSilent = throttledErrorLog(deps.log, 'event stream silent; reconnecting', { level: 'info' })
  // An operator that opens every connection so, or sends heartbeats without a seq, would log one per frame and wallet.
  const frameUnreadable = throttledErrorLog(deps.log, 'event stream frame without an id cannot be read; passed over', { level: 'warn' })
  // A replay after each reconnect that comes corrupted would log one per reconnect and wallet.
  const duplicateUnreadable = throttledErrorLog(deps.log, 'event stream frame cannot be read, a duplicate of a seq applied; passed over', { level: 'warn' })
  // The streams' events are applied together: one transaction for what arrived on several wallets'
  // streams meanwhile (a few statements per batch instead of per wallet and event).
  // An event passed over is alerted EVENT_UNAPPLIABLE, the alert claimed in the transaction that passes it over.
  const applyOptions: ApplyEventsOptions = {
    onPassedOver: (tx, walletId, event) => alertWithin(deps, tx, {
      walletId, code: 'EVENT_UNAPPLIABLE', message: `operator event ${event.seq} (${event.type}) cannot be applied and was passed over: ${event.passedOver}; reconciliation reads the order from the operator`,
      details: { seq: event.seq, type: event.type, clientOrderId: event.clientOrderId ?? null },
    }),
  }
  const applyTogether = groupCommit((batches: WalletEvents[]) => applyEventRuns(deps.db, batches, applyOptions))

  /** Per wallet: the seq its events keep failing at, and how many times in a row. */
  const stalls = new Map<string, { seq: string; failures: number }>()
  const gaps = createEventGapWatch(deps, options.gapAlertAfterMs ?? 60_000)

  /** A failed shared batch is retried wallet by wallet, so one wallet's problem stays its own stream's. */
  async function apply(walletId: string, batch: readonly VenueEvent[]): Promise<AppliedEvent[]> {
    let applied: AppliedEvent[]
    try {
      applied = await applyTogether({ walletId, events: batch })
    } catch (error) {
      deps.log.warn({ walletId, err: error }, 'shared event batch failed; applying this wallet alone')
      try {
        applied = await applyEvents(deps.db, walletId, batch, applyOptions)
      } catch (aloneError) {
        noteStall(walletId, batch[0]?.seq ?? '?', aloneError)
        throw aloneError
      }
    }
    stalls.delete(walletId)
    gaps.applied(walletId, batch)
    return applied
  }

  /**
   * The same events failing again and again (not Postgres being unreachable, which is every
   * wallet's, and logged as such) hold back every later event of the wallet: after
   * STALL_ALERT_AFTER failures in a row at one seq a person is told, once for that seq.
   * Reconciliation keeps orders and fills right meanwhile.
   */
  function noteStall(walletId: string, seq: string, error: unknown): void {
    if (isConnectionFailure(error)) return
    const stall = stalls.get(walletId)
    const failures = stall?.seq === seq ? stall.failures + 1 : 1
    stalls.set(walletId, { seq, failures })
    if (failures !== STALL_ALERT_AFTER) return
    deps.alert({
      walletId, code: 'EVENT_STREAM_STALLED',
      message: `the wallet's events from seq ${seq} failed to apply ${failures} times in a row: ${errorMessage(error)}; later events wait behind them (reconciliation keeps orders and fills right meanwhile)`,
      details: { seq },
    })
  }

  /**
   * Takes or renews the leases of these wallets, in two statements whatever their number (creating
   * the cursor rows first seen), and answers the wallets whose lease this process holds. The rows
   * are locked in wallet id order, as event batches lock them, so the two never deadlock.
   */
  async function claimAll(walletIds: readonly string[]): Promise<Set<string>> {
    if (walletIds.length === 0) return new Set()
    const unseen = walletIds.filter((walletId) => !running.has(walletId))
    if (unseen.length) await deps.db.execute(sql`insert into stream_cursors (wallet_id) select unnest(${sql.param(unseen)}::uuid[]) on conflict do nothing`)
    // On Postgres' clock, which also tells when a lease has lapsed: a worker whose own clock runs
    // ahead would hold its wallets past its death, and one behind would lose them at once.
    const { rows } = await deps.db.execute<{ wallet_id: string }>(sql`
      update stream_cursors c set lease_owner = ${options.owner}, lease_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
      from (select wallet_id from stream_cursors
            where wallet_id = any(${sql.param([...walletIds])}::uuid[])
              and (lease_owner = ${options.owner} or lease_until is null or lease_until < now())
            order by wallet_id for update) t
      where c.wallet_id = t.wallet_id
      returning c.wallet_id`)
    return new Set(rows.map((row) => row.wallet_id))
  }

  async function run(walletId: string, signal: AbortSignal): Promise<void> {
    // The operator verifies over another EIP-712 domain: no read is signed over the old one (asked
    // again each tick; the domain is read again at most every few seconds, to see it come back).
    if (await deps.operatorDomain?.stillChanged()) return
    const session = await deps.sessions.active(walletId, 0)
    if (!session) return
    const [cursor] = await deps.db.select().from(streamCursors).where(eq(streamCursors.walletId, walletId))
    try {
      await consume(walletId, session, BigInt(cursor?.lastSeq ?? 0), signal)
    } catch (error) {
      // The operator refused the session (revoked or expired behind the worker's back, or a key that
      // is not the delegated one): without this, every restart would try the same dead session and
      // the wallet's events — its orders' cancellations among them — would never arrive.
      if (error instanceof VenueError && (error.venueCode === 'SessionUnauthorized' || error.venueCode === 'SignerMismatch')) {
        // Put to the operator's domain first, as a refused request is (`deliver`): the next tick waits.
        const judged = await judgeSignatureRefusal({ watch: deps.operatorDomain, domain: deps.domain, code: error.venueCode, payload: session.payload, delegationHash: session.delegationHash })
        const change = deps.operatorDomain?.changed()
        if (judged === 'waitForDomain') {
          if (change) deps.alert(domainChangedAlert(walletId, change))
          throw error
        }
        // At its expiry (by the operator's clock, give or take the signing margin) it expired: no
        // failure, as for a request refused so (a stream opened in its last seconds, our measure of
        // the operator's clock a little behind).
        const status = judged === 'keyInDoubt' ? 'quarantined' : await unauthorizedStatus(deps, session.id)
        const reason = `event stream answered ${error.venueCode}: ${error.message}`
        // A rotated-out session revoked on schedule ends its stream this way too: nothing to do then.
        const keyAlert = status === 'quarantined'
          ? { event: { walletId, code: 'KEY_INTEGRITY' as const, message: 'SignerMismatch on the event stream: the stored session key is not the delegated one', details: { sessionId: session.id } }, onlyIfEnded: true }
          : undefined
        if (await markSessionRefused(deps, { walletId, sessionId: session.id, status, reason }, keyAlert)) await deps.onSessionInvalid?.(walletId, session.id, reason)
      }
      throw error
    }
  }

  async function consume(walletId: string, session: ActiveSession, since: bigint, signal: AbortSignal): Promise<void> {
    await streamEvents({
      baseUrl: deps.venue.baseUrl,
      auth: deps.sessions.readAuth(session),
      since,
      signal,
      // Events that arrived together are stored in one transaction (the per-event overhead dominated).
      onEvents: async (batch) => {
        for (const event of await apply(walletId, batch)) {
          if (event.passedOver) continue
          if (event.type === 'SessionRevoked' || event.type === 'SessionExpired') await sessionEndedAtOperator(deps, walletId, event)
          else if (saysOnlyModified(event)) await readBackModified(walletId, event.clientOrderId as Hex)
        }
      },
      onGap: (expected, got) => gaps.met(walletId, expected, got),
      onUnreadable: (problem, seq) => seq === undefined ? frameUnreadable(problem, { walletId }) : duplicateUnreadable(problem, { walletId, seq: String(seq) }),
      onError: (error) => streamError(error, { walletId }),
      idleTimeoutMs: options.idleTimeoutMs,
      onIdle: (idleMs) => streamSilent(new Error(`nothing arrived for ${idleMs} ms`), { walletId }),
      // The read deadline is signed on the operator's clock as measured: measured again when refused.
      onDeadlineRefused: deps.resyncOperatorClock,
    })
  }

  /**
   * An OrderModified naming no price, size or revision (PROTOCOL.md §7 names none): the order is read
   * back from the operator. A failed read leaves it to reconciliation, which reads it too.
   */
  async function readBackModified(walletId: string, clientOrderId: Hex): Promise<void> {
    try {
      const session = await deps.sessions.active(walletId)
      if (session) await readBackOrder(deps, session, walletId, clientOrderId)
    } catch (error) {
      deps.log.warn({ walletId, clientOrderId, err: error }, 'could not read back a modified order; reconciliation will')
    }
  }

  async function tick(): Promise<void> {
    const wanted = await deps.db.selectDistinct({ walletId: sessions.walletId }).from(sessions).where(eq(sessions.status, 'active'))
    const wantedIds = new Set(wanted.map((w) => w.walletId))
    const held = await claimAll([...wantedIds])
    for (const [walletId, controller] of running) {
      if (!held.has(walletId)) { controller.abort(); running.delete(walletId) }
    }
    for (const walletId of held) {
      if (running.has(walletId)) continue
      const controller = new AbortController()
      running.set(walletId, controller)
      run(walletId, controller.signal)
        .catch((error: unknown) => {
          // The session was refused: the next tick restarts the stream with whatever session is active then.
          if (!(error instanceof VenueError)) deps.log.error({ walletId, err: error }, 'event stream stopped')
        })
        .finally(() => { if (running.get(walletId) === controller) running.delete(walletId) })
    }
  }

  // One tick at a time, and none queued behind it: a tick slower than `tickMs` (Postgres hung, its
  // pool busy, a lease row locked) is followed by one tick, not by as many as the timer fired meanwhile.
  const tickNow = () => { ticking ??= tick().catch(tickFailed).finally(() => { ticking = undefined }) }
  const timer = setInterval(tickNow, tickMs)
  tickNow()

  return {
    /** Wallets whose stream runs in this process. */
    wallets: () => [...running.keys()],
    async close(): Promise<void> {
      clearInterval(timer)
      stopped.abort()
      await ticking
      for (const controller of running.values()) controller.abort()
      running.clear()
      // Best effort: a lease not released (Postgres unreachable) lapses after leaseMs, and another process takes the wallet then.
      await deps.db.update(streamCursors).set({ leaseOwner: null, leaseUntil: null }).where(eq(streamCursors.leaseOwner, options.owner))
        .catch((error: unknown) => deps.log.warn({ err: error }, 'could not release the event streams\' leases; they lapse on their own'))
    },
  }
}
