/**
 * A worker or API process stopped (SIGTERM) while its start-up migrations wait for Postgres stops as
 * one stopped while it waits for the operator does: exit 0, without starting, having taken no work.
 * A supervisor rolling a deployment during a Postgres outage sends SIGTERM to processes in that
 * state. The wait for Postgres went on under the signal, and the process exited 1 at its deadline.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, type Harness } from './support/harness.js'

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

/** Starts the process, sends SIGTERM once it logged `waiting`, and answers its exit code and log messages. */
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

for (const { name, args, started } of processes) {
  it(`the ${name} stopped while its start-up migrations wait for Postgres exits 0`, async () => {
    const { code, signal, messages } = await stopWhen(args, 'migrations could not reach Postgres at start-up', { DATABASE_URL: postgres.url })
    expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
    expect(messages).toContain('shutting down')
    expect(messages).not.toContain(started)
  }, 60_000)
}
