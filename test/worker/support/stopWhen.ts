import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { REDIS_URL, type Harness } from './harness.js'

/** How the child processes are started: a worker or an API, with what they log once they run. */
export const processes = [
  { name: 'worker', args: ['--import', 'tsx', 'src/main/worker.ts'], started: 'worker started' },
  { name: 'API', args: ['bin/deputy.js', 'api'], started: 'API listening' },
]

/**
 * Starts `args` (a worker or an API process on the harness's database, queues and sandbox, `env`
 * over them), sends SIGTERM once it logged a message starting with `waiting` (when given) and
 * `before` is done, and answers its exit code and the messages it logged.
 */
export async function stopWhen(h: Harness, args: string[], waiting: string | undefined, env: Record<string, string>, before: () => Promise<unknown> = async () => undefined) {
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
