import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createVenueClient } from '../../src/venue/createVenueClient.js'

// PROTOCOL.md does not fix how reads encode `side`: an operator listing an order (another client's,
// say) whose side is neither buy nor sell must not fail the list, which reconciliation reads whole.
let server: ReturnType<typeof createServer>
let baseUrl: string
const cloid = (byte: string) => `0x${byte.repeat(16)}`
beforeAll(async () => {
  server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json')
    const order = (id: string, side: unknown) => ({ clientOrderId: cloid(id), orderId: id, market: 'ETH-USD', side, price: '1', size: '1', filled: '0', averagePrice: '0', status: 'open', revision: 0, updatedAt: 0 })
    response.end(JSON.stringify({ orders: [order('11', 'sell'), order('22', 'ask'), order('33', 'BUY'), order('44', 1)] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

it('reads each row\'s side on its own: one that is neither buy nor sell is null, never a buy, and the others are read', async () => {
  const orders = await createVenueClient({ baseUrl }).openOrders(async () => ({}))
  expect(orders.map((o) => [o.clientOrderId, o.side])).toEqual([[cloid('11'), 1], [cloid('22'), null], [cloid('33'), 0], [cloid('44'), 1]])
})
