import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outbox } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, tradingWallet } from './support/apiHarness.js'

/*
 * Every rule a request can break answers 4xx with { error: { code, field, rule } }:
 * 400 for the request's shape (zod), 422 for a domain rule, 409 for a state conflict.
 */

let api: ApiHarness
let tenant: Tenant
let walletId: string
let sessionId: string
let scheduleId: string
let cancelledOrderId: string

beforeAll(async () => {
  api = await createApiHarness()
  tenant = await api.tenant()
  const { wallet, session } = await tradingWallet(api, tenant)
  walletId = wallet.id
  sessionId = session.id
  const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
  scheduleId = (await tenant.request('POST', `/v1/wallets/${walletId}/schedules`, spec)).json<{ id: string }>().id
  cancelledOrderId = (await tenant.request('POST', `/v1/wallets/${walletId}/orders`, { market: 'ETH-USD', side: 'buy', price: '1000', size: '0.1' })).json<{ id: string }>().id
  await tenant.request('POST', `/v1/orders/${cancelledOrderId}/cancel`, {})
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${cancelledOrderId}`)).json<{ state: string }>().state === 'cancelled')
})
afterAll(async () => { await api?.close() })

type Case = [name: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: () => string, body: unknown, status: number, field: string, rule: RegExp]

const order = { market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }
const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
const w = () => `/v1/wallets/${walletId}`

const cases: Case[] = [
  ['wallet: neither address nor generate', 'POST', () => '/v1/wallets', {}, 400, 'address', /either an address or generate/],
  ['wallet: malformed address', 'POST', () => '/v1/wallets', { address: '0x12' }, 400, 'address', /20-byte hex address/],
  // No key signs for the zero address: every Delegation of such a wallet would fail.
  ['wallet: the zero address', 'POST', () => '/v1/wallets', { address: '0x0000000000000000000000000000000000000000' }, 422, 'address', /^must not be the zero address \(0x0000…0000\): no key can sign for it$/],
  ['wallet: bad checksum', 'POST', () => '/v1/wallets', { address: '0x00000000000000000000000000000000000000aA' }, 422, 'address', /checksum/],
  // A user's Privy id (did:privy:…) in place of the wallet's: every grant of the wallet would fail.
  ['wallet: custody wallet id that is no Privy wallet id', 'POST', () => '/v1/wallets', { address: '0x000000000000000000000000000000000000dEaD', custodyWalletId: 'did:privy:cm1abc' }, 400, 'custodyWalletId', /must be a Privy wallet id/],
  ['wallet: generate not a boolean', 'POST', () => '/v1/wallets', { generate: 'yes' }, 400, 'generate', /must be a boolean/],
  ['wallet: unknown field', 'POST', () => '/v1/wallets', { generate: true, colour: 'red' }, 400, 'colour', /is not a known field/],
  ['wallet: id not a UUID', 'GET', () => '/v1/wallets/42', undefined, 400, 'walletId', /must be a UUID/],
  ['work: id not a UUID', 'GET', () => '/v1/work/42', undefined, 400, 'outboxId', /must be a UUID/],
  ['session: empty families', 'POST', () => `${w()}/sessions`, { families: [] }, 400, 'families', /at least one family/],
  ['session: places orders it could never cancel', 'POST', () => `${w()}/sessions`, { families: ['Order'] }, 400, 'families', /must include CancelOrder or CancelAll with Order or ModifyOrder/],
  ['session: rotation to modifies it could never cancel', 'POST', () => `${w()}/sessions/rotate`, { families: ['Order', 'ModifyOrder'] }, 400, 'families', /must include CancelOrder or CancelAll/],
  ['session: unknown family', 'POST', () => `${w()}/sessions`, { families: ['Trade'] }, 400, 'families.0', /must be one of "Order", "ModifyOrder", "CancelOrder", "CancelAll"/],
  ['session: lifetime too short', 'POST', () => `${w()}/sessions`, { lifetimeSeconds: 1800 }, 400, 'lifetimeSeconds', /at least 3600/],
  // Shorter than twice the worker's rotation lead (6 h here): due for rotation as soon as it went live.
  ['session: lifetime under twice the rotation lead', 'POST', () => `${w()}/sessions`, { lifetimeSeconds: 11 * 3600 }, 422, 'lifetimeSeconds', /at least 43200: twice SESSION_ROTATE_LEAD_SECONDS \(21600\)/],
  ['session: rotation lifetime under twice the rotation lead', 'POST', () => `${w()}/sessions/rotate`, { lifetimeSeconds: 3600 }, 422, 'lifetimeSeconds', /at least 43200/],
  ['session: needs nothing', 'POST', () => `${w()}/sessions`, { needs: {} }, 400, 'needs', /must set at least one of limitOrders/],
  ['session: rotation needs nothing', 'POST', () => `${w()}/sessions/rotate`, { needs: { limitOrders: false } }, 400, 'needs', /must set at least one/],
  ['session: lifetime too long', 'POST', () => `${w()}/sessions/rotate`, { lifetimeSeconds: 90 * 24 * 3600 }, 400, 'lifetimeSeconds', /at most 2592000/],
  ['session: lifetime not an integer', 'POST', () => `${w()}/sessions`, { lifetimeSeconds: 100.5 }, 400, 'lifetimeSeconds', /integer/],
  ['session: empty revoke reason', 'POST', () => `/v1/sessions/${sessionId}/revoke`, { reason: '' }, 400, 'reason', /must not be empty/],
  ['session: unknown status filter', 'GET', () => `${w()}/sessions?status=alive`, undefined, 400, 'status', /must be one of/],
  ['order: market missing', 'POST', () => `${w()}/orders`, { ...order, market: undefined }, 400, 'market', /is required/],
  // Every other market (or asset) name refuses the empty string too, naming the field.
  ['order: empty market', 'POST', () => `${w()}/orders`, { ...order, market: '' }, 400, 'market', /^must name a market, e.g. "ETH-USD"$/],
  ['policy: an empty market name', 'PUT', () => `${w()}/policy`, { rules: { allowedMarkets: [''] } }, 400, 'rules.allowedMarkets.0', /^must not be empty$/],
  ['schedule: an empty asset name', 'POST', () => `${w()}/schedules`, { ...spec, targets: { '': '0.5', USD: '0.5' } }, 422, 'targets', /^asset names must not be empty$/],
  ['order: unknown market', 'POST', () => `${w()}/orders`, { ...order, market: 'DOGE-USD' }, 422, 'market', /operator's markets \(ETH-USD, BTC-USD\)/],
  ['order: bad side', 'POST', () => `${w()}/orders`, { ...order, side: 'long' }, 400, 'side', /must be one of "buy", "sell"/],
  ['order: price as a JSON number', 'POST', () => `${w()}/orders`, { ...order, price: 1990 }, 400, 'price', /must be a string/],
  ['order: price not a decimal', 'POST', () => `${w()}/orders`, { ...order, price: '1,990' }, 400, 'price', /decimal string/],
  ['order: zero price', 'POST', () => `${w()}/orders`, { ...order, price: '0' }, 422, 'price', /greater than zero/],
  ['order: price off the tick', 'POST', () => `${w()}/orders`, { ...order, price: '1990.001' }, 422, 'price', /tickSize/],
  ['order: size off the lot', 'POST', () => `${w()}/orders`, { ...order, size: '0.0005' }, 422, 'size', /lotSize/],
  ['order: unknown time in force', 'POST', () => `${w()}/orders`, { ...order, timeInForce: 'FOK' }, 400, 'timeInForce', /must be one of "GTC", "IOC", "POST_ONLY"/],
  ['order: goodTill not a time', 'POST', () => `${w()}/orders`, { ...order, goodTill: 'tomorrow' }, 400, 'goodTill', /ISO 8601/],
  ['order: goodTill in the past', 'POST', () => `${w()}/orders`, { ...order, goodTill: '2020-01-01T00:00:00Z' }, 422, 'goodTill', /in the future/],
  // Year 9999 behind UTC is year 10000 in UTC, which Postgres cannot read as JavaScript writes it (+010000-…).
  ['order: goodTill past year 9999 in UTC', 'POST', () => `${w()}/orders`, { ...order, goodTill: '9999-12-31T23:59:59-01:00' }, 422, 'goodTill', /before 10000-01-01T00:00:00Z/],
  ['order: clientRef too long', 'POST', () => `${w()}/orders`, { ...order, clientRef: 'x'.repeat(129) }, 400, 'clientRef', /at most 128/],
  ['order: list with unknown state', 'GET', () => '/v1/orders?state=done', undefined, 400, 'state', /must be one of/],
  ['order: list limit zero', 'GET', () => '/v1/orders?limit=0', undefined, 400, 'limit', /at least 1/],
  // Number() reads hex, exponents, signs, blanks and padding: a limit is written in decimal digits only.
  ['order: list limit in hex', 'GET', () => '/v1/orders?limit=0x10', undefined, 400, 'limit', /whole number in decimal digits/],
  ['order: list limit with an exponent', 'GET', () => '/v1/orders?limit=1e2', undefined, 400, 'limit', /whole number in decimal digits/],
  ['order: list limit empty', 'GET', () => '/v1/orders?limit=', undefined, 400, 'limit', /whole number in decimal digits/],
  ['order: list limit with a sign', 'GET', () => '/v1/orders?limit=%2B5', undefined, 400, 'limit', /whole number in decimal digits/],
  ['order: list limit padded', 'GET', () => '/v1/orders?limit=%205', undefined, 400, 'limit', /whole number in decimal digits/],
  ['order: list limit a fraction', 'GET', () => '/v1/orders?limit=5.0', undefined, 400, 'limit', /whole number in decimal digits/],
  // A query parameter given twice arrives as a list: the rule says so, not "must be a string".
  ['order: list limit given twice', 'GET', () => '/v1/orders?limit=1&limit=2', undefined, 400, 'limit', /^must be given once$/],
  ['order: list wallet given twice', 'GET', () => `/v1/orders?walletId=${walletId}&walletId=${walletId}`, undefined, 400, 'walletId', /^must be given once$/],
  // One of a list of values, given twice (each value a valid one): still "given once", not "one of".
  ['order: list state given twice', 'GET', () => '/v1/orders?state=open&state=filled', undefined, 400, 'state', /^must be given once$/],
  ['schedule: list status given twice', 'GET', () => '/v1/schedules?status=active&status=paused', undefined, 400, 'status', /^must be given once$/],
  ['wallet: list limit in hex', 'GET', () => '/v1/wallets?limit=0x10', undefined, 400, 'limit', /whole number in decimal digits/],
  ['session: list limit with an exponent', 'GET', () => `${w()}/sessions?limit=1e2`, undefined, 400, 'limit', /whole number in decimal digits/],
  ['order: modify without size', 'POST', () => `/v1/orders/${cancelledOrderId}/modify`, { price: '1990' }, 400, 'size', /is required/],
  ['order: modify a cancelled order', 'POST', () => `/v1/orders/${cancelledOrderId}/modify`, { price: '1990', size: '1' }, 409, 'orderId', /cancelled; it cannot be modified/],
  ['order: cancel a cancelled order', 'POST', () => `/v1/orders/${cancelledOrderId}/cancel`, {}, 409, 'orderId', /cancelled; it cannot be cancelled/],
  ['cancel-all: unknown market', 'POST', () => `${w()}/cancel-all`, { market: 'XYZ' }, 422, 'market', /operator's markets/],
  // An empty market is a client's bug (an unset variable), not a wish to cancel everywhere: that is `market` left out.
  ['cancel-all: empty market', 'POST', () => `${w()}/cancel-all`, { market: '' }, 422, 'market', /^must not be empty: omit market to cancel in every market$/],
  ['halt: reason missing', 'POST', () => `${w()}/halt`, {}, 400, 'reason', /is required/],
  ['halt: blank reason', 'POST', () => `${w()}/halt`, { reason: '   ' }, 400, 'reason', /must say why/],
  ['compromise: reason missing', 'POST', () => `${w()}/compromise`, {}, 400, 'reason', /is required/],
  ['resume: wallet not halted', 'POST', () => `${w()}/resume`, {}, 422, 'walletId', /halted wallet/],
  ['policy: rules missing', 'PUT', () => `${w()}/policy`, {}, 400, 'rules', /is required/],
  ['policy: unknown rule', 'PUT', () => `${w()}/policy`, { rules: { maxLeverage: 3 } }, 400, 'rules.maxLeverage', /is not a known field/],
  ['policy: negative count', 'PUT', () => `${w()}/policy`, { rules: { maxOpenOrders: -1 } }, 400, 'rules.maxOpenOrders', /at least 0/],
  ['policy: notional not a decimal', 'PUT', () => `${w()}/policy`, { rules: { maxOrderNotional: 'lots' } }, 400, 'rules.maxOrderNotional', /decimal string/],
  // A misspelt market would be stored, and every order of the wallet refused at signing.
  ['policy: a market the operator does not list', 'PUT', () => `${w()}/policy`, { rules: { allowedMarkets: ['ETH-USD', 'ETH-USDC'] } }, 422, 'rules.allowedMarkets.1', /^must be one of the operator's markets \(ETH-USD, BTC-USD\)$/],
  ['policy: more markets than any operator lists', 'PUT', () => `${w()}/policy`, { rules: { allowedMarkets: Array.from({ length: 257 }, () => 'ETH-USD') } }, 400, 'rules.allowedMarkets', /^must name at most 256 markets$/],
  ['policy: a market named twice', 'PUT', () => `${w()}/policy`, { rules: { allowedMarkets: ['ETH-USD', 'BTC-USD', 'ETH-USD'] } }, 422, 'rules.allowedMarkets.2', /^must name each market once: ETH-USD is rules.allowedMarkets.0 already$/],
  ['schedule: weights do not sum to 1', 'POST', () => `${w()}/schedules`, { ...spec, targets: { ETH: '0.5', USD: '0.4' } }, 422, 'targets', /sum to exactly 1/],
  ['schedule: bad cron', 'POST', () => `${w()}/schedules`, { ...spec, cron: 'every hour' }, 422, 'cron', /cron|field/],
  ['schedule: runs every second', 'POST', () => `${w()}/schedules`, { ...spec, cron: '* * * * * *' }, 422, 'cron', /at most once every 60 s, but two of its runs are 1 s apart/],
  ['schedule: edited to run twice a minute', 'PATCH', () => `/v1/schedules/${scheduleId}`, { cron: '0,30 * * * * *' }, 422, 'cron', /at most once every 60 s, but two of its runs are 30 s apart/],
  ['schedule: unknown zone', 'POST', () => `${w()}/schedules`, { ...spec, timeZone: 'Mars/Olympus' }, 422, 'timeZone', /IANA time zone/],
  ['schedule: a zone whose clock change would stop the scheduler', 'POST', () => `${w()}/schedules`, { ...spec, cron: '0 9 * * *', timeZone: 'Australia/Lord_Howe' }, 422, 'timeZone', /cannot run "0 9 \* \* \*" through Australia\/Lord_Howe's clock change on .*loop limit exceeded.*stop firing for good/],
  ['schedule: a midnight the clock skips, whose run the scheduler drops', 'POST', () => `${w()}/schedules`, { ...spec, cron: '0 0 * * *', timeZone: 'America/Santiago' }, 422, 'cron', /^fires at 00:00 on \d{4}-09-0\d, a wall time America\/Santiago's clock skips .*pick a time outside 00:00–01:00$/],
  ['schedule: edited to a zone whose clock skips its time', 'PATCH', () => `/v1/schedules/${scheduleId}`, { cron: '30 0 * * *', timeZone: 'Africa/Cairo' }, 422, 'cron', /^fires at 00:30 on .*Africa\/Cairo's clock skips/],
  ['schedule: asset without a market', 'POST', () => `${w()}/schedules`, { ...spec, targets: { DOGE: '0.5', USD: '0.5' } }, 422, 'targets.DOGE', /no DOGE-USD market/],
  ['schedule: offset too large', 'POST', () => `${w()}/schedules`, { ...spec, limitOffsetBps: 5000 }, 400, 'limitOffsetBps', /at most 1000/],
  ['schedule: tolerance missing', 'POST', () => `${w()}/schedules`, { ...spec, toleranceBand: undefined }, 400, 'toleranceBand', /is required/],
  ['schedule: expectedVersion zero', 'PATCH', () => `/v1/schedules/${scheduleId}`, { cron: '5 * * * *', expectedVersion: 0 }, 400, 'expectedVersion', /^must be at least 1$/],
  ['schedule: expectedVersion beyond a safe integer', 'PATCH', () => `/v1/schedules/${scheduleId}`, { cron: '5 * * * *', expectedVersion: 1e20 }, 400, 'expectedVersion', /^must be an integer$/],
  ['schedule: stale expectedVersion', 'PATCH', () => `/v1/schedules/${scheduleId}`, { cron: '5 * * * *', expectedVersion: 7 }, 422, 'expectedVersion', /current version 1/],
  ['schedule: runs limit too high', 'GET', () => `/v1/schedules/${scheduleId}/runs?limit=501`, undefined, 400, 'limit', /at most 500/],
  ['audit: limit too high', 'GET', () => `${w()}/audit?limit=501`, undefined, 400, 'limit', /at most 500/],
  ['audit: limit in hex', 'GET', () => `${w()}/audit?limit=0x10`, undefined, 400, 'limit', /whole number in decimal digits/],
  ['schedule: runs limit with an exponent', 'GET', () => `/v1/schedules/${scheduleId}/runs?limit=1e2`, undefined, 400, 'limit', /whole number in decimal digits/],
  ['audit: cursor not an entry id', 'GET', () => `${w()}/audit?before=latest`, undefined, 400, 'before', /must be an entry id/],
  ['audit: unknown parameter', 'GET', () => `${w()}/audit?since=1`, undefined, 400, 'since', /is not a known field/],
  ['schedule: delete flag not a boolean', 'DELETE', () => `/v1/schedules/${scheduleId}?cancelOpenOrders=maybe`, undefined, 400, 'cancelOpenOrders', /must be one of "true", "false"/],
]

describe('every rule names its field', () => {
  it.each(cases)('%s', async (_name, method, url, body, status, field, rule) => {
    const response = await tenant.request(method, url(), body)
    expect(response.statusCode, response.body).toBe(status)
    const { error } = response.json<{ error: { code: string; field: string; rule: string; message: string } }>()
    expect(error.field).toBe(field)
    expect(error.rule).toMatch(rule)
    expect(error.code).toBe(status === 400 ? 'API.VALIDATION' : status === 409 ? 'ORDER.NOT_OPEN' : 'CORE.VALIDATION')
    expect(error.message.length).toBeGreaterThan(0)
  })

  it('stores no policy it refused', async () => {
    for (const allowedMarkets of [['DOGE-USD'], ['BTC-USD', 'BTC-USD']]) {
      const refused = await tenant.request('PUT', `${w()}/policy`, { rules: { allowedMarkets } })
      expect(refused.statusCode, refused.body).toBe(422)
    }
    expect((await tenant.request('GET', `${w()}/policy`)).statusCode).toBe(404)
  })

  it('registers no wallet it refused', async () => {
    const listed = async () => (await tenant.request('GET', '/v1/wallets')).json<{ wallets: { address: string }[] }>().wallets.map((wallet) => wallet.address.toLowerCase())
    const before = await listed()
    // Refused for the address itself, and for a custody wallet id given beside a valid one.
    const refused: [body: { address: string; custodyWalletId?: string }, status: number][] = [
      [{ address: '0x0000000000000000000000000000000000000000' }, 422],
      [{ address: '0x00000000000000000000000000000000000000aA' }, 422],
      [{ address: '0x000000000000000000000000000000000000dEaD', custodyWalletId: 'did:privy:cm1abc' }, 400],
    ]
    for (const [body, status] of refused) {
      const response = await tenant.request('POST', '/v1/wallets', body)
      expect(response.statusCode, response.body).toBe(status)
    }
    const after = await listed()
    expect(after).toEqual(before)
    for (const [{ address }] of refused) expect(after).not.toContain(address.toLowerCase())
  })

  it('queues no CancelAll it refused', async () => {
    for (const market of ['XYZ', '']) {
      const response = await tenant.request('POST', `${w()}/cancel-all`, { market })
      expect(response.statusCode, response.body).toBe(422)
    }
    const queued = await api.h.db.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.walletId, walletId), eq(outbox.kind, 'CancelAll')))
    expect(queued).toEqual([])
  })

  it('lists every problem of a schedule at once', async () => {
    const response = await tenant.request('POST', `${w()}/schedules`, { ...spec, cron: 'nope', timeZone: 'Nowhere/Here', targets: { ETH: '2', USD: '0' } })
    expect(response.statusCode).toBe(422)
    const fields = response.json<{ error: { problems: { field: string }[] } }>().error.problems.map((p) => p.field)
    expect(fields).toEqual(expect.arrayContaining(['targets.ETH', 'cron', 'timeZone']))
  })

  it('refuses a body that is not JSON, naming the body', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: { ...tenant.headers, 'content-type': 'application/json' }, payload: '{"generate":' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: { code: 'API.BAD_REQUEST', field: 'body' } })
  })

  it('refuses a malformed Idempotency-Key', async () => {
    const response = await tenant.request('POST', '/v1/wallets', { generate: true }, { 'idempotency-key': 'k'.repeat(256) })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: { code: 'API.VALIDATION', field: 'Idempotency-Key', rule: expect.stringMatching(/printable ASCII/) } })
  })

  it('refuses U+0000 in any text (Postgres cannot store it), naming the field, before anything is done', async () => {
    const nul = 'a\u0000b'
    const refusals: [method: 'GET' | 'POST' | 'PUT', url: string, body: unknown, field: string][] = [
      ['POST', `${w()}/orders`, { ...order, clientRef: nul }, 'clientRef'],
      ['POST', `${w()}/halt`, { reason: nul }, 'reason'],
      ['PUT', `${w()}/policy`, { rules: { allowedMarkets: ['ETH-USD', nul] } }, 'rules.allowedMarkets.1'],
      ['POST', `${w()}/schedules`, { ...spec, targets: { [nul]: '0.5', USD: '0.5' } }, `targets.${nul}`],
      ['POST', `/v1/sessions/${sessionId}/revoke`, { reason: nul }, 'reason'],
      ['GET', `/v1/orders?state=${encodeURIComponent(nul)}`, undefined, 'state'],
    ]
    for (const [method, url, body, field] of refusals) {
      const response = await tenant.request(method, url, body)
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(400)
      expect(response.json()).toMatchObject({ error: { code: 'API.VALIDATION', field, rule: 'must not contain the NUL character (U+0000): Postgres cannot store it' } })
    }
    // The revoke was refused before it reached the operator: the session still signs.
    expect((await tenant.request('GET', `/v1/sessions/${sessionId}`)).json()).toMatchObject({ status: 'active' })
    expect((await tenant.request('GET', w())).json()).toMatchObject({ status: 'active' })
    const admin = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: api.admin, payload: { name: 'nul-key', keyLabel: nul } })
    expect(admin.json()).toMatchObject({ error: { field: 'keyLabel' } })
    const again = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: api.admin, payload: { name: 'nul-key' } })
    expect(again.statusCode, again.body).toBe(201)
  })

  it('counts a clientRef in characters, as its 128-character rule says (an emoji is one, not two UTF-16 units)', async () => {
    const emoji = '\u{1F600}'
    const fits = await tenant.request('POST', `${w()}/orders`, { ...order, clientRef: emoji.repeat(128) })
    expect(fits.statusCode, fits.body).toBe(201)
    expect(fits.json()).toMatchObject({ clientRef: emoji.repeat(128) })
    const tooLong = await tenant.request('POST', `${w()}/orders`, { ...order, clientRef: emoji.repeat(129) })
    expect(tooLong.statusCode, tooLong.body).toBe(400)
    expect(tooLong.json()).toMatchObject({ error: { code: 'API.VALIDATION', field: 'clientRef', rule: 'must be at most 128 characters' } })
  })

  it('admin: names a missing or duplicate tenant name', async () => {
    const missing = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: api.admin, payload: {} })
    expect(missing.statusCode).toBe(400)
    expect(missing.json()).toMatchObject({ error: { field: 'name', rule: 'is required' } })
    await api.tenant('dup')
    const duplicate = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: api.admin, payload: { name: 'dup' } })
    expect(duplicate.statusCode).toBe(409)
    expect(duplicate.json()).toMatchObject({ error: { code: 'TENANT.EXISTS', field: 'name', rule: 'must be unique' } })
  })
})

describe('a modify that changes nothing', () => {
  it('is refused, naming the price and size the order already has, and queues nothing; one back to them while another is queued is taken', async () => {
    const placed = (await tenant.request('POST', `${w()}/orders`, { market: 'ETH-USD', side: 'buy', price: '1000', size: '0.1' })).json<{ id: string }>()
    const read = async () => (await tenant.request('GET', `/v1/orders/${placed.id}`)).json<{ state: string; price: string; size: string; work: { kind: string }[] }>()
    await eventually(async () => (await read()).state === 'open')
    const same = await tenant.request('POST', `/v1/orders/${placed.id}/modify`, { price: '1000.00', size: '0.100' })
    expect(same.statusCode, same.body).toBe(422)
    expect(same.json()).toMatchObject({ error: { code: 'CORE.VALIDATION', field: 'price', rule: 'with size, must change the order: it already has price 1000 and size 0.1' } })
    expect((await read()).work.filter((work) => work.kind === 'ModifyOrder')).toEqual([])

    // A modify still on its way: asking for the values the order has now undoes it, and is a change.
    const away = await tenant.request('POST', `/v1/orders/${placed.id}/modify`, { price: '990', size: '0.1' })
    const back = await tenant.request('POST', `/v1/orders/${placed.id}/modify`, { price: '1000', size: '0.1' })
    expect([away.statusCode, back.statusCode]).toEqual([202, 202])
    await eventually(async () => (await tenant.request('GET', `/v1/work/${back.json<{ outboxId: string }>().outboxId}`)).json<{ status: string }>().status === 'done')
    expect(await read()).toMatchObject({ price: '1000', size: '0.1' })
  })
})
