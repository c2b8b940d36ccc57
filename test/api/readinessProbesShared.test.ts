/**
 * `/readyz` is unauthenticated, and each check pings Postgres and Redis and GETs the operator's
 * /v1/info. Probes arriving while a check is under way share the next one: a flood of probes costs
 * two checks at a time, not one request to the operator each.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import { apiHarnessForFile } from './support/apiHarness.js'

const file = apiHarnessForFile()
/** The operator's /v1/info, through a counter that holds each answer 100 ms. */
let infoRequests = 0
const counting = createServer((request, response) => {
  infoRequests++
  setTimeout(() => {
    void fetch(new URL(request.url ?? '/', file.api.h.sandbox.url)).then(async (answer) => {
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text())
    })
  }, 100)
})
afterAll(() => new Promise<void>((resolve) => { counting.close(() => resolve()) }))

it('twenty probes at once cost two checks (one operator request each), every probe answered in full; a later probe checks again', async () => {
  await new Promise<void>((resolve) => { counting.listen(0, '127.0.0.1', () => resolve()) })
  const { port } = counting.address() as AddressInfo
  const { deps } = file.api
  const app = await buildApi({ ...deps, runtime: { ...deps.runtime, venue: { ...deps.runtime.venue, baseUrl: `http://127.0.0.1:${port}` } } }, { logger: false })
  try {
    const probes = await Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'GET', url: '/readyz' })))
    expect(infoRequests).toBe(2)
    for (const probe of probes) {
      expect(probe.statusCode).toBe(200)
      expect(probe.json()).toMatchObject({ status: 'ready', checks: { operator: { ok: true }, operatorDomain: { ok: true } } })
    }
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    expect(infoRequests).toBe(3)
  } finally {
    await app.close()
  }
})
