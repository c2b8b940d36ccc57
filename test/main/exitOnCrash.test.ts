import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { expect, it } from 'vitest'

/** Runs the crash fixture and answers its exit code, its stdout lines and its stderr. */
async function crash(kind: 'rejection' | 'exception'): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/crashProcess.ts'], { env: { ...process.env, CRASH_FIXTURE_KIND: kind }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk })
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk })
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)
  return { code: code as number | null, lines: stdout.split('\n').filter(Boolean), stderr }
}

for (const [kind, msg] of [['rejection', 'unhandled promise rejection; exiting'], ['exception', 'uncaught exception; exiting']] as const) {
  it(`an ${kind === 'rejection' ? 'unhandled rejection' : 'uncaught exception'} exits 1 after one fatal log line, the error's secret redacted`, async () => {
    const { code, lines, stderr } = await crash(kind)
    expect(code).toBe(1)
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!) as { level: number; msg: string; err: { message: string; privateKey: string; stack: string } }
    expect(line).toMatchObject({ level: 60, msg, err: { message: 'the fixture failed', privateKey: '[redacted]' } })
    expect(line.err.stack).toContain('crashProcess.ts')
    // Node's own report of the error (to stderr) is replaced, secret and all.
    expect(stderr).toBe('')
    expect(lines[0]).not.toContain('feedface')
  })
}
