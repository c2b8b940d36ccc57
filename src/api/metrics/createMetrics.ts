import { type SQL, and, count, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../../store/Database.js'
import { terminalOrderStates } from '../../core/orders/orderState.js'
import { alertCodes } from '../../core/alerts/alertCodes.js'
import { operatorErrorCodes } from '../../core/errors/operatorErrorCodes.js'
import { repairActions } from '../../core/orders/repairActions.js'
import { oneOf } from '../../store/schema/columns.js'
import { auditLog, orderStates, orders, sessions } from '../../store/schema/index.js'
import type { ApiDeps } from '../ApiDeps.js'
import { queueHealth } from '../queueHealth.js'
import { freshShared } from '../../runtime/freshShared.js'
import { withinDeadline } from '../../runtime/withinDeadline.js'
import { readOutboxWork } from './outboxWork.js'
import { submitLatencies } from './submitLatencies.js'

const unsettledStates = orderStates.filter((state) => !terminalOrderStates.includes(state))
const expiringWindows = [['1h', 3600], ['24h', 24 * 3600]] as const

/**
 * Prometheus series for `/metrics`. Every gauge is read when scraped (queues
 * from Redis, the rest from Postgres), so any number of workers and API
 * processes report one truth. A source that does not answer within 2 s (down,
 * failing over) reads 0 in `deputy_metrics_source_up` and its series are left
 * out of that scrape; the other source's are still served. The submit latency
 * histogram observes each accepted Order once per API process: order created
 * (with its intent, or placed again at its session's end) → receipt persisted,
 * for Orders signed since this process started. Each read
 * costs what is current, not the size of the history (see migration 0009).
 */
export function createMetrics(deps: ApiDeps) {
  const { db } = deps.runtime
  const register = deps.metricsRegistry ?? new Registry()
  collectDefaultMetrics({ register, prefix: 'deputy_api_' })
  const queueJobs = new Gauge({ name: 'deputy_queue_jobs', help: 'BullMQ jobs per queue and state', labelNames: ['queue', 'state'], registers: [register] })
  const submitLatency = new Histogram({
    name: 'deputy_submit_latency_seconds', help: 'Order created (with its intent, or placed again at its session\'s end) to operator receipt persisted, in seconds',
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [register],
  })
  const operatorErrors = new Gauge({
    name: 'deputy_operator_errors', help: 'Signed requests whose latest operator answer was an error, by protocol code (Transport: no answer); 0 for a protocol code not seen yet',
    labelNames: ['code'], registers: [register],
  })
  const ordersByState = new Gauge({ name: 'deputy_orders', help: 'Orders not yet settled (filled, cancelled and rejected ones are not counted), by state', labelNames: ['state'], registers: [register] })
  const expiring = new Gauge({ name: 'deputy_sessions_expiring', help: 'Active or rotating sessions whose delegation expires within the window', labelNames: ['within'], registers: [register] })
  const repairs = new Gauge({ name: 'deputy_reconciliation_repairs', help: 'Repairs made by the reconciler (audit log rows), by action; 0 for an action not made yet', labelNames: ['action'], registers: [register] })
  const alerts = new Gauge({
    name: 'deputy_alerts', help: 'Alerts raised since the start (audit log rows alert.<code>; a repeat within the hour is not counted, unless the webhook delivery before it was given up), by code; 0 for a code not raised yet',
    labelNames: ['code'], registers: [register],
  })
  const outboxWork = new Gauge({
    name: 'deputy_outbox_work', help: 'Outbox work not settled yet, by status (pending includes work not due yet, such as good-till cancels); retired wallets left out',
    labelNames: ['status'], registers: [register],
  })
  const outboxOldestAge = new Gauge({
    name: 'deputy_outbox_oldest_age_seconds', help: 'Seconds since the oldest due outbox work of the status came due (its creation, good-till time or release from held; 0: none); retired wallets left out',
    labelNames: ['status'], registers: [register],
  })
  const outboxFailed = new Gauge({
    name: 'deputy_outbox_failed', help: 'Outbox work due within the last hour that failed for good, by code (operator protocol code or LOCAL.*; other); retired wallets left out',
    labelNames: ['code'], registers: [register],
  })
  const sourceUp = new Gauge({
    name: 'deputy_metrics_source_up', help: 'Whether this scrape read the source (1) or it did not answer within 2 s (0; its series are left out)',
    labelNames: ['source'], registers: [register],
  })

  const observeLatencies = submitLatencies(db, new Date(deps.runtime.now()), (seconds) => submitLatency.observe(seconds))
  // One latency read at a time: a late one (Postgres slow or down) and the next scrape's would
  // otherwise both observe the same receipts.
  let observing: Promise<void> | undefined
  const observeOnce = () => (observing ??= observeLatencies().finally(() => { observing = undefined }))

  /** The Postgres series' values, all read before any gauge is set. */
  const readPostgres = async () => {
    // Session expiry is on the operator's clock.
    const nowMs = deps.runtime.operatorNow()
    const live: SQL = inArray(sessions.status, ['active', 'rotating'])
    const [errorRows, stateRows, repairRows, expiringRows, alertRows, work] = await Promise.all([
      // An accepted request keeps an earlier lost answer (Transport) as its history: its latest answer was no error.
      groupCount(db, sql`select error_code as key, count(*)::int as n from requests where error_code is not null and status <> 'accepted' group by error_code`),
      // Wallet by wallet through orders_wallet_state_idx: the orders not yet settled, never the rest.
      groupCount(db, sql`select o.state as key, count(*)::int as n from wallets w
        cross join lateral (select state from orders where wallet_id = w.id and ${oneOf(orders.state, unsettledStates)}) o group by o.state`),
      db.select({ key: auditLog.action, n: count() }).from(auditLog).where(eq(auditLog.actor, 'reconciler')).groupBy(auditLog.action),
      Promise.all(expiringWindows.map(async ([within, seconds]) => {
        const [row] = await db.select({ n: count() }).from(sessions)
          .where(and(live, gt(sessions.expiry, new Date(nowMs)), lte(sessions.expiry, new Date(nowMs + seconds * 1000))))
        return { key: within, n: row?.n ?? 0 }
      })),
      // Through audit_log_alert_idx (migration 0016): the alert rows only.
      groupCount(db, sql`select substr(action, 7) as key, count(*)::int as n from audit_log where action like 'alert.%' group by action`),
      readOutboxWork(db),
      observeOnce(),
    ])
    return { errorRows, stateRows, repairRows, expiringRows, alertRows, work }
  }

  const refresh = async () => {
    // Each source within the deadline, apart: a source that does not answer leaves its series
    // out of this scrape (no stale values) and reads 0 in deputy_metrics_source_up.
    const [queues, postgres] = await Promise.allSettled([
      queueHealth([deps.submitQueue, deps.controlQueue]),
      withinDeadline(readPostgres()),
    ])
    sourceUp.set({ source: 'redis' }, queues.status === 'fulfilled' ? 1 : 0)
    sourceUp.set({ source: 'postgres' }, postgres.status === 'fulfilled' ? 1 : 0)
    queueJobs.reset()
    if (queues.status === 'fulfilled') {
      for (const [queue, health] of Object.entries(queues.value)) {
        for (const [state, n] of Object.entries(health.counts)) queueJobs.set({ queue, state }, n)
      }
    }
    const read = postgres.status === 'fulfilled' ? postgres.value : undefined
    // Every known code, action and alert from the start: a series first scraped at 1 is no increase to Prometheus.
    setCounts(operatorErrors, 'code', read?.errorRows, operatorErrorCodes)
    setCounts(ordersByState, 'state', read?.stateRows, unsettledStates)
    setCounts(repairs, 'action', read?.repairRows, repairActions)
    setCounts(expiring, 'within', read?.expiringRows)
    setCounts(alerts, 'code', read?.alertRows, alertCodes)
    setCounts(outboxWork, 'status', read?.work.counts)
    setCounts(outboxOldestAge, 'status', read?.work.oldestAges)
    setCounts(outboxFailed, 'code', read?.work.failed)
  }

  const fresh = freshShared(refresh)

  return {
    register,
    /**
     * Reads every series fresh (begun after this call), then renders the exposition text. One
     * refresh at a time, and at most one queued behind it, shared by every scrape that arrives
     * meanwhile: a burst of scrapes (the token unset, the port reachable) costs two refreshes, not
     * one each (six aggregate queries and the queues' counts).
     */
    async render(): Promise<{ contentType: string; body: string }> {
      await fresh()
      return { contentType: register.contentType, body: await register.metrics() }
    },
  }
}
export type Metrics = ReturnType<typeof createMetrics>

/** Sets one series per row (and 0 for each `known` key without one); no rows: the series are left out. */
function setCounts<K extends string>(gauge: Gauge<K>, label: K, rows: readonly { key: string | null; n: number }[] | undefined, known: readonly string[] = []): void {
  gauge.reset()
  if (!rows) return
  const values = new Map<string, number>(known.map((k) => [k, 0]))
  for (const row of rows) if (row.key !== null) values.set(row.key, row.n)
  for (const [key, n] of values) gauge.set({ [label]: key } as Partial<Record<K, string>>, n)
}

async function groupCount(db: Db, query: SQL): Promise<{ key: string | null; n: number }[]> {
  return (await db.execute<{ key: string | null; n: number }>(query)).rows
}
