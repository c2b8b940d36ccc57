/**
 * Processor: reconcile wallets with the operator (control queue, job scheduler every N seconds,
 * and once at start-up before the worker takes submissions).
 * - Payload: `ReconcileJobData` { walletId?, reason }; without walletId every wallet with an active session.
 * - Reads: the operator's open orders, orders by cloid, fills since the stream cursor; Postgres orders
 *   that are unresolved (`submitting`/`unknown`) or live, those counted filled that the operator lists open,
 *   and those ended here (cancelled, rejected, filled) that a fill event passed over names (malformed,
 *   uncountable, or an unreadable frame that names one: `passedOverFills`); the reconciler's failed and unfinished CancelOrder
 *   outbox rows of orders listed open (`retryReconcilerCancels`).
 * - Writes: order states from the operator's view; orders never placed whose last request can no
 *   longer be accepted (deadline passed) go back to `pending` with a new outbox row (same cloid, so
 *   a late duplicate is impossible); orphans adopted or cancelled (config), with the fills already
 *   stored for them (`linkUnmatchedFills`: one the order cannot count is linked uncounted, with a
 *   READ_UNAPPLIABLE alert naming it); missed fills (each order first brought to the operator's read, taken after the fills were
 *   listed, so a modify the stream has not applied yet is not lost), and all of them once when an order read
 *   shows more filled than Postgres counts (a fill event passed over as malformed): from the start, or
 *   from the seq up to which such a read found every fill stored (`storedThrough`, this process's
 *   memory across runs), so a fill that cannot be stored does not have every sweep read the wallet's
 *   whole history again, only from it on; an order Postgres has
 *   as ended (cancelled, rejected) that the operator still lists open → read back and a CancelOrder
 *   queued (payload flag `liveAtOperator`); an order the reconciler queued such a cancel of, or an
 *   orphan's (ORPHAN_POLICY=cancel), whose cancel failed for good and that the operator still lists
 *   open, cancelled again (`retryReconcilerCancels`: alert ORDER_UNCANCELLED, ORPHAN_UNCANCELLED), once
 *   the wait since its last failure reaches the sweep interval doubled per failure in a row (up to
 *   an hour; none after a rotation: `cancelRetryDue`, read from the stored failures, so it holds
 *   across restarts and workers);
 *   every repair → audit_log (actor `reconciler`, an action of `repairActions`). An order or fill whose read cannot be applied
 *   (a malformed field: `orderReadProblem`, `fillReadProblem`) is passed over with a READ_UNAPPLIABLE
 *   alert naming it, and the rest of the wallet reconciled.
 * - Errors and retries: a wallet that fails is logged and retried on the next run; others continue.
 *   A wallet whose active session expired by the clock (session maintenance has not marked it yet)
 *   cannot be read: it is skipped (report `skipped`) with a warning naming it and why (throttled per
 *   session across runs: `walletSkippedLog`), alerted RECONCILE_SKIPPED once its session has been so
 *   for a sweep interval, and session maintenance asked for it now (`walletSkipped`).
 *   While the operator verifies over another EIP-712 domain than the worker signs with
 *   (`deps.operatorDomain`), a run reads nothing (report `domainChanged`): the next one after it is back does.
 *   A periodic run (every wallet) started while this process's previous one still runs is skipped
 *   (`oneRunAtATime` in src/worker.ts). A run whose worker is stopping (`deps.stopping`) starts no
 *   further wallet, nor another operator read of the wallet it is on: the read on the wire may finish
 *   (each can take OPERATOR_TIMEOUT_MS while the operator hangs, and the worker's shutdown waits for
 *   the job). The job then completes, its report `stopped`, with the repairs made so far kept; it is
 *   not re-run: the next scheduled run (whichever worker takes it, every RECONCILE_INTERVAL_MS, every
 *   wallet) and the next worker's start-up reconciliation cover the wallets left. The start-up pass
 *   stopped so (the process told to stop while it starts) is not taken as done: the worker does not start.
 * - Idempotency key: every repair is itself idempotent (cloid, fill id, row locks), so overlapping
 *   runs in several workers are harmless.
 */
import { and, desc, eq, inArray, lt, or } from 'drizzle-orm'
import type { Hex } from 'viem'
import { parseAmount } from '../src/core/money/decimal.js'
import { orderReadProblem, readClientOrderId } from '../src/core/orders/readProblem.js'
import { backfillFills } from '../src/runtime/backfillFills.js'
import { checkedOrderRead } from '../src/runtime/checkedOrderRead.js'
import type { WorkerDeps } from '../src/runtime/deps.js'
import { orderRepairs } from '../src/runtime/orderRepairs.js'
import { alertUnappliableRead } from '../src/runtime/unappliableRead.js'
import { retryReconcilerCancels } from '../src/runtime/retryReconcilerCancels.js'
import type { ActiveSession } from '../src/runtime/sessionSigners.js'
import { audit } from '../src/store/repositories/audit.js'
import { lockOrderUnchangedSince } from '../src/store/repositories/lockOrderUnchangedSince.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { passedOverFills } from '../src/store/repositories/passedOverFills.js'
import { postgresNow } from '../src/store/repositories/postgresNow.js'
import { orders, outbox, requests, sessions } from '../src/store/schema/index.js'
import { snapshotUpdate } from '../src/venue/snapshotUpdate.js'
import type { VenueOrder } from '../src/venue/types.js'
import { stopsHere } from '../src/runtime/stopsHere.js'
import { type SkippedLog, walletSkipped, walletSkippedLog } from '../src/runtime/walletSkipped.js'
import { linkOrphanFills } from '../src/runtime/linkOrphanFills.js'
import { adoptOrphans } from '../src/runtime/adoptOrphans.js'
import { cancelEndedButLive } from '../src/runtime/cancelEndedButLive.js'
import type { RecordRepair } from '../src/runtime/orderRepairs.js'

export type OrphanPolicy = 'adopt' | 'cancel'

/**
 * `stopped`: the worker was stopping, and the run ended before every wallet was reconciled; the
 * repairs of a wallet it stopped in are kept but not counted.
 * `domainChanged`: the operator verifies over another EIP-712 domain; nothing was read (every read is signed).
 * `skipped` (when any): wallets listed with an active session that could not be read, the session
 * expired by the clock (`walletSkipped`); not counted in `wallets`.
 */
export type ReconcileReport = { wallets: number; repairs: number; failures: number; skipped?: number; stopped?: true; domainChanged?: true }

/**
 * `intervalMs`: the sweep interval (RECONCILE_INTERVAL_MS; default 30 s), the first wait before a
 * reconciler's cancel that failed for good is queued again (`retryReconcilerCancels`), and how long
 * a wallet is skipped for an expired session before it is alerted (`walletSkipped`).
 * `skippedLog`: the warning about a wallet skipped, throttled across runs (`walletSkippedLog`: the
 * worker hands every run the same one); without it, this run's own.
 * `storedThrough`: per wallet, the seq up to which a read of its fills from the start (or from an
 * earlier such seq) found every fill stored, kept across runs (the worker hands every run the same
 * map): an order short of fills behind the cursor is read from there, not from the start again;
 * without it, from the start every run.
 */
export async function reconcile(deps: WorkerDeps, options: {
  walletId?: string; orphans: OrphanPolicy; settleMs?: number; intervalMs?: number; skippedLog?: SkippedLog; storedThrough?: Map<string, bigint>
}): Promise<ReconcileReport> {
  // No read is signed over a domain the operator no longer verifies over (no request unless it changed).
  if (await deps.operatorDomain?.stillChanged()) return { wallets: 0, repairs: 0, failures: 0, domainChanged: true }
  const wallets = options.walletId
    ? [{ walletId: options.walletId }]
    : await deps.db.selectDistinct({ walletId: sessions.walletId }).from(sessions).where(eq(sessions.status, 'active'))
  const report: ReconcileReport = { wallets: 0, repairs: 0, failures: 0 }
  const intervalMs = options.intervalMs ?? 30_000
  const skippedLog = options.skippedLog ?? walletSkippedLog(deps.log)
  const storedThrough = options.storedThrough ?? new Map<string, bigint>()
  for (const { walletId } of wallets) {
    if (stopsHere(deps, report)) break
    try {
      // Inside: a session key this process cannot unseal (sealed under a master key it does not
      // hold) is that wallet's failure, not every wallet's, nor the worker's start-up's.
      const session = await deps.sessions.active(walletId, 0)
      if (!session) {
        // Its session expired by the clock, still active here: not passed over silently.
        if (await walletSkipped(deps, walletId, { log: skippedLog, graceMs: intervalMs })) report.skipped = (report.skipped ?? 0) + 1
        continue
      }
      report.wallets++
      report.repairs += await reconcileWallet(deps, session, options.orphans, options.settleMs ?? 5_000, intervalMs, storedThrough)
    } catch (error) {
      // Stopped between two of the wallet's reads (`startsNoRead`): what it repaired is kept.
      if (error === deps.stopping?.reason && stopsHere(deps, report)) break
      report.failures++
      deps.log.warn({ walletId, err: error }, 'reconcile failed for wallet; retrying next run')
    }
  }
  return report
}

async function reconcileWallet(deps: WorkerDeps, session: ActiveSession, orphans: OrphanPolicy, settleMs: number, intervalMs: number,
  storedThrough: Map<string, bigint>): Promise<number> {
  const { walletId } = session
  const auth = deps.sessions.readAuth(session)
  let repairs = 0
  // Written in the transaction of the repair it records (counted once that commits): a repair is
  // never stored without its entry, nor an entry without its repair, whatever fails in between.
  const record: RecordRepair = (tx, action, details) => audit(tx, { walletId, actor: 'reconciler', action, details })
  // On Postgres's clock, which writes `updated_at`: on this process's, a cancel recorded after the
  // list below was read by a worker whose clock runs behind (or read by this one, running ahead) would
  // look settled before it, and the order be reopened and cancelled again.
  const openReadAt = await postgresNow(deps.db)
  const settled = new Date(openReadAt.getTime() - settleMs)
  // A listed order whose read cannot be applied (`orderReadProblem`) is passed over, alerted, and
  // left as it is here: not read again by cloid, never taken as unknown to the operator (placed again)
  // or as an orphan. Only an order recorded ended here is still cancelled there (`cancelEndedButLive`).
  const venueOpen = new Map<string, VenueOrder>()
  const unappliable = new Set<string>()
  for (const listed of await deps.venue.openOrders(auth)) {
    const problem = orderReadProblem(listed)
    const cloid = readClientOrderId(listed)
    if (!problem) venueOpen.set(cloid!, listed)
    else {
      if (cloid) unappliable.add(cloid)
      alertUnappliableRead(deps, walletId, { clientOrderId: cloid, problem })
    }
  }
  // And an order Postgres counts filled that the operator lists open: its fills were counted against
  // the size of a modify's that Postgres never applied (its answer and its event both lost). A read
  // with the later revision makes it partly filled at the new size (the state machine's rule).
  const filledButListed = venueOpen.size ? and(eq(orders.state, 'filled'), inArray(orders.clientOrderId, [...venueOpen.keys()])) : undefined
  // And an order that ended here (cancelled, or filled: a read that said so, applied by an earlier
  // run or a submission's read-back whose fill read then failed or was stopped) after a fill whose
  // event was passed over as malformed: the fill is behind the cursor, and the order's read shows it
  // (`shortOfFills` below).
  const passedOver = await passedOverFills(deps.db, walletId)
  const endedShort = passedOver.length ? and(inArray(orders.state, ['cancelled', 'rejected', 'filled']), inArray(orders.clientOrderId, passedOver)) : undefined
  const local = await deps.db.select().from(orders)
    .where(and(eq(orders.walletId, walletId), or(inArray(orders.state, ['submitting', 'unknown', 'open', 'partially_filled']), filledButListed, endedShort), lt(orders.updatedAt, settled)))

  // Orders the operator has filled further than Postgres counts (a fill whose stream event was
  // passed over as malformed, behind the cursor): what the operator read says was filled.
  const shortOfFills = new Map<string, bigint>()
  for (const order of local) {
    const cloid = order.clientOrderId.toLowerCase() as Hex
    if (unappliable.has(cloid)) continue
    const listed = venueOpen.get(cloid)
    const readAt = listed ? openReadAt : await postgresNow(deps.db)
    // Deadlines are signed on the operator's clock (`operatorNow`), so they are compared on it too,
    // as it was when the operator was asked: a lost request may still land between the read and the
    // check below, and only a read after its deadline proves it never will.
    const askedAt = deps.operatorNow()
    if (!listed) startsNoRead(deps)
    const read = listed ?? await checkedOrderRead(deps, auth, { walletId, clientOrderId: cloid })
    if (read === 'unappliable') continue
    const seen = read === 'unknown' ? undefined : read
    if (seen) {
      // An order that changed after the read is left to the next run.
      const result = await deps.db.transaction(async (tx) => {
        if ((await lockOrderUnchangedSince(tx, { id: order.id }, readAt)) !== 'unchanged') return undefined
        const changed = await mutateOrder(tx, { id: order.id }, [snapshotUpdate(seen)])
        const made = changed ? orderRepairs(changed) : []
        for (const { action, details } of made) await record(tx, action, details)
        return changed && { ...changed, repairs: made.length }
      })
      repairs += result?.repairs ?? 0
      const filledThere = parseAmount('filled', seen.filled)
      if (result && filledThere > parseAmount('filled', result.after.filled)) shortOfFills.set(order.id, filledThere)
      continue
    }
    if (order.state === 'open' || order.state === 'partially_filled') continue
    // Unknown to the operator: re-place it only once its last request can no longer be accepted.
    const [last] = await deps.db.select().from(requests).where(eq(requests.orderId, order.id)).orderBy(desc(requests.createdAt)).limit(1)
    if (last && last.deadline + 1_000 > askedAt) continue
    const resubmitted = await deps.db.transaction(async (tx) => {
      // A job that claimed the order may sign and persist its request (and send it) after the read
      // above: the order is locked FOR UPDATE, not the writers' NO KEY UPDATE, so this waits for a
      // request being persisted right now (its foreign key holds the order FOR KEY SHARE until it
      // commits) and holds off any later one until this commits; one persisted since is left to
      // the next run (it may be on the wire), never recorded NeverPlaced nor placed again.
      // So is an order changed since it was listed here as settled (the rule of
      // `lockOrderUnchangedSince`, against the list's own condition): another reconciler, acting on
      // its own read, may have placed it again already, and its new Order job claimed it
      // (`submitting`, nothing signed yet), which this would stop or send twice.
      const [locked] = await tx.select({ updatedAt: orders.updatedAt }).from(orders).where(eq(orders.id, order.id)).for('update')
      if (!locked || locked.updatedAt >= settled) return false
      const [latest] = await tx.select({ id: requests.id }).from(requests).where(eq(requests.orderId, order.id)).orderBy(desc(requests.createdAt)).limit(1)
      if (latest?.id !== last?.id) return false
      const moved = await tx.update(orders).set({ state: 'pending' }).where(and(eq(orders.id, order.id), inArray(orders.state, ['submitting', 'unknown']))).returning({ id: orders.id })
      if (!moved.length) return false
      await tx.update(requests).set({ status: 'rejected', errorCode: 'NeverPlaced' }).where(and(eq(requests.orderId, order.id), inArray(requests.status, ['signed', 'unknown'])))
      await tx.update(outbox).set({ status: 'done', lastError: 'superseded by reconcile' }).where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'Order'), inArray(outbox.status, ['pending', 'enqueued'])))
      await tx.insert(outbox).values({ walletId, kind: 'Order', orderId: order.id, payload: { reason: 'reconcile' } })
      await record(tx, 'order.resubmitted', { orderId: order.id, clientOrderId: cloid })
      return true
    })
    if (resubmitted) repairs++
  }

  repairs += await adoptOrphans(deps, walletId, venueOpen, orphans, record)

  // An order the reconciler was to cancel (an orphan, or one recorded ended here) whose cancel failed
  // for good is still live there: cancelled again, and a person told.
  repairs += await retryReconcilerCancels(deps, walletId, [...venueOpen.keys()], record, { orphans, intervalMs })
  repairs += await cancelEndedButLive(deps, walletId, venueOpen, unappliable, settled, record)

  // Fills stored before their order was known (an adopted orphan's) are counted on it now.
  repairs += await linkOrphanFills(deps, walletId, record)
  let backfillRepairs = 0
  const onRepair: RecordRepair = (tx, action, details) => {
    backfillRepairs++
    return record(tx, action, details)
  }
  startsNoRead(deps)
  await backfillFills(deps, session, { onRepair })
  // Still short after the fills since the cursor: the missing ones are behind it, read from the
  // start; or, once such a read found every fill up to a seq stored, from that seq: a fill that can
  // never be stored (passed over, alerted) is read again on every sweep, and what follows it, but
  // not the wallet's whole history before it.
  if (shortOfFills.size) {
    const counted = await deps.db.select({ id: orders.id, filled: orders.filled }).from(orders).where(inArray(orders.id, [...shortOfFills.keys()]))
    if (counted.some((order) => parseAmount('filled', order.filled) < shortOfFills.get(order.id)!)) {
      startsNoRead(deps)
      const read = await backfillFills(deps, session, { since: storedThrough.get(walletId) ?? 0n, onRepair })
      if (read.storedThrough === undefined) storedThrough.delete(walletId)
      else storedThrough.set(walletId, read.storedThrough)
    }
  }
  return repairs + backfillRepairs
}

/**
 * Throws the stop's reason once the worker is stopping, before another operator read of a wallet
 * is started: `reconcile` ends the run there, keeping the repairs made (each its own transaction).
 */
function startsNoRead(deps: WorkerDeps): void {
  deps.stopping?.throwIfAborted()
}
