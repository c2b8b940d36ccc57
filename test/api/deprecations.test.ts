import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

/*
 * The API is built on options Fastify still supports: a deprecated one prints a warning on every
 * start-up (the demo's first screen showed FSTDEP022) and stops working at Fastify's next major.
 * Built in a fresh process: Fastify warns once per process, and the test runner's has built the API before.
 */
it('builds without a Fastify deprecation warning', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/api/support/buildApiWarnings.ts'], { env: process.env, timeout: 50_000 })
  const warnings = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
  expect(warnings.filter((warning) => warning.startsWith('FST'))).toEqual([])
}, 60_000)
