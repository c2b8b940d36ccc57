/**
 * A worker whose Postgres takes connections and never answers them (a paused server, a half-open
 * path, a proxy in front of a dead database) once it has migrated, while its start-up
 * reconciliation reads the wallets: the start neither hangs silently nor gives up. Each connect is
 * given up at its timeout (DATABASE_QUERY_TIMEOUT_MS and 1 s), and the warning for the retry names
 * Postgres and the wait (the driver said only 'Connection terminated due to connection timeout',
 * caused by 'Connection terminated unexpectedly'). Told to stop (SIGTERM: the `startupSignal`), the
 * start ends with the stop's reason without waiting out the connect on the wire: it waited it out
 * and failed with the connect's error, which at the default 31 s outlasts the stopping process's
 * 30 s. The connect abandoned fails later, unheard (no unhandled rejection).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { capturedLog } from '../support/capturedLog.js'
import { freezingRelay } from '../support/freezingRelay.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { spawnLoggingWorker } from './support/loggingWorker.js'

/** The connect timeout is this and 1 s. */
const QUERY_TIMEOUT_MS = 2_000
const CONNECT_TIMEOUT_MS = QUERY_TIMEOUT_MS + 1_000

let h: Harness
let postgres: Awaited<ReturnType<typeof freezingRelay>>
let database: Database
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => { unhandled.push(reason) }
beforeAll(async () => {
  h = await createHarness()
  postgres = await freezingRelay(h.databaseUrl)
  database = await openDatabase({ url: postgres.url, max: 2, queryTimeoutMs: QUERY_TIMEOUT_MS })
  process.on('unhandledRejection', onUnhandled)
})
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await postgres?.close()
  await database?.close()
  await h?.close()
})

it('starting while Postgres takes its connections and never answers, the worker says why it waits and retries; a stop ends the start at once, with nothing unhandled', async () => {
  // An active session: the pass has a wallet to read.
  await h.wallet()
  const { log, entries } = capturedLog()
  postgres.freeze()
  const stop = new AbortController()
  const starting = h.startWorker({ db: database.db, database, log, startupSignal: stop.signal, shutdownTimeoutMs: 1_000 }).then(
    () => 'started',
    (error: unknown) => error,
  )
  const waited = await eventually(async () => entries().find((entry) => entry.msg.includes('start-up reconciliation')), 30_000)
  expect(waited, JSON.stringify(entries())).toMatchObject({
    level: 40,
    msg: 'start-up reconciliation failed; retrying before taking work',
    err: { message: expect.stringContaining(`Postgres did not answer a new connection within ${CONNECT_TIMEOUT_MS} ms`) as unknown },
  })

  // The next try's connect is on the wire, unanswered, when the stop comes.
  const before = postgres.accepted
  await eventually(async () => postgres.accepted > before, 30_000)
  const reason = new Error('stopped while starting')
  stop.abort(reason)
  expect(await starting).toBe(reason)

  // The abandoned connect fails when its connection goes; nobody waits for it, and nothing is unhandled.
  postgres.cut()
  await eventually(async () => database.kind === 'pg' && database.pool.totalCount === 0, 30_000)
  await new Promise((resolve) => setImmediate(resolve))
  expect(unhandled).toEqual([])
}, 90_000)

it('the worker process stopped (SIGTERM) while Postgres never answers its start-up reconciliation stops within its deadline, saying it dropped the connect', async () => {
  const fresh = await freezingRelay(h.databaseUrl)
  // Refused until opened: the worker, migrated, waits for it and says so.
  const operator = await lateRelay(h.sandbox.url)
  const env: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: fresh.url, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: operator.url, DEPUTY_MASTER_KEY: h.masterKey, LOG_LEVEL: 'info',
    // The connect timeout (31 s) outlasts the process's shutdown deadline (SHUTDOWN_TIMEOUT_MS and 10 s).
    DATABASE_QUERY_TIMEOUT_MS: '30000', SHUTDOWN_TIMEOUT_MS: '1000',
  }
  const { child, messages, exited, stop } = spawnLoggingWorker(env, 80_000)
  try {
    await eventually(async () => messages.some((msg) => msg.startsWith('the operator did not answer at start-up')), 30_000)
    fresh.freeze()
    fresh.cut()
    const before = fresh.accepted
    await operator.open()
    // The start-up reconciliation's connect is on the wire, unanswered.
    await eventually(async () => fresh.accepted > before, 30_000)
    child.kill('SIGTERM')
    const [code, signal] = await exited
    // The pool's connect still pending is dropped at exit, which a stop that gave up on a connection says (exit 1).
    // It waited for the start instead, which waited out the connect: 'shutdown did not finish in time'.
    expect({ code, signal }, messages.join('\n')).toEqual({ code: 1, signal: null })
    expect(messages).toContain('database connections did not close in time; dropping them at exit')
    expect(messages).toContain('shutdown forced; exiting')
    expect(messages).not.toContain('shutdown did not finish in time; exiting')
    expect(messages).not.toContain('worker started')
  } finally {
    stop()
    await operator.close()
    await fresh.close()
  }
}, 120_000)
