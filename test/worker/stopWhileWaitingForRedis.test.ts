/**
 * A worker stopped (SIGTERM) while its start-up waits for Redis (restarted during a Redis outage;
 * its cancel lane and event streams already run, as they need no Redis) stops as one stopped while
 * it waits for the operator does: exit 0, without starting, its event streams' leases released so
 * another process takes the wallets at once. The last start-up steps' wait for Redis went on under
 * the signal, and the process exited 1 at its deadline, leaving its leases to lapse.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { isNotNull } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { streamCursors } from '../../src/store/schema/index.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  // Refuses every connection: never opened.
  redis = await lateRelay(REDIS_URL)
})
afterAll(async () => {
  await redis?.close()
  await h?.close()
})


/** Starts the worker, sends SIGTERM once it logged `waiting`, and answers its exit code and log messages. */
async function stopWhen(args: string[], waiting: string, env: Record<string, string>, before: () => Promise<unknown> = async () => undefined) {
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
      if (msg.startsWith(waiting)) seen()
    }
  })
  const exited = once(child, 'exit')
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  try {
    await reached
    await before()
    child.kill('SIGTERM')
    const [code, signal] = await exited
    return { code, signal, messages }
  } finally {
    clearTimeout(timer)
  }
}

it('the worker stopped while it waits for Redis after its start-up reconciliation exits 0, its event streams\' leases released', async () => {
  await h.wallet()
  // Its event stream runs meanwhile (it needs no Redis), holding the wallet's lease.
  const leased = () => eventually(async () => (await h.db.select().from(streamCursors).where(isNotNull(streamCursors.leaseOwner))).length > 0, 20_000)
  const { code, signal, messages } = await stopWhen(['--import', 'tsx', 'src/main/worker.ts'], 'start-up reconciliation done', { REDIS_URL: redis.url }, leased)
  expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
  expect(messages).not.toContain('worker started')
  // Another process takes the wallet at once, not after the lease lapses.
  expect(await h.db.select().from(streamCursors).where(isNotNull(streamCursors.leaseOwner))).toEqual([])
}, 60_000)
