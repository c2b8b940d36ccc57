/**
 * Step: apply operator events (PROTOCOL.md §7) to Postgres.
 * - Payload: `VenueEvent`s of one wallet or of several (the event streams of one process hand over
 *   what arrived together), normally in seq order (`streamEvents`), but delivery is at-least-once
 *   and may re-order: each wallet's events are applied strictly in seq order whatever the arrival
 *   order. An event ahead of a missing one is stored and applied when the ones before it arrive.
 * - Reads: the wallets' stream cursors (row-locked, in wallet id order: the last seq applied), stored
 *   events after them, the orders the events name (row-locked together, in id order, and written
 *   back once per batch), the wallets' sessions.
 * - Writes, in one transaction: `events` (wallet, seq) — an event at or below the cursor changes nothing; fills
 *   (wallet, fill id unique); the order state machine; a replacement order (intent revision + 1) when a
 *   session's end cancelled an order the user still wants; sessions ended by SessionRevoked/SessionExpired (an active one revoked also gets `failed_at`);
 *   `stream_cursors.last_seq` (the last seq applied, with every one before it).
 *   An event that can never be applied (a field it needs is malformed: `eventProblem`; a fill that
 *   would take its order's totals past what is stored: `uncountableFill`, the fill then not stored) is
 *   stored, passed over in its place (cursor moved past it) and audited (`event.unappliable`); the
 *   answer names it (`passedOver`), and `onPassedOver` claims its alert in the same transaction.
 * - Errors and retries: a failure rolls the transaction back; the caller applies each wallet's events
 *   alone, and a wallet whose events fail alone has its stream reconnect from the last stored seq,
 *   so the events are delivered again.
 * - Idempotency key: (wallet, seq); fills also by (wallet, fill id).
 */
import { and, eq, sql } from 'drizzle-orm'
import { parseAmount } from '../src/core/money/decimal.js'
import { eventProblem, saysOnlyModified } from '../src/core/orders/eventProblem.js'
import { parseSide } from '../src/core/orders/parseSide.js'
import type { OrderUpdate } from '../src/core/orders/applyOrderUpdate.js'
import type { Db, Tx } from '../src/store/Database.js'
import { audit } from '../src/store/repositories/audit.js'
import { recordSessionsEnded } from '../src/store/repositories/recordSessionsEnded.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { type OrderWorkspace, orderWorkspace } from '../src/store/repositories/orderWorkspace.js'
import type { FillInput } from '../src/store/repositories/recordFill.js'
import { replaceSessionOrder } from '../src/runtime/sessions/replaceSessionOrder.js'
import { events, sessions } from '../src/store/schema/index.js'
import type { VenueEvent } from '../src/venue/types.js'
import { namedStatement } from '../src/store/namedStatement.js'
import { type OrderSnapshotRow, type OrderSnapshotValues, orderSnapshotValues, orderSnapshotsUpdate, writeOrderSnapshots } from '../src/store/repositories/writeOrderSnapshots.js'

const str = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''))

/**
 * Answers true when the event was applied now (with any stored events it unblocked), false when it
 * had been applied before (a duplicate) or waits for the events before it (it arrived early).
 */
export async function applyEvent(db: Db, walletId: string, event: VenueEvent): Promise<boolean> {
  return (await applyEvents(db, walletId, [event])).length > 0
}

/** An event applied now, or passed over in its place: `passedOver` says why it cannot be applied. */
export type AppliedEvent = VenueEvent & { passedOver?: string }

export type ApplyEventsOptions = {
  /**
   * Called inside the transaction for each event passed over, after its audit entry: claims the
   * alert that reports it there (`alertWithin`), so the alert exists if and only if the event was
   * passed over, a crash right after the commit included. Answers what to call once committed.
   */
  onPassedOver?: (tx: Tx, walletId: string, event: AppliedEvent & { passedOver: string }) => Promise<() => void>
}

/** `applyEventRuns` for one wallet's events. */
export async function applyEvents(db: Db, walletId: string, batch: readonly VenueEvent[], options: ApplyEventsOptions = {}): Promise<AppliedEvent[]> {
  return (await applyEventRuns(db, [{ walletId, events: batch }], options))[0]!
}

/** Events of one wallet that arrived together (consecutive, in seq order, as `streamEvents` hands them over). */
export type WalletEvents = { walletId: string; events: readonly VenueEvent[] }

/**
 * Applies the events of one or several wallets in one transaction: one multi-row statement
 * locks the cursors and stores the events, one each locks the orders they name, records their fills, writes
 * the orders back and moves the cursors, so the per-event and per-wallet overhead is paid once per
 * batch. Per wallet the rules are those of one event: events at or below the cursor change
 * nothing, an event ahead of a missing one is stored and waits. Answers, for each entry, the events
 * applied now (stored ones they unblocked included); a wallet named twice gets them on its first entry.
 */
export async function applyEventRuns(db: Db, batches: readonly WalletEvents[], options: ApplyEventsOptions = {}): Promise<AppliedEvent[][]> {
  const walletIds = [...new Set(batches.filter((b) => b.events.length > 0).map((b) => b.walletId))].sort()
  if (walletIds.length === 0) return batches.map(() => [])
  const afterCommit: (() => void)[] = []
  const applied = await db.transaction(async (tx) => {
    // Each wallet's events by seq (a repeat delivered in the same batch counts once), stored with
    // the cursors' lock (`lockCursorsStoringEvents`) when past the cursor.
    const bySeq = new Map<string, Map<number, VenueEvent>>(walletIds.map((walletId) => [walletId, new Map()]))
    for (const b of batches) for (const event of b.events) bySeq.get(b.walletId)!.set(Number(event.seq), event)
    const arrived = walletIds.flatMap((walletId) => [...bySeq.get(walletId)!.entries()].sort(([a], [b]) => a - b).map(([seq, event]) => ({ walletId, seq, event })))
    const cursors = await lockCursorsStoringEvents(tx, walletIds, arrived.map(({ walletId, seq, event }) => ({
      // A malformed one (`eventProblem`) is stored as it came, without the columns it cannot fill.
      walletId, seq, type: typeof event.type === 'string' && event.type ? event.type : 'Malformed',
      clientOrderId: typeof event.clientOrderId === 'string' ? event.clientOrderId.toLowerCase() : null, payload: event as unknown as Record<string, unknown>,
    })))
    const fresh = new Map<string, VenueEvent[]>(walletIds.map((walletId) => [walletId, []]))
    for (const { walletId, seq, event } of arrived) if (seq > cursors.get(walletId)!.last) fresh.get(walletId)!.push(event)
    if (walletIds.every((walletId) => fresh.get(walletId)!.length === 0)) return new Map<string, AppliedEvent[]>()
    // Applied out of order, a cancel would make the order terminal before an earlier modify or fill:
    // the run applied now is the events that follow the cursor without a gap.
    const runs = new Map(walletIds.map((walletId) => [walletId, consecutiveAfter(cursors.get(walletId)!.last, fresh.get(walletId)!)]))
    // An event that can never be applied (`eventProblem`) is passed over in its place, not read here.
    const all = walletIds.flatMap((walletId) => runs.get(walletId)!.map((event) => ({ walletId, event }))).filter(({ event }) => !eventProblem(event))
    // The runs' orders are read and locked together, their fills recorded in one statement.
    const workspace = orderWorkspace(tx)
    await workspace.load(all.flatMap(({ walletId, event }) => (event.clientOrderId ? [{ walletId, clientOrderId: event.clientOrderId }] : [])))
    await workspace.insertFills(all.flatMap(({ walletId, event }) => (event.type === 'OrderFilled' && event.clientOrderId ? [fillInput(walletId, event)] : [])))
    const result = new Map<string, AppliedEvent[]>()
    const moved: { walletId: string; last: number }[] = []
    for (const walletId of walletIds) {
      const cursor = cursors.get(walletId)!
      const done: AppliedEvent[] = []
      const applied = (event: VenueEvent, passedOver: string | undefined) => done.push(passedOver ? { ...event, passedOver } : event)
      for (const event of runs.get(walletId)!) applied(event, await applyInOrder(tx, workspace, walletId, event))
      let last = cursor.last + done.length
      // Events stored earlier ahead of a gap may follow now (none were, unless the wallet has some past its cursor).
      if (cursor.maxStored > last) {
        for (let next = await storedEvent(tx, walletId, last + 1); next; next = await storedEvent(tx, walletId, last + 1)) {
          applied(next, await applyInOrder(tx, workspace, walletId, next))
          last = Number(next.seq)
        }
      }
      result.set(walletId, done)
      if (last !== cursor.last) moved.push({ walletId, last })
    }
    await writeBack(tx, workspace.takeWriteBack(), moved)
    if (options.onPassedOver) {
      for (const [walletId, done] of result) {
        for (const event of done) if (event.passedOver) afterCommit.push(await options.onPassedOver(tx, walletId, { ...event, passedOver: event.passedOver }))
      }
    }
    return result
  })
  for (const call of afterCommit) call()
  const answered = new Set<string>()
  return batches.map(({ walletId }) => {
    if (answered.has(walletId)) return []
    answered.add(walletId)
    return applied.get(walletId) ?? []
  })
}

function consecutiveAfter(last: number, sorted: readonly VenueEvent[]): VenueEvent[] {
  const run: VenueEvent[] = []
  for (const event of sorted) {
    if (Number(event.seq) !== last + 1 + run.length) break
    run.push(event)
  }
  return run
}

/**
 * Each wallet's last seq applied, with its cursor row locked until the transaction ends (the
 * upsert locks the rows in wallet id order, and creates them on first use): consumers of one wallet
 * apply one at a time. Also the highest seq stored for the wallet before this statement, applied or not.
 * In the same statement, after the lock, the events past the cursor they read are stored (an event
 * at or below it changes nothing; one stored already is left as it is): the cursor's lock and the
 * events' insert in one round trip. The insert stores no row the cursors' answer counts: the
 * `max_stored` read sees the statement's snapshot, from before its own writes, as it did when the
 * events were stored by a statement of their own after this one.
 */
type StoredEvent = { walletId: string; seq: number; type: string; clientOrderId: string | null; payload: Record<string, unknown> }
async function lockCursorsStoringEvents(tx: Db, sortedWalletIds: readonly string[], arrived: readonly StoredEvent[]): Promise<Map<string, { last: number; maxStored: number }>> {
  const { rows } = await lockCursorsStoring(tx, { walletIds: sortedWalletIds, events: JSON.stringify(arrived) })
  return new Map(rows.map((row) => [row.wallet_id, { last: Number(row.last_seq), maxStored: Number(row.max_stored ?? 0) }]))
}

// One JSON parameter rather than drizzle's multi-row insert, whose building cost more than the statement.
const lockCursorsStoring = namedStatement<{ wallet_id: string; last_seq: string | number; max_stored: string | number | null }, { walletIds: readonly string[]; events: string }>(
  'deputy_lock_cursors_store_events', () => sql`
  with cursors as (
    insert into stream_cursors (wallet_id) select unnest(${sql.placeholder('walletIds')}::uuid[])
    on conflict (wallet_id) do update set wallet_id = excluded.wallet_id
    returning wallet_id, last_seq, (select max(e.seq) from events e where e.wallet_id = stream_cursors.wallet_id) as max_stored
  ), stored as (
    insert into events (wallet_id, seq, type, client_order_id, payload)
    select v."walletId", v.seq, v.type, v."clientOrderId", v.payload
    from jsonb_to_recordset(${sql.placeholder('events')}::jsonb) as v("walletId" uuid, seq bigint, type text, "clientOrderId" text, payload jsonb)
    join cursors c on c.wallet_id = v."walletId"
    where v.seq > c.last_seq
    on conflict do nothing
  )
  select wallet_id, last_seq, max_stored from cursors`)

/**
 * The orders changed (the workspace's write-back) and the cursors moved, in one statement when
 * there are both (a writable CTE: neither reads what the other writes, and both hold their rows'
 * locks already), at the end of the batch's transaction.
 */
async function writeBack(tx: Db, orders: readonly OrderSnapshotRow[], moved: readonly { walletId: string; last: number }[]): Promise<void> {
  const cursors = { cursorWalletIds: moved.map((m) => m.walletId), lastSeqs: moved.map((m) => m.last) }
  if (orders.length > 0 && moved.length > 0) await writeOrdersMoveCursors(tx, { ...orderSnapshotValues(orders), ...cursors })
  else if (orders.length > 0) await writeOrderSnapshots(tx, orders)
  else if (moved.length > 0) await moveCursors(tx, cursors)
}

type CursorValues = { cursorWalletIds: string[]; lastSeqs: number[] }
const cursorsUpdate = () => sql`
  update stream_cursors c set last_seq = v.last_seq, updated_at = now()
  from unnest(${sql.placeholder('cursorWalletIds')}::uuid[], ${sql.placeholder('lastSeqs')}::bigint[]) as v(wallet_id, last_seq)
  where c.wallet_id = v.wallet_id`
const writeOrdersMoveCursors = namedStatement<never, OrderSnapshotValues & CursorValues>('deputy_write_orders_move_cursors', () => sql`
  with orders_written as (${orderSnapshotsUpdate()}) ${cursorsUpdate()}`)
const moveCursors = namedStatement<never, CursorValues>('deputy_move_cursors', cursorsUpdate)

async function storedEvent(tx: Db, walletId: string, seq: number): Promise<VenueEvent | undefined> {
  const [row] = await tx.select({ payload: events.payload }).from(events).where(and(eq(events.walletId, walletId), eq(events.seq, seq)))
  return row?.payload as VenueEvent | undefined
}

/**
 * One event's effect; the caller guarantees every earlier event of the wallet was applied. Order
 * changes go through the workspace (written back by its `flush`), except a cancel by a session's
 * end, which may re-place the order and so is written at once. Answers why the event was passed
 * over instead, when it cannot be applied.
 */
async function applyInOrder(tx: Db, workspace: OrderWorkspace, walletId: string, event: VenueEvent): Promise<string | undefined> {
  const seq = Number(event.seq)
  const problem = eventProblem(event)
  if (problem) return passOver(tx, walletId, event, problem)
  const data = event.data ?? {}
  const cloid = event.clientOrderId
  switch (event.type) {
    case 'OrderFilled': {
      const outcome = cloid ? await workspace.fill(fillInput(walletId, event)) : 'seen'
      if (typeof outcome === 'object') return passOver(tx, walletId, event, `data.${outcome.uncountable}`)
      break
    }
    case 'OrderModified':
      // One that names no price, size or revision (PROTOCOL.md §7 names none): the consumer reads the order back.
      if (cloid && !saysOnlyModified(event)) await workspace.apply(walletId, cloid, [orderUpdate(event)])
      break
    case 'OrderAccepted':
    case 'OrderRejected':
      if (cloid) await workspace.apply(walletId, cloid, [orderUpdate(event)])
      break
    case 'OrderCancelled': {
      if (!cloid) break
      if (data.reason !== 'sessionRevoked' && data.reason !== 'sessionExpired') {
        await workspace.apply(walletId, cloid, [orderUpdate(event)])
        break
      }
      // A session ending cancels its orders; what the user still wants is placed again.
      await workspace.flush()
      workspace.forget(walletId, cloid)
      // Also when an operator read recorded the cancel first (without a reason): the order is
      // replaced once, whoever learnt of the cancel first (replaceSessionOrder checks replaced_by).
      const result = await mutateOrder(tx, { walletId, clientOrderId: cloid }, [orderUpdate(event)])
      if (result) await replaceSessionOrder(tx, result.after)
      break
    }
    case 'SessionRevoked':
    case 'SessionExpired':
      // PROTOCOL.md §7 gives these no fields; an operator that names the delegation (the sandbox
      // does) ends that session here. Without one, the event streams ask the operator which ended.
      if (typeof data.delegation === 'string') await recordSessionsEnded(tx, walletId, eq(sessions.delegationHash, data.delegation.toLowerCase()), { type: event.type, at: event.at, seq })
      break
  }
  return undefined
}

/**
 * An event that would fail each time and hold back every event after it: stored, passed over and
 * audited. The consumer alerts (the answer's `passedOver`); reconciliation reads the order back.
 */
async function passOver(tx: Db, walletId: string, event: VenueEvent, problem: string): Promise<string> {
  await audit(tx, { walletId, actor: 'worker', action: 'event.unappliable', details: { seq: Number(event.seq), type: event.type, clientOrderId: event.clientOrderId ?? null, problem } })
  return problem
}

/**
 * PROTOCOL.md's OrderFilled carries `fillId, price, size, fee, remaining` only: the fill's market
 * and side are its order's (the fill is stored with them, `orderWorkspace`). An operator that adds
 * them (the sandbox does) is read only for a fill whose order is not known here yet.
 */
function fillInput(walletId: string, event: VenueEvent): FillInput {
  const data = event.data ?? {}
  return {
    walletId, fillId: str(data.fillId), clientOrderId: event.clientOrderId!, market: typeof data.market === 'string' ? data.market : '',
    // Checked by eventProblem when present; absent, the fill's order (known by then) gives the side.
    side: data.side === undefined ? 0 : parseSide('data.side', data.side),
    price: str(data.price), size: str(data.size), fee: str(data.fee ?? '0'), seq: Number(event.seq), at: new Date(event.at),
  }
}

function orderUpdate(event: VenueEvent): OrderUpdate {
  const data = event.data ?? {}
  switch (event.type) {
    case 'OrderModified':
      return { kind: 'modified', price: parseAmount('price', data.price), size: parseAmount('size', data.size), revision: Number(data.revision) }
    case 'OrderCancelled':
      return { kind: 'cancelled', reason: str(data.reason || 'unknown') }
    case 'OrderRejected':
      return { kind: 'rejected', code: str(data.code || 'OrderRejected') }
    default:
      return { kind: 'accepted', ...(event.orderId ? { venueOrderId: event.orderId } : {}) }
  }
}
