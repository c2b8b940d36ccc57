import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { expect, it } from 'vitest'

/** Starts the fixture, sends SIGTERM once it is ready, and answers its exit code and log messages. */
async function stopFixture(env: Record<string, string>): Promise<{ code: number | null; messages: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/shutdownProcess.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  const messages: string[] = []
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line === 'ready') child.kill('SIGTERM')
      else messages.push((JSON.parse(line) as { msg: string }).msg)
    }
    const [code] = await exited
    return { code: code as number | null, messages }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
}

it('exits 0 once close has finished', async () => {
  expect(await stopFixture({ SHUTDOWN_FIXTURE_DEADLINE_MS: '60000' })).toEqual({ code: 0, messages: ['shutting down'] })
})

it('exits 1, saying so, when close is still running at the deadline (a hung connection does not keep the process alive)', async () => {
  expect(await stopFixture({ SHUTDOWN_FIXTURE_HANG: '1', SHUTDOWN_FIXTURE_DEADLINE_MS: '300' }))
    .toEqual({ code: 1, messages: ['shutting down', 'shutdown did not finish in time; exiting'] })
})

it('exits 1, saying so, when close answers that it was forced (work left running, a connection dropped)', async () => {
  expect(await stopFixture({ SHUTDOWN_FIXTURE_FORCED: '1', SHUTDOWN_FIXTURE_DEADLINE_MS: '60000' })).toEqual({ code: 1, messages: ['shutting down', 'shutdown forced; exiting'] })
})
