/**
 * The worker as production runs it: `src/main/worker.ts` in its own process,
 * configured from the environment, stopped with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Harness } from './harness.js'
import { REDIS_URL } from './harness.js'

export type WorkerProcess = {
  /** The process's lease owner id, from its start-up log line. */
  owner: string
  /** SIGTERM, then the exit code (0 after a graceful shutdown). */
  stop(): Promise<number | null>
  /** Everything it wrote at warn level or above, for failure messages. */
  errors: string[]
}

export async function spawnWorkerProcess(h: Harness, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const entry = fileURLToPath(new URL('../../../src/main/worker.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    env: {
      ...process.env,
      DATABASE_URL: h.databaseUrl, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url, DEPUTY_MASTER_KEY: h.masterKey,
      LOG_LEVEL: 'info', RELAY_INTERVAL_MS: '20', SWEEP_INTERVAL_MS: '500', RECONCILE_INTERVAL_MS: '60000', SHUTDOWN_TIMEOUT_MS: '10000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const errors: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const owner = await new Promise<string>((resolve, reject) => {
    let buffer = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        let entry: { level?: number; msg?: string; owner?: string } = {}
        try {
          entry = JSON.parse(line) as typeof entry
        } catch {
          errors.push(line)
        }
        if ((entry.level ?? 0) >= 40) errors.push(line)
        if (entry.msg === 'worker started' && entry.owner) resolve(entry.owner)
      }
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => errors.push(chunk))
    void exited.then((code) => reject(new Error(`worker process exited (${code}) before starting: ${errors.join('\n')}`)))
  })
  return {
    owner,
    errors,
    stop: async () => {
      child.kill('SIGTERM')
      return exited
    },
  }
}
