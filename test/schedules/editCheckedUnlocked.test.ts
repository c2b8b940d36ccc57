/**
 * A schedule edit checks its merged spec (a new cron's timing, on the API's one timing thread,
 * which may be busy for seconds) before it locks the schedule's row: edits of the same schedule
 * queued behind a lock held meanwhile would each hold a pooled Postgres connection, and a burst of
 * them every other request's. An edit committed while another's check ran is not undone by it:
 * the later one is merged over it and checked again.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { getSchedule } from '../../src/runtime/schedules/getSchedule.js'
import { updateSchedule } from '../../src/runtime/schedules/updateSchedule.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { controlQueueForFile, specOf } from './support.js'

let h: Harness
const queue = controlQueueForFile()

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('holds no lock on the schedule while its timing is checked, and keeps an edit committed meanwhile, checking again unlocked', async () => {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: '0 9 * * *' }) })
  // The timing thread is busy: each check waits until the test lets it answer.
  const answers: (() => void)[] = []
  const checked: string[] = []
  const timing = { problem: async ({ cron }: { cron: string }) => { checked.push(cron); await new Promise<void>((resolve) => { answers.push(resolve) }); return undefined } }
  const lockable = async () => (await h.db.transaction(async (tx) => (await tx.execute<{ id: string }>(sql`select id from schedules where id = ${schedule.id} for update nowait`)).rows))
  const retimed = updateSchedule({ db: h.db, queue, timing }, schedule.id, { cron: '30 9 * * *' })
  await eventually(async () => checked.length === 1)

  // Meanwhile the row can be locked at once (a run about to write its orders, another edit)...
  expect(await lockable()).toEqual([{ id: schedule.id }])
  // ...and another edit commits.
  const toleranceEdit = await updateSchedule({ db: h.db, queue }, schedule.id, { toleranceBand: '0.05' })
  expect(toleranceEdit.version).toBe(schedule.version + 1)

  // The first check answers; the edit finds the version moved, merges over it and checks again, the lock let go.
  answers[0]!()
  await eventually(async () => checked.length === 2)
  expect(await lockable()).toEqual([{ id: schedule.id }])
  answers[1]!()
  const after = await retimed
  expect(checked).toEqual(['30 9 * * *', '30 9 * * *'])
  expect(after).toMatchObject({ cron: '30 9 * * *', toleranceBand: '0.050000000000000000', version: schedule.version + 2 })
  expect(await getSchedule(h.db, schedule.id)).toMatchObject({ cron: '30 9 * * *', toleranceBand: '0.050000000000000000', version: schedule.version + 2 })
})

it('refuses an expected version that is not the schedule\'s before checking anything', async () => {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: '0 9 * * *' }) })
  const checked: string[] = []
  const timing = { problem: async ({ cron }: { cron: string }) => { checked.push(cron); return undefined } }
  await expect(updateSchedule({ db: h.db, queue, timing }, schedule.id, { cron: '30 9 * * *' }, { expectedVersion: schedule.version + 1 }))
    .rejects.toMatchObject({ field: 'expectedVersion' })
  expect(checked).toEqual([])
})
