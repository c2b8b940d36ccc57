import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { WORKER_NODE_OPTIONS } from '../../src/main/workerNodeOptions.js'

/**
 * Churns short-lived objects while keeping a large share alive across scavenges (as the
 * orders in flight do), so V8 grows the young generation to its ceiling; prints its size in MB.
 */
const CHURN = `
const v8 = require('node:v8')
let keep = []
for (let i = 0; i < 2e6; i++) { keep.push({ i, list: [i] }); if (keep.length > 400000) keep = [] }
process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20))
`
async function youngGenerationMb(nodeOptions: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', CHURN], { env: { ...process.env, NODE_OPTIONS: nodeOptions } })
  return Number(stdout)
}

it('the Docker image runs every process with the worker node options', async () => {
  const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8')
  expect(dockerfile).toContain(`ENV NODE_OPTIONS="${WORKER_NODE_OPTIONS.join(' ')}"`)
})

it('node takes the worker node options from NODE_OPTIONS, and the young generation grows past the default ceiling', async () => {
  // Node 20's default: two 16 MB semi-spaces.
  expect(await youngGenerationMb('')).toBeLessThanOrEqual(32)
  expect(await youngGenerationMb(WORKER_NODE_OPTIONS.join(' '))).toBe(128)
}, 30_000)
