import { expect, it } from 'vitest'
import { runToExit } from '../support/runToExit.js'

/** Runs the crash fixture and answers its exit code, its stdout lines and its stderr. */
async function crash(kind: 'rejection' | 'exception'): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const { code, stdout, stderr } = await runToExit(['--import', 'tsx', 'test/support/crashProcess.ts'], { ...process.env, CRASH_FIXTURE_KIND: kind })
  return { code, lines: stdout.split('\n').filter(Boolean), stderr }
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
