/**
 * A worker or an API process stopped (SIGTERM) while it is still starting — here waiting for an operator that does not
 * answer, which start-up waits out with no end — stops as a running one does: at once, exit code 0,
 * having taken no work. A supervisor rolling a deployment sends it to processes in any state.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL } from '../worker/support/harness.js'

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

for (const { name, args, started } of processes) {
  it(`the ${name} stopped while it waits for the operator at start-up exits 0, saying so`, async () => {
    const env: Record<string, string | undefined> = {
      ...process.env, DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: 'deputy-test-stop-starting', OPERATOR_URL: operator.url, LOG_LEVEL: 'info',
      DEPUTY_MASTER_KEY: generateMasterKey('test'), API_HOST: '127.0.0.1', API_PORT: '0',
    }
    for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete env[key]
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
    const lines: { msg?: string }[] = []
    let waiting!: () => void
    const waitingForOperator = new Promise<void>((resolve) => { waiting = resolve })
    let buffered = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk
      const complete = buffered.split('\n')
      buffered = complete.pop()!
      for (const line of complete.filter(Boolean)) {
        const entry = JSON.parse(line) as { msg?: string }
        lines.push(entry)
        if (entry.msg?.startsWith('the operator did not answer at start-up')) waiting()
      }
    })
    const exited = once(child, 'exit')
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000)
    try {
      await waitingForOperator
      const stoppedAt = Date.now()
      child.kill('SIGTERM')
      const [code, signal] = await exited
      expect({ code, signal }).toEqual({ code: 0, signal: null })
      // It did not wait out a retry delay of start-up, nor the shutdown deadline.
      expect(Date.now() - stoppedAt).toBeLessThan(5_000)
      expect(lines.map((line) => line.msg)).toContain('shutting down')
      expect(lines.map((line) => line.msg)).not.toContain(started)
    } finally {
      clearTimeout(timer)
    }
  }, 40_000)
}
