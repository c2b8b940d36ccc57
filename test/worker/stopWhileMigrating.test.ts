/**
 * A worker or API process stopped (SIGTERM) while its start-up migrations wait, for Postgres or for
 * another process's migration (the advisory lock), stops as one stopped while it waits for the
 * operator does: exit 0, without starting, having taken no work. A supervisor rolling a deployment
 * during a Postgres outage or a long migration sends SIGTERM to processes in that state. The wait
 * went on under the signal, and the process exited 1 at its deadline.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lateRelay } from '../support/lateRelay.js'
import { MIGRATION_LOCK_KEY } from '../../src/store/migrate.js'
import { withBlocker } from '../support/lockWaiters.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { processes, stopWhen } from './support/stopWhen.js'

let h: Harness
let postgres: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  // Refuses every connection: never opened.
  postgres = await lateRelay(h.databaseUrl)
})
afterAll(async () => {
  await postgres?.close()
  await h?.close()
})

for (const { name, args, started } of processes) {
  it(`the ${name} stopped while its start-up migrations wait for Postgres exits 0`, async () => {
    const { code, signal, messages } = await stopWhen(h, args, 'migrations could not reach Postgres at start-up', { DATABASE_URL: postgres.url })
    expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
    expect(messages).toContain('shutting down')
    expect(messages).not.toContain(started)
  }, 60_000)

  it(`the ${name} stopped while its start-up migrations wait for another process's (the migration lock) exits 0`, async () => {
    const { code, signal, messages } = await withBlocker(h.databaseUrl, async ({ blocker, waiters }) => {
      await blocker.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])
      return stopWhen(h, args, undefined, {}, () => eventually(async () => (await waiters()) > 0, 20_000))
    })
    expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
    expect(messages).toContain('shutting down')
    expect(messages).not.toContain(started)
  }, 60_000)
}
