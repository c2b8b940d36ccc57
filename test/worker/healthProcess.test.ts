/**
 * `deputy worker` with WORKER_HEALTH_PORT set, as a supervisor probes it: /readyz answers 503
 * while the worker starts (here waiting for an operator that does not answer yet), 200 once it has
 * started, 503 naming Redis while its Redis cannot be reached (a relay of this test's own in front
 * of the shared Redis, closed: the shared Redis is left alone); /healthz answers 200 all along;
 * after SIGTERM the port refuses connections. A port already taken stops the worker at start-up,
 * naming the variable.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { type AddressInfo, connect, createServer } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { freePort } from '../support/freePort.js'
import { lateRelay } from '../support/lateRelay.js'
import { runToExit } from '../support/runToExit.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let operator: Awaited<ReturnType<typeof lateRelay>>
let redis: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  operator = await lateRelay(h.sandbox.url)
  redis = await lateRelay(REDIS_URL)
  await redis.open()
})
afterAll(async () => {
  await operator?.close()
  await redis?.close()
  await h?.close()
}, 60_000)

function workerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: h.databaseUrl, REDIS_URL: redis.url, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: operator.url, DEPUTY_MASTER_KEY: h.masterKey,
    LOG_LEVEL: 'info', RECONCILE_INTERVAL_MS: '60000', SHUTDOWN_TIMEOUT_MS: '10000', ...extra,
  }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS', 'WORKER_HEALTH_HOST']) delete env[key]
  return env
}

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

/** The error code of a new TCP connection to `url`'s port (fetch may reuse a kept-alive one instead). */
async function connectError(url: string): Promise<string | undefined> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1')
  return new Promise((resolve) => {
    socket.once('connect', () => { socket.destroy(); resolve(undefined) })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code))
  })
}

it('readyz answers 503 while starting, 200 once started, 503 naming Redis while it cannot be reached; after SIGTERM the port refuses connections', async () => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], { env: workerEnv({ WORKER_HEALTH_PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk })
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk })
  const exited = once(child, 'exit')
  const killer = setTimeout(() => child.kill('SIGKILL'), 170_000)
  try {
    // Starting: the operator refuses every connection, and start-up waits for it.
    // A process started on a loaded machine may take a while to load its code.
    await eventually(() => probe(`${base}/healthz`).then((answer) => answer.status === 200), 60_000, 100)
    expect(await probe(`${base}/readyz`)).toEqual({ status: 503, body: { status: 'starting' } })
    expect(output).not.toContain('worker started')

    await operator.open()
    const ready = await eventually(() => probe(`${base}/readyz`).then((answer) => answer.status === 200 && answer), 20_000, 100)
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: { ok: true, detail: 'ok' }, redis: { ok: true, detail: 'ok' }, operatorDomain: { ok: true, detail: 'ok' } } })
    expect(output).toContain('worker started')

    // Redis refuses connections (the worker's are cut): not ready, naming Redis and each connection; still live.
    await redis.close()
    const silent = await eventually(() => probe(`${base}/readyz`).then((answer) => answer.status === 503 && answer), 15_000, 100)
    expect(silent.body).toEqual({ status: 'unavailable', checks: { postgres: { ok: true, detail: 'ok' }, redis: { ok: false, detail: expect.stringContaining('submit queue: no answer within 2000 ms') as unknown }, operatorDomain: { ok: true, detail: 'ok' } } })
    expect(JSON.stringify(silent.body)).not.toContain(redis.url.replace('redis://', ''))
    expect(await probe(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } })

    // Redis back: ready again.
    await redis.open()
    await eventually(() => probe(`${base}/readyz`).then((answer) => answer.status === 200), 20_000, 200)

    child.kill('SIGTERM')
    const [code] = await exited
    expect(code, output).toBe(0)
    expect(await connectError(base)).toBe('ECONNREFUSED')
  } finally {
    clearTimeout(killer)
    if (child.exitCode === null) child.kill('SIGKILL')
  }
}, 180_000)

it('a WORKER_HEALTH_PORT already taken stops the worker at start-up with exit code 1, naming the variable and the address', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const { port } = taken.address() as AddressInfo
  try {
    const result = await runToExit(['--import', 'tsx', 'src/main/worker.ts'], workerEnv({ WORKER_HEALTH_PORT: String(port) }), 80_000)
    expect(result.code, result.stdout + result.stderr).toBe(1)
    const lines = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string })
    expect(lines.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([`WORKER_HEALTH_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE: the port is in use); exiting`])
    expect(lines.map((line) => line.msg)).not.toContain('worker started')
  } finally {
    await new Promise((resolve) => taken.close(resolve))
  }
}, 90_000)

it('a bad WORKER_HEALTH_PORT stops the worker before it starts, with exit code 2 and one line naming the variable', async () => {
  const result = await runToExit(['--import', 'tsx', 'src/main/worker.ts'], workerEnv({ WORKER_HEALTH_PORT: '70000' }), 80_000)
  expect(result.code).toBe(2)
  expect(result.stderr).toBe('deputy: configuration: WORKER_HEALTH_PORT: must be a port from 1 to 65535\n')
}, 90_000)
