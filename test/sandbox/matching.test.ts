import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/sandbox/config.js'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Session, getJson, collectEvents, fundedSession, order, post, read, signed, testSandbox, units } from './helpers.js'

let sandbox: Sandbox

// Maker size 1 ETH per level makes partial fills easy to see; fees 10 bps taker, 2 bps maker.
beforeAll(async () => {
  sandbox = await testSandbox({
    markets: [
      { market: 'ETH-USD', base: 'ETH', quote: 'USD', tickSize: '0.01', lotSize: '0.001', mark: '2000', makerSize: '1' },
      { market: 'BTC-USD', base: 'BTC', quote: 'USD', tickSize: '0.1', lotSize: '0.0001', mark: '60000' },
    ],
    fees: { takerBps: 10, makerBps: 2 },
  })
})
afterAll(() => sandbox.close())

async function accept(session: Session, placed: ReturnType<typeof order>) {
  const response = await post(sandbox, '/v1/requests', await signed(session, 'Order', placed))
  expect(response.status, JSON.stringify(response.body)).toBe(200)
  return response.body.receipt
}
const orderOf = async (session: Session, cloid: string) => (await read(sandbox, session, `/v1/orders/${cloid}`)).body
const balances = async (session: Session) =>
  Object.fromEntries(((await read(sandbox, session, '/v1/balances')).body.balances as { asset: string; total: string; available: string }[]).map((b) => [b.asset, b]))
const eventsOf = async (session: Session, count: number) => (await collectEvents(sandbox, session, { until: (e) => e.length >= count })).events.map((e) => e.data)

describe('matching against the synthetic maker', () => {
  it('a buy at or above the mark fills at once, at the mark, with the taker fee in quote', async () => {
    const s = await fundedSession(sandbox, 'match:immediate')
    const o = order({ price: '2100', size: '0.5' })
    await post(sandbox, '/v1/requests', await signed(s, 'Order', o))
    expect(await orderOf(s, o.clientOrderId)).toMatchObject({ status: 'filled', filled: '0.5', averagePrice: '2000' })
    // 0.5 × 2000 = 1000 USD, fee 10 bps = 1 USD.
    expect(await balances(s)).toMatchObject({ USD: { total: '998999', available: '998999' }, ETH: { total: '100.5', available: '100.5' } })
    const sell = order({ side: 1, price: '1990', size: '0.25' })
    await post(sandbox, '/v1/requests', await signed(s, 'Order', sell))
    expect(await orderOf(s, sell.clientOrderId)).toMatchObject({ status: 'filled', averagePrice: '2000' })
    // +500 − 0.5 fee
    expect(await balances(s)).toMatchObject({ USD: { total: '999498.5' }, ETH: { total: '100.25' } })
  })

  it('a non-crossing order rests, holds funds, and fills at its limit (maker fee) when the mark crosses it', async () => {
    const s = await fundedSession(sandbox, 'match:resting')
    const buy = order({ market: 'BTC-USD', price: '59000', size: '0.1' })
    const sell = order({ market: 'BTC-USD', side: 1, price: '61000', size: '0.2' })
    await accept(s, buy)
    await accept(s, sell)
    expect(await orderOf(s, buy.clientOrderId)).toMatchObject({ status: 'open', filled: '0' })
    // Buy holds 5900 + 10 bps headroom (5.9); sell holds 0.2 BTC.
    expect(await balances(s)).toMatchObject({ USD: { total: '1000000', available: '994094.1' }, BTC: { total: '10', available: '9.8' } })
    expect(sandbox.setMark('BTC-USD', '59500')).toBe(0)
    expect(sandbox.setMark('BTC-USD', '58999.9')).toBe(1)
    expect(await orderOf(s, buy.clientOrderId)).toMatchObject({ status: 'filled', averagePrice: '59000' })
    // 5900 + 2 bps (1.18)
    expect(await balances(s)).toMatchObject({ USD: { total: '994098.82', available: '994098.82' }, BTC: { total: '10.1', available: '9.9' } })
    const viaHttp = await post(sandbox, '/sandbox/mark', { market: 'BTC-USD', price: '61000' })
    expect(viaHttp.body).toEqual({ market: 'BTC-USD', mark: '61000', fills: 1 })
    expect(await orderOf(s, sell.clientOrderId)).toMatchObject({ status: 'filled', averagePrice: '61000' })
    expect((await getJson(sandbox, '/v1/markets/BTC-USD/ticker')).mark).toBe('61000')
    sandbox.setMark('BTC-USD', '60000')
  })

  it('an order larger than the maker size fills partially, then level by level as the mark sweeps', async () => {
    const s = await fundedSession(sandbox, 'match:partial')
    const o = order({ price: '2000', size: '2.5' })
    await accept(s, o)
    expect(await orderOf(s, o.clientOrderId)).toMatchObject({ status: 'partiallyFilled', filled: '1', size: '2.5' })
    sandbox.setMark('ETH-USD', '2000')
    expect(await orderOf(s, o.clientOrderId)).toMatchObject({ status: 'partiallyFilled', filled: '2' })
    sandbox.setMark('ETH-USD', '2000')
    expect(await orderOf(s, o.clientOrderId)).toMatchObject({ status: 'filled', filled: '2.5', averagePrice: '2000' })
    const types = (await eventsOf(s, 4)).map((e) => `${e.type}:${e.data.remaining ?? ''}`)
    expect(types).toEqual(['OrderAccepted:', 'OrderFilled:1.5', 'OrderFilled:0.5', 'OrderFilled:0'])
    // Nothing is left held once it filled.
    const b = await balances(s)
    expect(b.USD!.available).toBe(b.USD!.total)
  })

  it('IOC: what the maker does not fill at once is cancelled with reason ioc', async () => {
    const s = await fundedSession(sandbox, 'match:ioc')
    const partial = order({ price: '2000', size: '1.5', timeInForce: 1 })
    await accept(s, partial)
    expect(await orderOf(s, partial.clientOrderId)).toMatchObject({ status: 'cancelled', filled: '1' })
    const none = order({ price: '1000', size: '1', timeInForce: 1 })
    await accept(s, none)
    expect(await orderOf(s, none.clientOrderId)).toMatchObject({ status: 'cancelled', filled: '0' })
    const events = await eventsOf(s, 5)
    expect(events.map((e) => [e.type, e.data.reason])).toEqual([
      ['OrderAccepted', undefined], ['OrderFilled', undefined], ['OrderCancelled', 'ioc'],
      ['OrderAccepted', undefined], ['OrderCancelled', 'ioc'],
    ])
    const b = await balances(s)
    expect(b.USD!.available).toBe(b.USD!.total)
  })

  it('POST_ONLY rests when it would not cross and is refused when it would', async () => {
    const s = await fundedSession(sandbox, 'match:postonly')
    const rests = order({ price: '1999.99', timeInForce: 2 })
    await accept(s, rests)
    expect((await orderOf(s, rests.clientOrderId)).status).toBe('open')
    const crossing = await post(sandbox, '/v1/requests', await signed(s, 'Order', order({ price: '2000', timeInForce: 2 })))
    expect(crossing.status).toBe(422)
    expect(crossing.body.error.code).toBe('PostOnlyWouldCross')
    const rejected = (await eventsOf(s, 2)).at(-1)!
    expect(rejected).toMatchObject({ type: 'OrderRejected', data: { code: 'PostOnlyWouldCross' } })
    // Modifying a post-only order across the mark is refused too.
    const modify = await post(sandbox, '/v1/requests', await signed(s, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: rests.clientOrderId, price: units('2001'), size: units('0.01') }))
    expect(modify.body.error.code).toBe('PostOnlyWouldCross')
  })

  it('Modify that crosses fills at once; Modify may not shrink below the filled size', async () => {
    const s = await fundedSession(sandbox, 'match:modify')
    const o = order({ price: '1900', size: '1.5' })
    await accept(s, o)
    const modified = await post(sandbox, '/v1/requests', await signed(s, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: o.clientOrderId, price: units('2000'), size: units('1.5') }))
    expect(modified.status).toBe(200)
    expect(await orderOf(s, o.clientOrderId)).toMatchObject({ status: 'partiallyFilled', filled: '1', revision: 1, price: '2000' })
    const shrink = await post(sandbox, '/v1/requests', await signed(s, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: o.clientOrderId, price: units('1900'), size: units('1') }))
    expect(shrink.status).toBe(400)
    const types = (await eventsOf(s, 3)).map((e) => e.type)
    expect(types).toEqual(['OrderAccepted', 'OrderModified', 'OrderFilled'])
  })

  it('Modify and Cancel move the hold: available is back to total after cancelling', async () => {
    const s = await fundedSession(sandbox, 'match:holds')
    const o = order({ price: '1000', size: '2' })
    await accept(s, o)
    expect((await balances(s)).USD!.available).toBe('997998')
    await post(sandbox, '/v1/requests', await signed(s, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: o.clientOrderId, price: units('500'), size: units('2') }))
    expect((await balances(s)).USD!.available).toBe('998999')
    const tooBig = await post(sandbox, '/v1/requests', await signed(s, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: o.clientOrderId, price: units('1000'), size: units('2000') }))
    expect(tooBig.body.error.code).toBe('InsufficientBalance')
    await post(sandbox, '/v1/requests', await signed(s, 'CancelOrder', { market: 'ETH-USD', clientOrderId: o.clientOrderId }))
    expect((await balances(s)).USD).toEqual({ asset: 'USD', total: '1000000', available: '1000000' })
  })

  it('POST /sandbox/fund credits a wallet and validates its input', async () => {
    const s = await fundedSession(sandbox, 'match:fund')
    const funded = await post(sandbox, '/sandbox/fund', { wallet: s.address, asset: 'ETH', amount: '0.5' })
    expect(funded.body.balances).toContainEqual({ asset: 'ETH', total: '100.5', available: '100.5' })
    for (const bad of [{ wallet: '0x1', asset: 'ETH', amount: '1' }, { wallet: s.address, asset: 'DOGE', amount: '1' }, { wallet: s.address, asset: 'ETH', amount: '-1' }, { wallet: s.address, asset: 'ETH', amount: 1 }]) {
      expect((await post(sandbox, '/sandbox/fund', bad)).status).toBe(400)
    }
    expect((await post(sandbox, '/sandbox/mark', { market: 'ETH-USD', price: '2000.001' })).status).toBe(400)
  })
})

describe('maker rebates', () => {
  it('a negative maker fee is a rebate, at most the taker fee', () => {
    expect(resolveConfig({ fees: { takerBps: 5, makerBps: -2 } }).makerBps).toBe(-2n)
    expect(resolveConfig({ fees: { takerBps: 5, makerBps: -5 } }).makerBps).toBe(-5n)
    expect(() => resolveConfig({ fees: { takerBps: 5, makerBps: -6 } })).toThrow('fees.makerBps must be an integer from -5 (a rebate at most the taker fee) to 10000 bps')
    expect(() => resolveConfig({ fees: { makerBps: -1.5 } })).toThrow(/fees\.makerBps/)
  })
})
