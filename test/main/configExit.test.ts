/**
 * Every configuration error stops the worker and the API the same way, whether the process runs as
 * `deputy worker` / `deputy api` or as src/main/worker.ts (the bench and the drill start it so):
 * exit code 2 and one line on stderr naming the variable and its rule, never the value (a master
 * key or a Privy secret). The master key and the custody signer's settings are checked after the
 * config (`checkLocalSettings`), and exited 1 with their own error: two lines through the CLI, a
 * fatal log line with the stack when run directly (as did a bad config value then).
 */
import { expect, it } from 'vitest'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { runToExit } from '../support/runToExit.js'
import { REDIS_URL } from '../worker/support/harness.js'

const entries = [
  { name: 'deputy worker', args: ['bin/deputy.js', 'worker'] },
  { name: 'deputy api', args: ['bin/deputy.js', 'api'] },
  { name: 'src/main/worker.ts', args: ['--import', 'tsx', 'src/main/worker.ts'] },
]

/** Base64 of 'secret-value-too-short' (not 32 bytes), and a Privy key that is no key: values the output must not show. */
const SHORT_KEY = 'c2VjcmV0LXZhbHVlLXRvby1zaG9ydA=='
const NOT_A_KEY = 'U0VDUkVUS0VZTUFURVJJQUxub3RhcDI1NmtleQ=='
const APP_SECRET = 'privy-app-secret-do-not-print'
const masterKey = generateMasterKey('test')

const cases = [
  { variable: 'DEPUTY_MASTER_KEY', env: { DEPUTY_MASTER_KEY: `main:${SHORT_KEY}` } },
  { variable: 'DEPUTY_MASTER_KEY', env: {} },
  { variable: 'PRIVY_APP_ID', env: { DEPUTY_MASTER_KEY: masterKey, WALLET_SIGNER: 'privy', PRIVY_APP_SECRET: APP_SECRET } },
  { variable: 'PRIVY_AUTHORIZATION_KEYS', env: { DEPUTY_MASTER_KEY: masterKey, WALLET_SIGNER: 'privy', PRIVY_APP_ID: 'app', PRIVY_APP_SECRET: APP_SECRET, PRIVY_AUTHORIZATION_KEYS: `wallet-auth:${NOT_A_KEY}` } },
  { variable: 'WALLET_SIGNER', env: { DEPUTY_MASTER_KEY: masterKey, WALLET_SIGNER: 'hsm' } },
  // src/config.ts's own rules: the CLI exited 2 on them already, the file run alone with Node's stack.
  { variable: 'WORKER_CONCURRENCY', env: { DEPUTY_MASTER_KEY: masterKey, WORKER_CONCURRENCY: '0' }, only: 'src/main/worker.ts' },
]
const secrets = [SHORT_KEY, NOT_A_KEY, APP_SECRET, masterKey.split(':')[1]!]

for (const entry of entries) {
  it.each(cases.filter((c) => !c.only || c.only === entry.name))(`${entry.name}: a bad $variable exits 2 with one line naming it, never its value`, async ({ variable, env }) => {
    const childEnv: Record<string, string | undefined> = {
      ...process.env,
      // Never reached: a process that got past its settings would wait for these, and be killed.
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/deputy_config_exit_never', REDIS_URL, OPERATOR_URL: 'http://127.0.0.1:9',
      QUEUE_PREFIX: 'deputy-test-config-exit', API_PORT: '0', LOG_LEVEL: 'info', ...env,
    }
    for (const key of ['DEPUTY_MASTER_KEY', 'WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS', 'WORKER_CONCURRENCY']) if (!(key in env)) delete childEnv[key]
    const { code, stdout, stderr } = await runToExit(entry.args, childEnv)
    expect({ code, stdout, lines: stderr.trimEnd().split('\n') }).toEqual({ code: 2, stdout: '', lines: [expect.stringMatching(new RegExp(`^deputy: configuration: ${variable}: \\S`))] })
    for (const secret of secrets) expect(stderr).not.toContain(secret)
  }, 30_000)
}
