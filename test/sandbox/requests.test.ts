import { hashTypedData } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Session, getJson, account, cloid, delegate, fundedSession, order, post, read, signed, testSandbox, types, units } from './helpers.js'

let sandbox: Sandbox
let session: Session

beforeAll(async () => {
  sandbox = await testSandbox()
  session = await fundedSession(sandbox, 'requests')
})
afterAll(() => sandbox.close())

const accept = async (body: unknown) => {
  const response = await post(sandbox, '/v1/requests', body)
  expect(response.status, JSON.stringify(response.body)).toBe(200)
  return response.body.receipt
}

describe('GET /v1/info and public market data', () => {
  it('returns the domain, serverTime and maxDeadlineMs', async () => {
    const info = await getJson(sandbox, '/v1/info')
    expect(info).toMatchObject({ ...sandbox.domain, version: '1', maxDeadlineMs: 60_000, domain: sandbox.domain })
    expect(Math.abs(info.serverTime - Date.now())).toBeLessThan(60_000)
  })

  it('lists the default markets and their tickers', async () => {
    const { markets } = await getJson(sandbox, '/v1/markets')
    expect(markets).toEqual([
      { market: 'ETH-USD', base: 'ETH', quote: 'USD', tickSize: '0.01', lotSize: '0.001' },
      { market: 'BTC-USD', base: 'BTC', quote: 'USD', tickSize: '0.1', lotSize: '0.0001' },
    ])
    expect(await getJson(sandbox, '/v1/markets/BTC-USD/ticker')).toEqual({ market: 'BTC-USD', bid: '60000', ask: '60000', mark: '60000' })
    expect((await fetch(`${sandbox.url}/v1/markets/NOPE/ticker`)).status).toBe(400)
  })
})

describe('the happy path of each family', () => {
  it('Order: receipt with requestId = EIP-712 digest, orderId, seq, acceptedAt', async () => {
    const body = await signed(session, 'Order', order({ price: '1500' }))
    const receipt = await accept(body)
    const { delegation, ...rest } = body.message
    const digest = hashTypedData({
      domain: sandbox.domain, types, primaryType: 'Order',
      message: { ...rest, delegation, price: BigInt(rest.price!), size: BigInt(rest.size!), nonce: BigInt(rest.nonce!), deadline: BigInt(rest.deadline!) } as never,
    })
    expect(receipt).toEqual({
      requestId: digest, family: 'Order', wallet: session.address, clientOrderId: body.message.clientOrderId, orderId: expect.any(String),
      status: 'accepted', duplicate: false, seq: expect.stringMatching(/^\d+$/), acceptedAt: expect.any(Number),
    })
  })

  it('ModifyOrder keeps the cloid and orderId and bumps revision', async () => {
    const placed = order({ price: '1500' })
    const first = await accept(await signed(session, 'Order', placed))
    const receipt = await accept(await signed(session, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: placed.clientOrderId, price: units('1501.5'), size: units('0.02') }))
    expect(receipt).toMatchObject({ family: 'ModifyOrder', clientOrderId: placed.clientOrderId, orderId: first.orderId, duplicate: false })
    expect(Number(receipt.seq)).toBeGreaterThan(Number(first.seq))
    const { body } = await read(sandbox, session, `/v1/orders/${placed.clientOrderId}`)
    expect(body).toMatchObject({ price: '1501.5', size: '0.02', revision: 1, status: 'open', orderId: first.orderId })
  })

  it('CancelOrder cancels an open order', async () => {
    const placed = order({ price: '1500' })
    await accept(await signed(session, 'Order', placed))
    const receipt = await accept(await signed(session, 'CancelOrder', { market: 'ETH-USD', clientOrderId: placed.clientOrderId }))
    expect(receipt).toMatchObject({ family: 'CancelOrder', clientOrderId: placed.clientOrderId })
    expect((await read(sandbox, session, `/v1/orders/${placed.clientOrderId}`)).body.status).toBe('cancelled')
  })

  it('CancelAll per market, and "" for every market, lists the cancelled cloids', async () => {
    const own = await fundedSession(sandbox, 'requests:cancel-all')
    const eth = [order({ price: '1500' }), order({ price: '1400' })]
    const btc = order({ market: 'BTC-USD', price: '50000', size: '0.01' })
    for (const o of [...eth, btc]) await accept(await signed(own, 'Order', o))
    const perMarket = await accept(await signed(own, 'CancelAll', { market: 'ETH-USD' }))
    expect(perMarket.cancelled.sort()).toEqual(eth.map((o) => o.clientOrderId).sort())
    const everything = await accept(await signed(own, 'CancelAll', { market: '' }))
    expect(everything.cancelled).toEqual([btc.clientOrderId])
    const nothing = await accept(await signed(own, 'CancelAll', { market: '' }))
    expect(nothing).toMatchObject({ cancelled: [], seq: everything.seq })
  })
})

describe('replays', () => {
  it('a byte-identical request returns the original receipt with duplicate: true', async () => {
    const body = await signed(session, 'Order', order({ price: '1500' }))
    const first = await accept(body)
    const again = await accept(body)
    expect(again).toEqual({ ...first, duplicate: true })
    const cancel = await signed(session, 'CancelOrder', { market: 'ETH-USD', clientOrderId: body.message.clientOrderId })
    const cancelled = await accept(cancel)
    // The order is no longer open, yet the resent Cancel is answered from the replay rule.
    expect(await accept(cancel)).toEqual({ ...cancelled, duplicate: true })
  })

  it('an Order with a cloid already used returns the first receipt and creates nothing', async () => {
    const placed = order({ price: '1500' })
    const first = await accept(await signed(session, 'Order', placed))
    const second = await accept(await signed(session, 'Order', { ...placed, price: units('1600'), size: units('5') }))
    expect(second).toEqual({ ...first, duplicate: true })
    expect((await read(sandbox, session, `/v1/orders/${placed.clientOrderId}`)).body).toMatchObject({ price: '1500', size: '0.01' })
  })

  it('replay rules come after signature and ACL checks, before the nonce rule', async () => {
    const body = await signed(session, 'Order', order({ price: '1500' }))
    await accept(body)
    const tampered = { ...body, message: { ...body.message, price: units('1499').toString() } }
    expect((await post(sandbox, '/v1/requests', tampered)).body.error.code).toBe('SignerMismatch')
    const narrow = await delegate(sandbox, session.wallet, session.key, { aclScope: ['CancelOrder'], nonce: 2n })
    const outOfScope = await signed(narrow, 'Order', { ...order(), clientOrderId: body.message.clientOrderId })
    expect((await post(sandbox, '/v1/requests', outOfScope)).body.error.code).toBe('SessionAclViolation')
  })

  it('the cloid of a rejected Order is not used up', async () => {
    const poor = await delegate(sandbox, account('requests:poor-wallet'), account('requests:poor-key'))
    const placed = order({ clientOrderId: cloid() })
    expect((await post(sandbox, '/v1/requests', await signed(poor, 'Order', placed))).status).toBe(422)
    sandbox.fund(poor.address, 'USD', '100')
    expect((await post(sandbox, '/v1/requests', await signed(poor, 'Order', placed))).body.receipt.duplicate).toBe(false)
  })
})

describe('nonce window', () => {
  it('keeps the 100 highest nonces per session key', async () => {
    const own = await fundedSession(sandbox, 'requests:nonces')
    const base = BigInt(Date.now()) * 1000n
    const at = (n: number) => ({ ...order({ price: '1000' }), nonce: base + BigInt(n) })
    // 105 accepted nonces, sent out of order: 5..104, then 0 is below the smallest kept.
    for (let n = 104; n >= 5; n--) await accept(await signed(own, 'Order', at(n)))
    const below = await post(sandbox, '/v1/requests', await signed(own, 'Order', at(0)))
    expect(below.status).toBe(409)
    expect(below.body.error.code).toBe('NonceReused')
    expect((await post(sandbox, '/v1/requests', await signed(own, 'Order', at(50)))).body.error.code).toBe('NonceReused')
    // Higher unseen nonces are fine, and a gap inside the window may still be filled.
    await accept(await signed(own, 'Order', at(200)))
    await accept(await signed(own, 'Order', at(150)))
    // 150 and 200 pushed 5 and 6 out: 5 is now below the window.
    expect((await post(sandbox, '/v1/requests', await signed(own, 'Order', at(5)))).body.error.code).toBe('NonceReused')
  })

  it('nonces are per session key, not per wallet', async () => {
    const other = await delegate(sandbox, session.wallet, account('requests:second-key'), { nonce: 3n })
    const used = await signed(session, 'Order', order({ price: '1000' }))
    await accept(used)
    await accept(await signed(other, 'Order', { ...order({ price: '1000' }), nonce: BigInt(used.message.nonce!) }))
  })
})

describe("the operator guide's pre-production checks", () => {
  it('a low-risk request is accepted and a deliberately out-of-scope one is refused as SessionAclViolation', async () => {
    const scoped = await delegate(sandbox, account('requests:guide-wallet'), account('requests:guide-key'), { aclScope: ['CancelOrder', 'CancelAll'] })
    const lowRisk = await post(sandbox, '/v1/requests', await signed(scoped, 'CancelAll', { market: 'ETH-USD' }))
    expect(lowRisk.status).toBe(200)
    expect(lowRisk.body.receipt).toMatchObject({ family: 'CancelAll', cancelled: [], status: 'accepted' })
    const outOfScope = await post(sandbox, '/v1/requests', await signed(scoped, 'Order', order({ price: '1' })))
    expect(outOfScope.status).toBe(403)
    expect(outOfScope.body).toEqual({ error: { code: 'SessionAclViolation', message: expect.any(String) } })
  })
})
