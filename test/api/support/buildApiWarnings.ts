/**
 * Builds the API once, in a process of its own, and prints as JSON the process warnings emitted
 * meanwhile (`deprecations.test.ts`). Fastify emits each deprecation warning once per process: in
 * the test runner's process, where earlier files built the API, it would already have been emitted.
 */
import { setImmediate as tick } from 'node:timers/promises'
import { createApiHarness } from './apiHarness.js'

const warnings: string[] = []
process.on('warning', (warning: Error & { code?: string }) => { warnings.push(`${warning.code ?? warning.name}: ${warning.message}`) })
const api = await createApiHarness()
await api.close()
await tick()
process.stdout.write(`${JSON.stringify(warnings)}\n`)
