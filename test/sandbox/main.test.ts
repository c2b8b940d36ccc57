import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'

describe('npm run sandbox (src/sandbox/main.ts)', () => {
  it('serves on SANDBOX_HOST:SANDBOX_PORT, logs JSON, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], {
      env: { ...process.env, SANDBOX_HOST: '127.0.0.1', SANDBOX_PORT: '0', SANDBOX_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      let url: string | undefined
      for await (const line of createInterface({ input: child.stdout! })) {
        const entry = JSON.parse(line) as { msg?: string; url?: string }
        if (entry.msg === 'sandbox operator listening') {
          url = entry.url
          break
        }
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const info = await (await fetch(`${url}/v1/info`)).json()
      expect(info).toMatchObject({ version: '1', chainId: 31337, maxDeadlineMs: 60000 })
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const [code] = await exited
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('stops at once on a bad setting, naming the variable and the rule', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], {
      env: { ...process.env, SANDBOX_PORT: '0', SANDBOX_LOG_LEVEL: 'loud' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const [code] = await once(child, 'exit')
    expect(code).toBe(2)
    expect(stderr.trim()).toBe('sandbox: configuration: SANDBOX_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"')
  })
})
