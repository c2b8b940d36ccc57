import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Session, account, getJson, collectEvents, delegate, fundedSession, order, post, read, readHeaders, revocation, signed, testSandbox } from './helpers.js'

let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await testSandbox()
})
afterAll(() => sandbox.close())

const place = async (session: Session, fields: Parameters<typeof order>[0]) => {
  const placed = order(fields)
  const response = await post(sandbox, '/v1/requests', await signed(session, 'Order', placed))
  expect(response.status, JSON.stringify(response.body)).toBe(200)
  return placed
}
const statusOf = async (session: Session, cloid: string) => (await read(sandbox, session, `/v1/orders/${cloid}`)).body.status

describe('delegation expiry', () => {
  it('cancels the orders that delegation placed (sessionExpired) and emits SessionExpired; others stay', async () => {
    const expiry = BigInt(Math.floor(sandbox.now() / 1000) + 120)
    const short = await fundedSession(sandbox, 'sessions:expiry', { expiry })
    const long = await delegate(sandbox, short.wallet, account('sessions:expiry-long'), { nonce: 2n, expiry: expiry + 100_000n })
    const fromShort = await place(short, { price: '1500' })
    const fromLong = await place(long, { price: '1400' })

    const { events } = await collectEvents(sandbox, long, {
      query: '?since=2',
      until: (events) => events.some((e) => e.data.type === 'SessionExpired'),
      onOpen: () => void sandbox.advanceClock(121_000),
    })
    expect(events.map((e) => e.data.type)).toEqual(['OrderCancelled', 'SessionExpired'])
    expect(events[0]!.data).toMatchObject({ clientOrderId: fromShort.clientOrderId, data: { reason: 'sessionExpired' } })
    expect(events[1]!.data.data).toMatchObject({ delegation: short.hash, cancelled: [fromShort.clientOrderId] })
    expect(await statusOf(long, fromLong.clientOrderId)).toBe('open')

    const refused = await post(sandbox, '/v1/requests', await signed(short, 'Order', { ...order(), deadline: BigInt(sandbox.now() + 10_000) }))
    expect(refused.status).toBe(401)
    expect(refused.body.error.code).toBe('SessionUnauthorized')
    expect((await read(sandbox, short, '/v1/balances', await readHeaders(short, { deadline: BigInt(sandbox.now() + 10_000) }))).status).toBe(401)
  })

  it('two sessions of one wallet expiring in the same sweep end both of their streams', async () => {
    const expiry = BigInt(Math.floor(sandbox.now() / 1000) + 60)
    const first = await fundedSession(sandbox, 'sessions:twin-a', { expiry })
    const second = await delegate(sandbox, first.wallet, account('sessions:twin-b'), { nonce: 2n, expiry })
    await place(first, { price: '1500' })
    await place(second, { price: '1500' })
    const isExpiry = (e: { data: { type: string } }) => e.data.type === 'SessionExpired'
    let opened!: () => void
    const aOpen = new Promise<void>((resolve) => (opened = resolve))
    const streamA = collectEvents(sandbox, first, { query: '?since=2', until: () => false, onOpen: () => opened() })
    const streamB = collectEvents(sandbox, second, {
      query: '?since=2',
      until: () => false,
      onOpen: async () => {
        await aOpen
        sandbox.advanceClock(61_000)
      },
    })
    const [a, b] = await Promise.all([streamA, streamB])
    expect(a.ended && b.ended).toBe(true)
    expect(a.events.filter(isExpiry).length).toBeGreaterThanOrEqual(1)
    expect(b.events.filter(isExpiry).map((e) => e.data.data.delegation).sort()).toEqual([first.hash, second.hash].sort())
    expect((await getJson(sandbox, '/v1/info')).version).toBe('1')
  })

  it('an expired delegation is noticed on a request even before the sweep runs', async () => {
    const slow = await testSandbox({ sweepIntervalMs: 3_600_000 })
    try {
      const expiry = BigInt(Math.floor(slow.now() / 1000) + 60)
      const s = await delegate(slow, account('sessions:w-slow'), account('sessions:k-slow'), { expiry })
      slow.fund(s.address, 'USD', '10000')
      const placed = order({ price: '1000' })
      expect((await post(slow, '/v1/requests', await signed(s, 'Order', placed))).status).toBe(200)
      // Move the clock without the handle's sweep: through the HTTP control the sweep also runs, so shift the state clock directly.
      const realNow = slow.state.now
      slow.state.now = () => realNow() + 61_000
      const refused = await post(slow, '/v1/requests', await signed(s, 'Order', { ...order(), deadline: BigInt(slow.state.now() + 10_000) }))
      expect(refused.body.error.code).toBe('SessionUnauthorized')
      const wallet = slow.state.wallets.get(s.address.toLowerCase())!
      expect(wallet.orders.get(placed.clientOrderId)!.status).toBe('cancelled')
      expect(wallet.events.since(0).map((e) => e.type)).toEqual(['OrderAccepted', 'OrderCancelled', 'SessionExpired'])
    } finally {
      await slow.close()
    }
  })

  it('POST /sandbox/clock advances the clock over HTTP', async () => {
    const before = sandbox.now()
    const { body } = await post(sandbox, '/sandbox/clock', { advanceMs: 1000 })
    expect(body.serverTime).toBeGreaterThanOrEqual(before + 1000)
    expect((await post(sandbox, '/sandbox/clock', { advanceMs: -1 })).status).toBe(400)
  })
})

describe('revocation', () => {
  it('by the wallet: cancels the session\'s open orders (sessionRevoked), emits SessionRevoked, ends its stream', async () => {
    const s = await fundedSession(sandbox, 'sessions:revoke-wallet')
    const placed = await place(s, { price: '1500' })
    const stream = collectEvents(sandbox, s, { query: '?since=1', until: () => false })
    const body = await revocation(s, s.wallet, BigInt(sandbox.now() + 30_000))
    const response = await post(sandbox, '/v1/sessions/revoke', body)
    expect(response.status).toBe(200)
    expect(response.body.revocation).toMatchObject({ delegation: s.hash, wallet: s.address, status: 'revoked', duplicate: false, cancelled: [placed.clientOrderId] })
    const { events, ended } = await stream
    expect(ended).toBe(true)
    expect(events.map((e) => [e.data.type, e.data.data.reason])).toEqual([['OrderCancelled', 'sessionRevoked'], ['SessionRevoked', undefined]])
    expect(events[1]!.data.seq).toBe(response.body.revocation.seq)
    // Resending the same revocation answers the first result.
    expect((await post(sandbox, '/v1/sessions/revoke', body)).body.revocation).toEqual({ ...response.body.revocation, duplicate: true })
  })

  it('by the session key itself, naming the delegation by hash', async () => {
    const s = await fundedSession(sandbox, 'sessions:revoke-key')
    await place(s, { price: '1500' })
    const body = await revocation(s, s.key, BigInt(sandbox.now() + 30_000))
    const response = await post(sandbox, '/v1/sessions/revoke', { ...body, delegation: s.hash })
    expect(response.status).toBe(200)
    expect(response.body.revocation.cancelled).toHaveLength(1)
  })

  it('refuses a revocation signed by anyone else, or with a bad deadline', async () => {
    const s = await fundedSession(sandbox, 'sessions:revoke-bad')
    const intruder = await post(sandbox, '/v1/sessions/revoke', await revocation(s, account('sessions:intruder'), BigInt(sandbox.now() + 30_000)))
    expect(intruder.status).toBe(401)
    expect(intruder.body.error.code).toBe('SignerMismatch')
    const past = await post(sandbox, '/v1/sessions/revoke', await revocation(s, s.wallet, BigInt(sandbox.now() - 1_000)))
    expect(past.body.error.code).toBe('DeadlineExpired')
    const far = await post(sandbox, '/v1/sessions/revoke', await revocation(s, s.wallet, BigInt(sandbox.now() + 3_600_000)))
    expect(far.body.error.code).toBe('InvalidRequest')
    const unknown = await post(sandbox, '/v1/sessions/revoke', { ...(await revocation(s, s.wallet, BigInt(sandbox.now() + 30_000))), delegation: `0x${'11'.repeat(32)}` })
    expect(unknown.body.error.code).toBe('SessionUnauthorized')
    expect((await post(sandbox, '/v1/sessions/revoke', { delegation: s.payload })).status).toBe(400)
    // Still usable after all of that.
    await place(s, { price: '1500' })
  })
})
