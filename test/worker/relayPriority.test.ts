/**
 * The relay's BullMQ priorities (fairness across wallets): a job's priority is its place in its
 * wallet's backlog, counted on across relays from the wallet's last numbered row while that is still
 * in BullMQ, back to 1 once it has run; a row relayed before it is due (a good-till cancel) takes 1
 * and is not counted; the sweep adds a lost job back with its priority. And BullMQ takes the jobs in
 * that order, cancels among them.
 */
import { type Job, Worker } from 'bullmq'
import { asc, eq, inArray, sql } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { PRIORITY_LIMIT, relayOutbox, sweepOutbox } from '../../jobs/relayOutbox.js'
import type { RequestFamily } from '../../src/core/acl/actions.js'
import { createRedis } from '../../src/queue/connection.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import type { SubmitJobData } from '../../src/queue/payloads.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import { type OutboxRow, outbox } from '../../src/store/schema/index.js'
import { REDIS_URL, submitQueueForFile } from '../support/submitQueueForFile.js'

const file = submitQueueForFile('priority')
const { prefix } = file

const queueWork = async (walletId: string, kinds: RequestFamily[]): Promise<OutboxRow[]> =>
  file.t.database.db.insert(outbox).values(kinds.map((kind) => ({ walletId, kind, payload: {} }))).returning()
const relayAll = async (batch: number) => { while (await relayOutbox(file.t.database.db, file.queue, batch) > 0); }
/** Each row's priority in Postgres and its job's in BullMQ (0: none), in seq order. */
async function priorities(rows: readonly OutboxRow[]) {
  const stored = await file.t.database.db.select().from(outbox).where(inArray(outbox.id, rows.map((row) => row.id))).orderBy(asc(outbox.seq))
  return Promise.all(stored.map(async (row) => ({ stored: row.priority, job: (await file.queue.getJob(outboxJobId(row)))?.opts.priority ?? 0 })))
}
const finish = (rows: readonly OutboxRow[]) => file.t.database.db.update(outbox).set({ status: 'done' }).where(inArray(outbox.id, rows.map((row) => row.id)))

it('numbers each wallet\'s requests by their place in its backlog, across relays, and gives a row not yet due 1, uncounted', async () => {
  const db = file.t.database.db
  const a = await ensureWallet(db, '0x00000000000000000000000000000000000000a1')
  const b = await ensureWallet(db, '0x00000000000000000000000000000000000000b1')
  const flood = await queueWork(a.id, ['Order', 'Order', 'CancelOrder', 'ModifyOrder', 'Order', 'CancelAll', 'Order'])
  const next = await queueWork(b.id, ['Order', 'CancelOrder', 'Order'])
  // Batches of 3: the wallet's count goes on from one relay to the next.
  // A good-till cancel due in an hour, relayed now as a delayed job.
  const [goodTill] = await db.insert(outbox).values({ walletId: a.id, kind: 'CancelOrder', payload: {}, availableAt: sql`now() + interval '1 hour'` }).returning()
  await relayAll(3)
  expect(await priorities(flood)).toEqual([1, 2, 3, 4, 5, 6, 7].map((p) => ({ stored: p, job: p })))
  expect(await priorities(next)).toEqual([1, 2, 3].map((p) => ({ stored: p, job: p })))
  expect(await priorities([goodTill!])).toEqual([{ stored: 1, job: 1 }])

  // Its oldest work finished, the wallet's next order still goes behind the rest of its backlog (the
  // good-till cancel, relayed after it, not counted).
  await finish(flood.slice(0, 4))
  const later = await queueWork(a.id, ['Order'])
  await relayAll(3)
  expect(await priorities(later)).toEqual([{ stored: 8, job: 8 }])

  // Its backlog drained, it starts from 1 again; the other wallet's count is its own.
  await finish([...flood, ...later])
  const fresh = await queueWork(a.id, ['ModifyOrder', 'Order'])
  const more = await queueWork(b.id, ['Order'])
  await relayAll(500)
  expect(await priorities(fresh)).toEqual([{ stored: 1, job: 1 }, { stored: 2, job: 2 }])
  expect(await priorities(more)).toEqual([{ stored: 4, job: 4 }])

  // A backlog past BullMQ's range takes its last number.
  await finish([...fresh, ...more, ...next, goodTill!])
  const deep = await queueWork(a.id, ['Order'])
  await relayAll(500)
  await db.update(outbox).set({ priority: PRIORITY_LIMIT }).where(eq(outbox.id, deep[0]!.id))
  const deeper = await queueWork(a.id, ['Order', 'Order'])
  await relayAll(500)
  expect(await priorities(deeper)).toEqual([{ stored: PRIORITY_LIMIT, job: PRIORITY_LIMIT }, { stored: PRIORITY_LIMIT, job: PRIORITY_LIMIT }])

  // Redis lost the jobs: the sweep adds them back with their priorities.
  await deleteQueueKeys(REDIS_URL, prefix)
  await db.update(outbox).set({ enqueuedAt: sql`now() - interval '1 minute'` }).where(eq(outbox.status, 'enqueued'))
  await sweepOutbox(db, file.queue)
  expect(await priorities(deeper)).toEqual([{ stored: PRIORITY_LIMIT, job: PRIORITY_LIMIT }, { stored: PRIORITY_LIMIT, job: PRIORITY_LIMIT }])
  await finish([...deep, ...deeper])
  await deleteQueueKeys(REDIS_URL, prefix)
})

it('has BullMQ run each wallet\'s first request before any wallet\'s second, and a wallet\'s cancel in its place', async () => {
  const db = file.t.database.db
  const a = await ensureWallet(db, '0x00000000000000000000000000000000000000a2')
  const b = await ensureWallet(db, '0x00000000000000000000000000000000000000b2')
  const c = await ensureWallet(db, '0x00000000000000000000000000000000000000c2')
  const flood = await queueWork(a.id, Array.from({ length: 20 }, () => 'Order' as const))
  const [second] = await queueWork(b.id, ['Order'])
  const [cancel] = await queueWork(a.id, ['CancelOrder'])
  const [third] = await queueWork(c.id, ['Order'])
  await relayAll(500)

  const taken: string[] = []
  const worker = new Worker<SubmitJobData>('submit', async (job: Job<SubmitJobData>) => { taken.push(job.data.outboxId) }, { connection: createRedis(REDIS_URL), prefix, concurrency: 1 })
  try {
    await new Promise<void>((resolve) => worker.on('completed', () => { if (taken.length === 23) resolve() }))
  } finally {
    await worker.close()
  }
  // Without priorities, the other wallets' orders came 21st and 23rd, behind the whole flood; the
  // flooding wallet's cancel comes after its 20 orders, as queued.
  expect(taken.slice(0, 3)).toEqual([flood[0]!.id, second!.id, third!.id])
  expect(taken.slice(3)).toEqual([...flood.slice(1).map((row) => row.id), cancel!.id])
})
