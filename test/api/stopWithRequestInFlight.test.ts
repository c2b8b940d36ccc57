/**
 * `deputy api` stopped (SIGTERM) with a request in flight answers it, then exits 0 once its
 * connections are closed. Clients keep connections alive (fetch, the CLI, a load balancer): the
 * answer went out with `Connection: keep-alive`, and Node's server close waited for that connection
 * until the client dropped it or the keep-alive timeout (72 s) passed, so the process ran into its
 * shutdown deadline and exited 1 on every stop under load.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { withBlocker } from '../support/lockWaiters.js'
import { REDIS_URL, createHarness, eventually, type Harness } from '../worker/support/harness.js'

const ADMIN_TOKEN = 'admin-token-for-the-stop-test-0123456789'
let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('the API stopped with a request in flight answers it, then exits 0', async () => {
  const env: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: h.databaseUrl, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url, LOG_LEVEL: 'info',
    DEPUTY_MASTER_KEY: h.masterKey, API_HOST: '127.0.0.1', API_PORT: '0', SHUTDOWN_TIMEOUT_MS: '5000', ADMIN_TOKEN,
  }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete env[key]
  const child = spawn(process.execPath, ['bin/deputy.js', 'api'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const messages: string[] = []
  let url: string | undefined
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete.filter(Boolean)) {
      const entry = JSON.parse(line) as { msg?: string; url?: string }
      messages.push(entry.msg ?? '')
      if (entry.msg === 'API listening') url = entry.url
    }
  })
  const exited = once(child, 'exit')
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  try {
    const listening = await eventually(async () => url, 20_000)
    const answer = await withBlocker(h.databaseUrl, async ({ blocker, waiters }) => {
      // The request waits on the tenants table, held here, while the API is told to stop.
      await blocker.query('begin')
      await blocker.query('lock table tenants in access exclusive mode')
      const answering = fetch(`${listening}/admin/tenants`, {
        method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'in flight' }),
      }).then(async (reply) => ({ status: reply.status, body: await reply.json() as { tenant?: { name: string } } }))
      await eventually(async () => (await waiters()) > 0)
      child.kill('SIGTERM')
      await eventually(async () => messages.includes('shutting down'))
      await blocker.query('commit')
      return answering
    })
    expect(answer).toMatchObject({ status: 201, body: { tenant: { name: 'in flight' } } })
    const [code, signal] = await exited
    expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
  } finally {
    clearTimeout(timer)
  }
}, 60_000)
