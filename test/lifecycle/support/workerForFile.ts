import { afterAll, beforeAll } from 'vitest'
import type { StartWorkerOptions } from '../../../src/worker.js'
import type { RunningWorker } from '../../../src/worker.js'
import { type Harness, createHarness } from '../../worker/support/harness.js'
import { rows } from '../../worker/support/rows.js'
import { type GateProxy, startGateProxy } from './gateProxy.js'

/**
 * This test file's harness (sandbox, database, queue prefix), its reads (`r`) and one worker
 * started with `options`: made before its tests (`beforeAll`), closed after them. Read them inside
 * tests (they are set once the file's `beforeAll` ran).
 */
export function workerForFile(options: Partial<StartWorkerOptions> = {}): { h: Harness; worker: RunningWorker; r: ReturnType<typeof rows> } {
  return forFile(options, false)
}

/**
 * As `workerForFile`, with the worker talking to the sandbox through a gate proxy (`gate`, started
 * on the sandbox's URL before the worker and closed after the harness), so a test can hold a signed
 * request, a revocation or a stream opening on the wire.
 */
export function gatedWorkerForFile(options: Partial<Omit<StartWorkerOptions, 'operatorUrl'>> = {}): { h: Harness; worker: RunningWorker; r: ReturnType<typeof rows>; gate: GateProxy } {
  return forFile(options, true)
}

function forFile(options: Partial<StartWorkerOptions>, gated: boolean) {
  const file = {} as { h: Harness; worker: RunningWorker; r: ReturnType<typeof rows>; gate: GateProxy }
  beforeAll(async () => {
    file.h = await createHarness()
    file.r = rows(file.h.db)
    if (gated) file.gate = await startGateProxy(file.h.sandbox.url)
    file.worker = await file.h.startWorker(gated ? { operatorUrl: file.gate.url, ...options } : options)
  })
  afterAll(async () => {
    await file.h?.close()
    if (gated) await file.gate?.close()
  })
  return file
}
