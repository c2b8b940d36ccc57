/**
 * `/metrics`' outbox series follow the rows: unfinished work by status and how long the oldest due
 * row of each status has waited, and work of the last hour failed for good by code; a retired
 * wallet's work counts for nothing. Scraped through `createMetrics` on a real Postgres and Redis,
 * with no worker running, so the rows stay as written.
 */
import { eq, sql } from 'drizzle-orm'
import { beforeAll, expect, it } from 'vitest'
import { releaseHeld } from '../../src/store/repositories/outboxRepo.js'
import type { Db } from '../../src/store/Database.js'
import { type OutboxStatus, outbox, wallets } from '../../src/store/schema/index.js'
import { insertWallet } from '../store/fixtures.js'
import { metricsForFile } from './support/metricsForFile.js'

const file = metricsForFile()
let db: Db
beforeAll(() => { db = file.db })

async function scrape(): Promise<string> {
  return (await file.metrics.render()).body
}

/** The value of one series line, e.g. `deputy_outbox_work{status="held"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** An outbox row of `walletId` in `status`, due `dueAgoSeconds` ago (negative: not due yet), on Postgres's clock. */
async function work(walletId: string, status: OutboxStatus, dueAgoSeconds: number, lastError?: string): Promise<string> {
  const [row] = await db.insert(outbox).values({
    walletId, kind: 'Order', payload: {}, status, lastError,
    availableAt: sql`now() - make_interval(secs => ${dueAgoSeconds})`,
  }).returning({ id: outbox.id })
  return row!.id
}

it('counts unfinished work by status and ages the oldest due row of each, failed work of the last hour by code, and leaves retired wallets out', async () => {
  const empty = await scrape()
  for (const status of ['pending', 'enqueued', 'held']) {
    expect(sample(empty, `deputy_outbox_work{status="${status}"}`)).toBe(0)
    expect(sample(empty, `deputy_outbox_oldest_age_seconds{status="${status}"}`)).toBe(0)
  }
  expect(empty).not.toMatch(/^deputy_outbox_failed\{/m)

  const live = (await insertWallet(db)).id
  const other = (await insertWallet(db)).id
  const retired = (await insertWallet(db)).id
  await work(live, 'held', 600)
  await work(other, 'held', 60)
  await work(live, 'pending', 120)
  await work(live, 'pending', -3600) // a good-till cancel, say: counted, but not waiting yet
  await work(live, 'enqueued', 30)
  await work(live, 'done', 7200)
  await work(live, 'failed', 900, 'InsufficientBalance: balance 0 < 150')
  await work(other, 'failed', 10, 'InsufficientBalance: balance 0 < 1')
  await work(live, 'failed', 10, 'LOCAL.POLICY: market ETH-USD is not allowed')
  await work(live, 'failed', 7200, 'LOCAL.POLICY: due two hours ago') // before the window
  await work(live, 'failed', 10, 'no code here, just words') // not a code: never a label
  await work(retired, 'held', 86_400)
  await work(retired, 'pending', 86_400)
  await work(retired, 'failed', 10, 'LOCAL.ACL_SCOPE: out of scope')
  await db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, retired))

  const text = await scrape()
  expect(sample(text, 'deputy_outbox_work{status="held"}')).toBe(2)
  expect(sample(text, 'deputy_outbox_work{status="pending"}')).toBe(2)
  expect(sample(text, 'deputy_outbox_work{status="enqueued"}')).toBe(1)
  expect(sample(text, 'deputy_outbox_work{status="done"}')).toBeUndefined()
  expect(sample(text, 'deputy_outbox_oldest_age_seconds{status="held"}')).toBeGreaterThanOrEqual(600)
  expect(sample(text, 'deputy_outbox_oldest_age_seconds{status="held"}')).toBeLessThan(660)
  expect(sample(text, 'deputy_outbox_oldest_age_seconds{status="pending"}')).toBeGreaterThanOrEqual(120)
  expect(sample(text, 'deputy_outbox_oldest_age_seconds{status="pending"}')).toBeLessThan(180)
  expect(sample(text, 'deputy_outbox_oldest_age_seconds{status="enqueued"}')).toBeGreaterThanOrEqual(30)
  expect(sample(text, 'deputy_outbox_oldest_age_seconds{status="enqueued"}')).toBeLessThan(90)
  expect(sample(text, 'deputy_outbox_failed{code="InsufficientBalance"}')).toBe(2)
  expect(sample(text, 'deputy_outbox_failed{code="LOCAL.POLICY"}')).toBe(1)
  expect(sample(text, 'deputy_outbox_failed{code="other"}')).toBe(1)
  expect(sample(text, 'deputy_outbox_failed{code="LOCAL.ACL_SCOPE"}')).toBeUndefined()
  // No wallet in any label.
  expect(text).not.toContain(live)
  expect(text).not.toMatch(/deputy_outbox_\w+\{[^}]*wallet/)

  // The live wallet's held work is released (a session went live): it is pending again, due now.
  expect(await releaseHeld(db, live)).toBe(1)
  const released = await scrape()
  expect(sample(released, 'deputy_outbox_work{status="held"}')).toBe(1)
  expect(sample(released, 'deputy_outbox_work{status="pending"}')).toBe(3)
  expect(sample(released, 'deputy_outbox_oldest_age_seconds{status="held"}')).toBeGreaterThanOrEqual(60)
  expect(sample(released, 'deputy_outbox_oldest_age_seconds{status="held"}')).toBeLessThan(120)
  expect(sample(released, 'deputy_outbox_oldest_age_seconds{status="pending"}')).toBeGreaterThanOrEqual(120)

  // Nothing unfinished left: the series read 0, not their last values.
  await db.update(outbox).set({ status: 'done' }).where(sql`${outbox.status} in ('pending', 'enqueued', 'held')`)
  const settled = await scrape()
  for (const status of ['pending', 'enqueued', 'held']) {
    expect(sample(settled, `deputy_outbox_work{status="${status}"}`)).toBe(0)
    expect(sample(settled, `deputy_outbox_oldest_age_seconds{status="${status}"}`)).toBe(0)
  }
})
