/**
 * What a `/metrics` scrape costs as history grows. A production Postgres keeps every order,
 * request and audit row; a scrape must cost what is current (orders not yet settled, recent
 * receipts), not what has accumulated.
 *
 * Two scratch databases with the same current state (200 working orders, 200 accepted Orders
 * signed since the metrics started, 20 refused requests, 10 reconciler repairs); one of them also
 * holds BENCH_HISTORY (default 500,000) settled orders, with their accepted requests and an audit
 * row each. Each round scrapes both (the Postgres series and the submit latency histogram,
 * Redis's queue counts included), and, as the reference, runs on the large one the Postgres reads a
 * scrape made before migration 0009 (every order counted by state, every request and audit row
 * scanned). Figures are medians over BENCH_ROUNDS (default 15) rounds, ratios the medians of the
 * per-round ratios; the one that matters is a scrape with history against one without: about 1×
 * when a scrape costs what is current.
 */
import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import { sql } from 'drizzle-orm'
import { Registry } from 'prom-client'
import type { ApiDeps } from '../src/api/ApiDeps.js'
import { createMetrics } from '../src/api/metrics/createMetrics.js'
import type { Db } from '../src/store/Database.js'
import { queueNames } from '../src/queue/names.js'
import { deleteQueueKeys } from '../src/queue/deleteQueueKeys.js'
import { insertSession, insertWallet } from '../test/store/fixtures.js'
import { createTestDatabase, type TestDatabase } from '../test/support/database.js'
import { REDIS_URL } from './drill/environment.js'

const history = Number(process.env.BENCH_HISTORY ?? 500_000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 15)

type Owner = { walletId: string; sessionId: string }

/** `rows` orders in `state`, each with an intent and an Order request answered `status`, created `age` ago. */
async function seedOrders(db: Db, { walletId, sessionId }: Owner, rows: number, state: string, status: 'accepted' | 'rejected' | 'signed', age: string, offset: number): Promise<void> {
  const range = sql`generate_series(${offset + 1}::int, ${offset + rows}::int) n`
  await db.execute(sql`insert into intents (id, wallet_id, kind, market, side, price, size, time_in_force, created_at)
    select md5('intent' || n)::uuid, ${walletId}, 'limit', 'ETH-USD', 0, 2000, 0.1, 0, now() - ${age}::interval - interval '50 ms' from ${range}`)
  await db.execute(sql`insert into orders (id, wallet_id, intent_id, client_order_id, market, side, price, size, time_in_force, state)
    select md5('order' || n)::uuid, ${walletId}, md5('intent' || n)::uuid, '0x' || md5('cloid' || n), 'ETH-USD', 0, 2000, 0.1, 0, ${state} from ${range}`)
  await db.execute(sql`insert into requests (wallet_id, session_id, order_id, family, nonce, deadline, body, status, error_code, created_at, completed_at)
    select ${walletId}, ${sessionId}, md5('order' || n)::uuid, 'Order', n, 0, '{}', ${status},
           case when ${status} = 'rejected' then 'InsufficientBalance' end,
           now() - ${age}::interval, case when ${status} <> 'signed' then now() - ${age}::interval + interval '20 ms' end
    from ${range}`)
}

async function seed(db: Db, withHistory: boolean): Promise<void> {
  const walletId = (await insertWallet(db)).id
  const owner = { walletId, sessionId: (await insertSession(db, walletId, { aclScope: ['Order'] })).id }
  if (withHistory) {
    for (let done = 0; done < history; done += 100_000) await seedOrders(db, owner, Math.min(100_000, history - done), 'filled', 'accepted', '40 days', done)
    await db.execute(sql`insert into audit_log (wallet_id, actor, action, at) select ${walletId}, case when n % 100 = 0 then 'reconciler' else 'worker' end, 'order.replaced', now() - interval '40 days' from generate_series(1, ${history}::int) n`)
  }
  // The current state, the same in both databases.
  await seedOrders(db, owner, 200, 'open', 'accepted', '1 second', history + 1)
  await seedOrders(db, owner, 20, 'rejected', 'rejected', '1 second', history + 1_000)
  await seedOrders(db, owner, 20, 'submitting', 'signed', '1 second', history + 2_000)
  await db.execute(sql`insert into audit_log (wallet_id, actor, action) select ${walletId}, 'reconciler', 'orphan.adopt' from generate_series(1, 10)`)
  await db.execute(sql`vacuum analyze`)
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run()
  return performance.now() - started
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export default async function run(): Promise<void> {
  const prefix = `deputy-bench-metrics-${randomBytes(4).toString('hex')}`
  const queues = [queueNames.submit, queueNames.control].map((name) => new Queue(name, { connection: { url: REDIS_URL }, prefix }))
  const databases: TestDatabase[] = []
  try {
    const seeded = performance.now()
    const [small, large] = [await createTestDatabase(), await createTestDatabase()]
    databases.push(small, large)
    await seed(small.database.db, false)
    await seed(large.database.db, true)
    console.log(`seeded ${history.toLocaleString('en')} settled orders, requests and audit rows in ${((performance.now() - seeded) / 1000).toFixed(0)} s`)
    // The metrics start before the current state's requests were answered (1 s ago): they observe those.
    const metricsFor = (db: Db) => createMetrics({
      runtime: { db, now: () => Date.now() - 60_000 }, submitQueue: queues[0]!, controlQueue: queues[1]!, metricsRegistry: new Registry(),
    } as unknown as ApiDeps)
    const [smallMetrics, largeMetrics] = [metricsFor(small.database.db), metricsFor(large.database.db)]
    const first = await Promise.all([smallMetrics.render(), largeMetrics.render()])
    for (const [name, body] of [['without history', first[0].body], ['with history', first[1].body]] as const) {
      const pick = (series: string) => body.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? 'absent'
      console.log(`  first scrape ${name}: latency count ${pick('deputy_submit_latency_seconds_count')}, open ${pick('deputy_orders{state="open"}')}, InsufficientBalance ${pick('deputy_operator_errors{code="InsufficientBalance"}')}, adopted ${pick('deputy_reconciliation_repairs{action="orphan.adopt"}')}`)
    }
    const db = large.database.db
    const before = () => Promise.all([
      db.execute(sql`select state, count(*) from orders group by state`),
      db.execute(sql`select error_code, count(*) from requests where error_code is not null and status <> 'accepted' group by error_code`),
      db.execute(sql`select action, count(*) from audit_log where actor = 'reconciler' group by action`),
      db.execute(sql`select r.id from requests r join orders o on o.id = r.order_id join intents i on i.id = o.intent_id
        where r.family = 'Order' and r.status = 'accepted' and r.completed_at is not null and r.completed_at > now()
        order by r.completed_at, r.id limit 5000`),
    ])
    const times = { without: [] as number[], with: [] as number[], before: [] as number[] }
    for (let round = 0; round < rounds; round++) {
      times.without.push(await timed(() => smallMetrics.render()))
      times.with.push(await timed(() => largeMetrics.render()))
      times.before.push(await timed(before))
    }
    const ratio = (of: number[]) => median(of.map((t, i) => t / times.without[i]!))
    console.log(`  scrape, current state only                          ${median(times.without).toFixed(1).padStart(7)} ms`)
    console.log(`  scrape, with ${history.toLocaleString('en')} settled orders of history   ${median(times.with).toFixed(1).padStart(7)} ms = ${ratio(times.with).toFixed(2)}× the scrape without history`)
    console.log(`  reference: the Postgres reads of a scrape before 0009 ${median(times.before).toFixed(1).padStart(7)} ms = ${ratio(times.before).toFixed(1)}× the scrape without history`)
  } finally {
    await Promise.all(queues.map((queue) => queue.close()))
    await deleteQueueKeys(REDIS_URL, prefix)
    for (const database of databases) await database.drop()
  }
}
