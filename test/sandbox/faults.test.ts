import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Session, getJson, collectEvents, fundedSession, order, post, read, signed, testSandbox } from './helpers.js'

let sandbox: Sandbox
let session: Session

beforeAll(async () => {
  sandbox = await testSandbox()
  session = await fundedSession(sandbox, 'faults')
})
afterEach(() => void sandbox.setFaults({ errorRate: 0, latencyMs: 0, dropAfterAccept: 0, streamDropEveryMs: 0, duplicateEvents: 0 }))
afterAll(() => sandbox.close())

describe('fault injection (all off by default)', () => {
  it('POST /sandbox/faults sets any subset, GET reads them, bad values are refused', async () => {
    expect((await getJson(sandbox, '/sandbox/faults')).faults).toEqual({ errorRate: 0, latencyMs: 0, dropAfterAccept: 0, streamDropEveryMs: 0, duplicateEvents: 0, protocolEventData: false, readOverrides: {}, skipEventSeq: 0 })
    const set = await post(sandbox, '/sandbox/faults', { errorRate: 0.5, latencyMs: 10 })
    expect(set.body.faults).toEqual({ errorRate: 0.5, latencyMs: 10, dropAfterAccept: 0, streamDropEveryMs: 0, duplicateEvents: 0, protocolEventData: false, readOverrides: {}, skipEventSeq: 0 })
    for (const bad of [{ errorRate: 2 }, { latencyMs: -1 }, { protocolEventData: 1 }, { nope: 1 }, [], 'x']) expect((await post(sandbox, '/sandbox/faults', bad)).status).toBe(400)
  })

  it('errorRate answers 503 Unavailable on requests and reads, with no effect', async () => {
    await post(sandbox, '/sandbox/faults', { errorRate: 1 })
    const placed = order({ price: '1500' })
    const body = await signed(session, 'Order', placed)
    const refused = await post(sandbox, '/v1/requests', body)
    expect(refused.status).toBe(503)
    expect(refused.body.error.code).toBe('Unavailable')
    expect((await read(sandbox, session, '/v1/balances')).status).toBe(503)
    // Checks still come first: a bad request gets its own 4xx, not the injected 503.
    expect((await post(sandbox, '/v1/requests', { ...body, signature: '0x00' })).status).toBe(400)
    await post(sandbox, '/sandbox/faults', { errorRate: 0 })
    expect((await read(sandbox, session, `/v1/orders/${placed.clientOrderId}`)).status).toBe(404)
  })

  it('latencyMs delays every /v1 request by at least that long', async () => {
    sandbox.setFaults({ latencyMs: 150 })
    const started = performance.now()
    expect((await fetch(`${sandbox.url}/v1/info`)).status).toBe(200)
    // A lower bound only: timers never fire early by more than rounding.
    expect(performance.now() - started).toBeGreaterThanOrEqual(145)
  })

  it('dropAfterAccept: the request takes effect but the response is lost; resending the bytes shows it', async () => {
    sandbox.setFaults({ dropAfterAccept: 1 })
    const placed = order({ price: '1500' })
    const body = await signed(session, 'Order', placed)
    await expect(post(sandbox, '/v1/requests', body)).rejects.toThrow()
    sandbox.setFaults({ dropAfterAccept: 0 })
    expect((await read(sandbox, session, `/v1/orders/${placed.clientOrderId}`)).body.status).toBe('open')
    const resent = await post(sandbox, '/v1/requests', body)
    expect(resent.status).toBe(200)
    expect(resent.body.receipt).toMatchObject({ duplicate: true, clientOrderId: placed.clientOrderId })
  })

  it('streamDropEveryMs cuts SSE streams; a client resumes with Last-Event-ID', async () => {
    const own = await fundedSession(sandbox, 'faults:drop-stream')
    await post(sandbox, '/v1/requests', await signed(own, 'Order', order({ price: '1500' })))
    sandbox.setFaults({ streamDropEveryMs: 30 })
    const first = await collectEvents(sandbox, own, { until: () => false })
    expect(first.ended).toBe(true)
    expect(first.events.map((e) => e.id)).toEqual(['1'])
    await post(sandbox, '/v1/requests', await signed(own, 'Order', order({ price: '1400' })))
    const resumed = await collectEvents(sandbox, own, { headers: { 'last-event-id': '1' }, until: () => false })
    expect(resumed.ended).toBe(true)
    expect(resumed.events.map((e) => e.id)).toEqual(['2'])
  })

  it('duplicateEvents sends events twice (at-least-once delivery)', async () => {
    const own = await fundedSession(sandbox, 'faults:duplicates')
    await post(sandbox, '/v1/requests', await signed(own, 'Order', order({ price: '2000' })))
    sandbox.setFaults({ duplicateEvents: 1 })
    const { events } = await collectEvents(sandbox, own, { until: (events) => events.length >= 4 })
    expect(events.map((e) => e.id)).toEqual(['1', '1', '2', '2'])
  })
})
