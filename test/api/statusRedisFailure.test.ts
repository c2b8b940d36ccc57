/**
 * `GET /v1/status` answers with `queues: null` when Redis cannot be read. Redis's silence is said as
 * such; any other failure is said in words of ours, its own text (a host and port, an auth or ACL
 * refusal naming the deployment's Redis) going only to the API's log, not to a tenant.
 */
import type { Queue } from 'bullmq'
import { expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import { capturedLog } from '../support/capturedLog.js'
import { apiHarnessForFile } from './support/apiHarness.js'

const file = apiHarnessForFile()

it('says Redis failed without its error text, which goes to the API log', async () => {
  const { deps } = file.api
  const failing = new Proxy(deps.submitQueue, {
    get: (queue, name, receiver) => (name === 'getJobCounts'
      ? () => Promise.reject(new Error('connect ECONNREFUSED 10.9.8.7:6379 (redis-internal.prod)'))
      : Reflect.get(queue, name, receiver) as unknown),
  }) as Queue
  const { log, entries } = capturedLog('warn')
  const app = await buildApi({ ...deps, submitQueue: failing, runtime: { ...deps.runtime, log } })
  try {
    const response = await app.inject({ method: 'GET', url: '/v1/status', headers: file.tenant.headers })
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json()).toMatchObject({ queues: null, queuesUnavailable: 'Redis: failed (the API log says why)' })
    expect(response.body).not.toMatch(/10\.9\.8\.7|redis-internal|ECONNREFUSED/)
    expect(JSON.stringify(entries())).toMatch(/ECONNREFUSED 10\.9\.8\.7:6379/)
  } finally {
    await app.close()
  }
})
