import { setImmediate as tick } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { createApiHarness } from './support/apiHarness.js'

/*
 * The API is built on options Fastify still supports: a deprecated one prints a warning on every
 * start-up (the demo's first screen showed FSTDEP022) and stops working at Fastify's next major.
 */
it('builds without a Fastify deprecation warning', async () => {
  const warnings: string[] = []
  const onWarning = (warning: Error & { code?: string }) => { warnings.push(`${warning.code ?? warning.name}: ${warning.message}`) }
  process.on('warning', onWarning)
  try {
    const api = await createApiHarness()
    await api.close()
    await tick()
  } finally {
    process.off('warning', onWarning)
  }
  expect(warnings.filter((warning) => warning.startsWith('FST'))).toEqual([])
})
