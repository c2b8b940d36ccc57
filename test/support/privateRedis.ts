import { type ChildProcess, spawn } from 'node:child_process'
import { type AddressInfo, createServer } from 'node:net'
import { Redis } from 'ioredis'

/**
 * A redis-server of the test's own, on a free port, without persistence: for a test that stops the
 * process (SIGSTOP: it keeps its connections and the kernel keeps taking new ones and their bytes,
 * but nothing is answered until SIGCONT), or runs it with settings of its own (`args`, such as
 * `--maxmemory-policy allkeys-lru`), which the shared Redis every test uses must never be.
 */
export async function privateRedis(args: string[] = []) {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' })
  const url = `redis://127.0.0.1:${port}`
  const ping = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 })
  ping.on('error', () => undefined)
  try {
    for (const until = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
      if (await ping.ping().then(() => true, () => false)) break
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer within 10 s`)
    }
  } finally {
    ping.disconnect()
  }
  return {
    url,
    /** SIGSTOP: the server takes connections and bytes and answers nothing, until `resume`. */
    freeze(): void { child.kill('SIGSTOP') },
    /** SIGCONT: the server answers what it was sent meanwhile, and runs again. */
    resume(): void { child.kill('SIGCONT') },
    /** Ends the server (resumed first: a stopped process does not act on SIGTERM until it runs). */
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited
    },
  }
}
