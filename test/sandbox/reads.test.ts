import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Json, type Session, account, collectEvents, delegate, fundedSession, order, post, read, readHeaders, signed, testSandbox } from './helpers.js'

let sandbox: Sandbox
let session: Session

beforeAll(async () => {
  sandbox = await testSandbox()
  session = await fundedSession(sandbox, 'reads')
})
afterAll(() => sandbox.close())

const accept = async (s: Session, body: unknown) => {
  const response = await post(sandbox, '/v1/requests', body)
  expect(response.status, JSON.stringify(response.body)).toBe(200)
  return response.body.receipt
}

describe('authenticated reads', () => {
  it('orders (open | all), one order, fills since N, balances', async () => {
    const own = await fundedSession(sandbox, 'reads:models')
    const resting = order({ price: '1900.5', size: '0.5' })
    const filled = order({ price: '2000', size: '0.25' })
    await accept(own, await signed(own, 'Order', resting))
    const fillReceipt = await accept(own, await signed(own, 'Order', filled))

    const open = await read(sandbox, own, '/v1/orders?status=open')
    expect(open.body.orders).toEqual([
      { clientOrderId: resting.clientOrderId, orderId: expect.any(String), market: 'ETH-USD', side: 'buy', price: '1900.5', size: '0.5', filled: '0', averagePrice: '0', status: 'open', revision: 0, updatedAt: expect.any(Number) },
    ])
    expect((await read(sandbox, own, '/v1/orders')).body.orders).toHaveLength(1)
    expect((await read(sandbox, own, '/v1/orders?status=all')).body.orders).toHaveLength(2)
    expect((await read(sandbox, own, `/v1/orders/${filled.clientOrderId.toUpperCase().replace('0X', '0x')}`)).body).toMatchObject({ status: 'filled', filled: '0.25', averagePrice: '2000' })
    expect((await read(sandbox, own, `/v1/orders/0x${'ab'.repeat(16)}`)).status).toBe(404)
    expect((await read(sandbox, own, '/v1/orders/nope')).status).toBe(400)
    expect((await read(sandbox, own, '/v1/orders?status=closed')).status).toBe(400)

    const { fills } = (await read(sandbox, own, '/v1/fills?since=0')).body
    expect(fills).toEqual([{ fillId: expect.any(String), seq: expect.any(String), clientOrderId: filled.clientOrderId, market: 'ETH-USD', side: 'buy', price: '2000', size: '0.25', fee: '0.25', at: expect.any(Number) }])
    expect(Number(fills[0].seq)).toBeGreaterThan(Number(fillReceipt.seq))
    expect((await read(sandbox, own, `/v1/fills?since=${fills[0].seq}`)).body.fills).toEqual([])

    const { balances } = (await read(sandbox, own, '/v1/balances')).body
    // USD: 1000000 − 500 − 0.25 fee; the resting buy holds 950.25 plus 5 bps of fee headroom (0.475125).
    expect(balances).toEqual([
      { asset: 'BTC', total: '10', available: '10' },
      { asset: 'ETH', total: '100.25', available: '100.25' },
      { asset: 'USD', total: '999499.75', available: '998549.024875' },
    ])
  })

  it('rejects reads without a valid read signature', async () => {
    const headers = await readHeaders(session)
    const missing = await fetch(`${sandbox.url}/v1/balances`, { headers: { 'x-delegation': headers['x-delegation']! } })
    expect(missing.status).toBe(401)
    expect(((await missing.json()) as Json).error.code).toBe('SessionUnauthorized')

    const otherKey = await read(sandbox, session, '/v1/balances', await readHeaders(session, { signer: account('reads:intruder') }))
    expect(otherKey.status).toBe(401)
    expect(otherKey.body.error.code).toBe('SignerMismatch')

    const stale = await read(sandbox, session, '/v1/balances', await readHeaders(session, { deadline: BigInt(Date.now() - 1000) }))
    expect(stale.status).toBe(410)
    expect(stale.body.error.code).toBe('DeadlineExpired')

    const tooFar = await read(sandbox, session, '/v1/balances', await readHeaders(session, { deadline: BigInt(Date.now() + 3_600_000) }))
    expect(tooFar.body.error.code).toBe('InvalidRequest')

    const garbled = await read(sandbox, session, '/v1/balances', { ...headers, 'x-delegation': '0xabcd' })
    expect(garbled.body.error.code).toBe('SessionUnauthorized')
  })

  it('a delegation reads only its own wallet', async () => {
    const other = await fundedSession(sandbox, 'reads:other')
    const cross = await read(sandbox, session, `/v1/balances?wallet=${other.address}`)
    expect(cross.status).toBe(403)
    expect(cross.body.error.code).toBe('SessionAclViolation')
    expect((await read(sandbox, session, `/v1/balances?wallet=${session.address.toLowerCase()}`)).status).toBe(200)
    // A session key of another wallet cannot sign reads for this delegation.
    const stolen = await read(sandbox, session, '/v1/orders', await readHeaders(session, { signer: other.key }))
    expect(stolen.body.error.code).toBe('SignerMismatch')
  })

  it('an out-of-scope delegation may still read (any unexpired, unrevoked delegation)', async () => {
    const narrow = await delegate(sandbox, session.wallet, account('reads:narrow'), { aclScope: ['CancelAll'], nonce: 9n })
    expect((await read(sandbox, narrow, '/v1/balances')).status).toBe(200)
  })
})

describe('GET /v1/events (SSE)', () => {
  it('seq starts at 1 and increases by 1, replays then goes live, and id = seq', async () => {
    const own = await fundedSession(sandbox, 'reads:events')
    await accept(own, await signed(own, 'Order', order({ price: '2000' })))
    await accept(own, await signed(own, 'Order', order({ price: '1500' })))
    const live = order({ price: '1400' })
    const { events } = await collectEvents(sandbox, own, {
      until: (events) => events.length >= 4,
      onOpen: async () => {
        await accept(own, await signed(own, 'Order', live))
      },
    })
    expect(events.map((e) => e.data.seq)).toEqual(['1', '2', '3', '4'])
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3', '4'])
    expect(events.map((e) => e.data.type)).toEqual(['OrderAccepted', 'OrderFilled', 'OrderAccepted', 'OrderAccepted'])
    expect(events[3]!.data).toMatchObject({ wallet: own.address, clientOrderId: live.clientOrderId, orderId: expect.any(String), at: expect.any(Number) })
    expect(events[1]!.data.data).toMatchObject({ fillId: expect.any(String), price: '2000', size: '0.01', fee: '0.01', remaining: '0' })
  })

  it('replays from since=N and from Last-Event-ID', async () => {
    const own = await fundedSession(sandbox, 'reads:resume')
    for (let i = 0; i < 3; i++) await accept(own, await signed(own, 'Order', order({ price: '1500' })))
    const fromSince = await collectEvents(sandbox, own, { query: '?since=1', until: (events) => events.length >= 2 })
    expect(fromSince.events.map((e) => e.id)).toEqual(['2', '3'])
    const fromHeader = await collectEvents(sandbox, own, { query: '?since=0', headers: { 'last-event-id': '2' }, until: (events) => events.length >= 1 })
    expect(fromHeader.events.map((e) => e.id)).toEqual(['3'])
    const bad = await collectEvents(sandbox, own, { query: '?since=-1', until: () => true })
    expect(bad.status).toBe(400)
  })

  it('since=N beyond the head: live events at or below N are not sent either (every event with seq > N)', async () => {
    const own = await fundedSession(sandbox, 'reads:ahead')
    await accept(own, await signed(own, 'Order', order({ price: '1500' })))
    const { events } = await collectEvents(sandbox, own, {
      query: '?since=3',
      until: (events) => events.length >= 1,
      onOpen: async () => {
        // Seqs 2, 3 and 4: only 4 is past since=3.
        for (let i = 0; i < 3; i++) await accept(own, await signed(own, 'Order', order({ price: '1500' })))
      },
    })
    expect(events.map((e) => e.id)).toEqual(['4'])
  })

  it('event streams are per wallet and need a valid read signature', async () => {
    const a = await fundedSession(sandbox, 'reads:stream-a')
    const b = await fundedSession(sandbox, 'reads:stream-b')
    await accept(b, await signed(b, 'Order', order({ price: '1500' })))
    await accept(a, await signed(a, 'Order', order({ price: '1500' })))
    const { events } = await collectEvents(sandbox, a, { until: (events) => events.length >= 1 })
    expect(events.map((e) => e.data.wallet)).toEqual([a.address])
    const refused = await fetch(`${sandbox.url}/v1/events`, { headers: await readHeaders(a, { signer: b.key }) })
    expect(refused.status).toBe(401)
  })

  it('sends keep-alive comments', async () => {
    const quick = await testSandbox({ keepAliveMs: 20 })
    try {
      const own = await fundedSession(quick, 'reads:keepalive')
      const response = await fetch(`${quick.url}/v1/events`, { headers: await readHeaders(own) })
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
      let text = ''
      while (!text.includes(': keep-alive')) text += (await reader.read()).value ?? ''
      await reader.cancel()
      expect(text).toContain(': keep-alive\n\n')
    } finally {
      await quick.close()
    }
  })
})
