import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

/*
 * A credential the HTTP client cannot put in a header (a line break pasted with it, a control
 * character, a letter outside Latin-1) is refused naming the setting and the rule, never quoting it:
 * fetch's own error ("Headers.append: "Bearer <key>" is an invalid header value") printed the key.
 */

const root = fileURLToPath(new URL('../..', import.meta.url))
type Run = { code: number; stdout: string; stderr: string }

function deputy(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/deputy.js', ...args], { cwd: root, env: { ...process.env, DEPUTY_API_KEY: '', DEPUTY_ADMIN_TOKEN: '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}

let url: string
beforeAll(async () => {
  // A port nothing listens on: the credential must be refused before any connection is tried.
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  await new Promise((r) => server.close(r))
})

describe('a credential that cannot be sent', () => {
  it.each([
    ['a line break', 'dpk_secret-part-0123\nsecond-line-0123'],
    ['a control character', 'dpk_secret-part-0123\u0001'],
    ['a character outside Latin-1', 'dpk_secret-part-0123\u20ac'],
  ])('DEPUTY_API_KEY with %s: a usage error naming the setting, without the key', async (_what, key) => {
    const run = await deputy(['wallet', 'list', '--json'], { DEPUTY_API_URL: url, DEPUTY_API_KEY: key })
    expect(run.code).toBe(2)
    expect(run.stderr + run.stdout).not.toMatch(/secret-part|second-line/)
    expect(run.stderr).toMatch(/DEPUTY_API_KEY: must be printable ASCII/)
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'CLI.INVALID_CREDENTIAL' } })
  })

  it('--api-key is named when the key came from it', async () => {
    const run = await deputy(['wallet', 'list', '--api-key', 'dpk_secret-part-0123\nsecond-line-0123'], { DEPUTY_API_URL: url })
    expect(run.code).toBe(2)
    expect(run.stderr).not.toMatch(/secret-part|second-line/)
    expect(run.stderr).toMatch(/--api-key: must be printable ASCII/)
  })

  it('DEPUTY_ADMIN_TOKEN likewise, for admin commands', async () => {
    const run = await deputy(['tenant', 'list'], { DEPUTY_API_URL: url, DEPUTY_ADMIN_TOKEN: 'admin-secret-part-0123\nsecond-line-0123' })
    expect(run.code).toBe(2)
    expect(run.stderr).not.toMatch(/secret-part|second-line/)
    expect(run.stderr).toMatch(/DEPUTY_ADMIN_TOKEN: must be printable ASCII/)
  })
})
