/**
 * A worker or API process stopped (SIGTERM) while its start-up migrations wait, for Postgres or for
 * another process's migration (the advisory lock), stops as one stopped while it waits for the
 * operator does: exit 0, without starting, having taken no work. A supervisor rolling a deployment
 * during a Postgres outage or a long migration sends SIGTERM to processes in that state. The wait
 * went on under the signal, and the process exited 1 at its deadline.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lateRelay } from '../support/lateRelay.js'
import { MIGRATION_LOCK_KEY } from '../../src/store/migrate.js'
import { withBlocker } from '../support/lockWaiters.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'

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

const processes = [
  { name: 'worker', args: ['--import', 'tsx', 'src/main/worker.ts'], started: 'worker started' },
  { name: 'API', args: ['bin/deputy.js', 'api'], started: 'API listening' },
]

/** Starts the process, sends SIGTERM once it logged `waiting` (when given) and `before` is done, and answers its exit code and log messages. */
async function stopWhen(args: string[], waiting: string | undefined, env: Record<string, string>, before: () => Promise<unknown> = async () => undefined) {
  const childEnv: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: h.databaseUrl, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url, LOG_LEVEL: 'info',
    DEPUTY_MASTER_KEY: h.masterKey, API_HOST: '127.0.0.1', API_PORT: '0', SHUTDOWN_TIMEOUT_MS: '2000', ...env,
  }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete childEnv[key]
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] })
  const messages: string[] = []
  let seen!: () => void
  const reached = new Promise<void>((resolve) => { seen = resolve })
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete.filter(Boolean)) {
      const msg = (JSON.parse(line) as { msg?: string }).msg ?? ''
      messages.push(msg)
      if (waiting !== undefined && msg.startsWith(waiting)) seen()
    }
  })
  const exited = once(child, 'exit')
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  try {
    if (waiting !== undefined) await reached
    await before()
    child.kill('SIGTERM')
    const [code, signal] = await exited
    return { code, signal, messages }
  } finally {
    clearTimeout(timer)
  }
}

for (const { name, args, started } of processes) {
  it(`the ${name} stopped while its start-up migrations wait for Postgres exits 0`, async () => {
    const { code, signal, messages } = await stopWhen(args, 'migrations could not reach Postgres at start-up', { DATABASE_URL: postgres.url })
    expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
    expect(messages).toContain('shutting down')
    expect(messages).not.toContain(started)
  }, 60_000)

  it(`the ${name} stopped while its start-up migrations wait for another process's (the migration lock) exits 0`, async () => {
    const { code, signal, messages } = await withBlocker(h.databaseUrl, async ({ blocker, waiters }) => {
      await blocker.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])
      return stopWhen(args, undefined, {}, () => eventually(async () => (await waiters()) > 0, 20_000))
    })
    expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
    expect(messages).toContain('shutting down')
    expect(messages).not.toContain(started)
  }, 60_000)
}
