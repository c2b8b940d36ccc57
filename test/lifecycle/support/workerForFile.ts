import { afterAll, beforeAll } from 'vitest'
import type { StartWorkerOptions } from '../../../src/worker.js'
import type { RunningWorker } from '../../../src/worker.js'
import { type Harness, createHarness } from '../../worker/support/harness.js'
import { rows } from '../../worker/support/rows.js'

/**
 * This test file's harness (sandbox, database, queue prefix), its reads (`r`) and one worker
 * started with `options`: made before its tests (`beforeAll`), closed after them. Read them inside
 * tests (they are set once the file's `beforeAll` ran).
 */
export function workerForFile(options: Partial<StartWorkerOptions> = {}): { h: Harness; worker: RunningWorker; r: ReturnType<typeof rows> } {
  const file = {} as { h: Harness; worker: RunningWorker; r: ReturnType<typeof rows> }
  beforeAll(async () => {
    file.h = await createHarness()
    file.r = rows(file.h.db)
    file.worker = await file.h.startWorker(options)
  })
  afterAll(async () => { await file.h?.close() })
  return file
}
