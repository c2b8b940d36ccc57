/**
 * A worker starting before its operator answers (the operator restarting, or
 * its address not yet routed) waits for it instead of exiting, and takes work
 * once it answers; an operator that answers with an error (a wrong
 * OPERATOR_URL's 404) fails the start at once instead of being waited for.
 * The operator comes up mid-start as a TCP relay to the real sandbox on a port
 * that refused connections until then.
 */
import { type Server, createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { VenueError } from '../../src/core/errors/venue.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { expectTakesWork } from './support/takesWork.js'

let h: Harness
const servers: Server[] = []
const closers: (() => Promise<void>)[] = []
beforeAll(async () => { h = await createHarness() })
afterAll(async () => {
  await h?.close()
  for (const close of closers) await close()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
})

it('waits for an operator that does not answer yet, then starts and takes work through it', async () => {
  const operator = await lateRelay(h.sandbox.url)
  closers.push(operator.close)
  const { log, lines } = capturedLog()
  const starting = h.startWorker({ operatorUrl: operator.url, log })
  starting.catch(() => undefined)
  // Refused at least twice (the first retry comes after 250 ms, the second 500 ms later).
  await eventually(async () => lines.filter((line) => line.includes('the operator did not answer at start-up')).length >= 2, 10_000)

  await operator.open()

  await expectTakesWork(h, await starting)
}, 60_000)

it('fails the start at once when the operator answers with an error rather than waiting for it', async () => {
  const notAnOperator = createHttpServer((_request, response) => { response.writeHead(404); response.end('not found') })
  servers.push(notAnOperator)
  await new Promise<void>((resolve) => notAnOperator.listen(0, '127.0.0.1', resolve))
  const { log, lines } = capturedLog()
  const error = await h.startWorker({ operatorUrl: `http://127.0.0.1:${(notAnOperator.address() as AddressInfo).port}`, log }).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(VenueError)
  expect(error).toMatchObject({ venueCode: 'InvalidRequest', status: 404 })
  expect(lines.filter((line) => line.includes('the operator did not answer at start-up'))).toEqual([])
})
