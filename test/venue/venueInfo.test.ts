import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createVenueClient } from '../../src/venue/createVenueClient.js'

// `GET /v1/info` (PROTOCOL.md §2): `maxDeadlineMs` defaults to 60000 when the operator leaves it out, and an
// answer the worker cannot sign by (no chain id, a clock that is not a number) fails with the field named,
// instead of NaN deadlines and offsets later.
let server: ReturnType<typeof createServer>
let baseUrl: string
let body: Record<string, unknown> = {}
const valid = { name: 'Venue', version: '1', chainId: 31337, verifyingContract: '0x00000000000000000000000000000000000000aa', serverTime: 1_800_000_000_000 }
beforeAll(async () => {
  server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const info = (answer: Record<string, unknown>) => {
  body = answer
  return createVenueClient({ baseUrl }).info()
}

it('reads maxDeadlineMs as 60000 when the operator leaves it out, and as given otherwise', async () => {
  expect(await info(valid)).toMatchObject({ ...valid, maxDeadlineMs: 60_000 })
  expect((await info({ ...valid, maxDeadlineMs: 15_000 })).maxDeadlineMs).toBe(15_000)
})

it('refuses an answer it cannot sign by, naming the field and the rule', async () => {
  await expect(info({ ...valid, maxDeadlineMs: -1 })).rejects.toThrow(/maxDeadlineMs.*positive integer/)
  await expect(info({ ...valid, maxDeadlineMs: '60000' })).rejects.toThrow(/maxDeadlineMs.*positive integer/)
  await expect(info({ ...valid, serverTime: undefined })).rejects.toThrow(/serverTime.*unix ms/)
  await expect(info({ ...valid, chainId: '31337' })).rejects.toThrow(/chainId.*positive integer/)
  await expect(info({ ...valid, verifyingContract: '0x12' })).rejects.toThrow(/verifyingContract.*address/)
  await expect(info({ ...valid, version: '2' })).rejects.toThrow(/version.*"1"/)
  await expect(info({ ...valid, name: '' })).rejects.toThrow(/name.*non-empty/)
})
