/**
 * A worker or an API process stopped (SIGTERM) while it is still starting stops as a running one
 * does: at once, exit code 0, having taken no work. A supervisor rolling a deployment sends it to
 * processes in any state. Here it waits, with no end of its own, for:
 * - an operator that refuses connections (start-up waits for it with no end);
 * - a Postgres that took the migration's connection and never answers (a paused server): the
 *   connect had no way to be ended by the stop, which waited for its timeout and ran into the
 *   process's shutdown deadline (exit code 1, 'shutdown did not finish in time').
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { freezingRelay } from '../support/freezingRelay.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

let testDb: TestDatabase
let operator: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  testDb = await createTestDatabase({ migrate: false })
  // An operator address that refuses every connection: start-up waits for it.
  operator = await lateRelay('http://127.0.0.1:9')
})
afterAll(async () => {
  await operator?.close()
  await testDb?.drop()
})

const processes = [
  { name: 'worker', args: ['--import', 'tsx', 'src/main/worker.ts'], started: 'worker started' },
  { name: 'API', args: ['bin/deputy.js', 'api'], started: 'API listening' },
]

/** Starts the process, sends SIGTERM once `waiting` resolves (given its log lines so far), and answers how it exited and what it logged. */
async function stopWhileStarting(args: string[], env: Record<string, string>, waiting: (lines: { msg?: string }[]) => Promise<void>) {
  const childEnv: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: 'deputy-test-stop-starting', OPERATOR_URL: operator.url, LOG_LEVEL: 'info',
    DEPUTY_MASTER_KEY: generateMasterKey('test'), API_HOST: '127.0.0.1', API_PORT: '0', ...env,
  }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete childEnv[key]
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: { msg?: string }[] = []
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete.filter(Boolean)) lines.push(JSON.parse(line) as { msg?: string })
  })
  const exited = once(child, 'exit')
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  try {
    await waiting(lines)
    const stoppedAt = Date.now()
    child.kill('SIGTERM')
    const [code, signal] = await exited
    return { code, signal, stoppedInMs: Date.now() - stoppedAt, messages: lines.map((line) => line.msg) }
  } finally {
    clearTimeout(timer)
  }
}

for (const { name, args, started } of processes) {
  it(`the ${name} stopped while it waits for the operator at start-up exits 0, saying so`, async () => {
    const stopped = await stopWhileStarting(args, {}, (lines) => eventually(async () => lines.some((line) => line.msg?.startsWith('the operator did not answer at start-up')), 25_000).then(() => undefined))
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: 0, signal: null })
    // It did not wait out a retry delay of start-up, nor the shutdown deadline.
    expect(stopped.stoppedInMs).toBeLessThan(5_000)
    expect(stopped.messages).toContain('shutting down')
    expect(stopped.messages).not.toContain(started)
  }, 60_000)

  it(`the ${name} stopped while Postgres took its connection at start-up and never answers exits 0, saying so`, async () => {
    const postgres = await freezingRelay(testDb.url)
    postgres.freeze()
    try {
      // Its connection's timeout (DATABASE_QUERY_TIMEOUT_MS and 1 s) outlasts the shutdown deadline (SHUTDOWN_TIMEOUT_MS and 10 s for the worker).
      const stopped = await stopWhileStarting(args, { DATABASE_URL: postgres.url, DATABASE_QUERY_TIMEOUT_MS: '30000', SHUTDOWN_TIMEOUT_MS: '1000' }, () => eventually(async () => postgres.accepted > 0, 25_000).then(() => undefined))
      expect({ code: stopped.code, signal: stopped.signal, messages: stopped.messages }).toEqual({ code: 0, signal: null, messages: expect.not.arrayContaining(['shutdown did not finish in time; exiting']) as unknown })
      expect(stopped.messages).toContain('shutting down')
      expect(stopped.messages).not.toContain(started)
    } finally {
      await postgres.close()
    }
  }, 60_000)
}
