import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Json, type Session, type WireBody, fundedSession, order, signed, testSandbox } from './helpers.js'

let sandbox: Sandbox
let session: Session
let valid: WireBody[]

beforeAll(async () => {
  sandbox = await testSandbox({ rateLimit: false })
  session = await fundedSession(sandbox, 'fuzz')
  valid = [
    await signed(session, 'Order', order({ price: '1500' })),
    await signed(session, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order().clientOrderId, price: 1n, size: 1n }),
    await signed(session, 'CancelOrder', { market: 'BTC-USD', clientOrderId: order().clientOrderId }),
    await signed(session, 'CancelAll', { market: '' }),
  ]
})
afterAll(() => sandbox.close())

async function send(path: string, raw: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<number> {
  const response = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers, body: raw })
  const body = await response.json()
  if (response.status >= 400) expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } })
  return response.status
}

const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map(String), fc.stringMatching(/^0x[0-9a-f]{0,140}$/))
const anyJson = fc.jsonValue({ maxDepth: 3 })

/** A valid body with one field replaced, removed, or its string value flipped at one character. */
const mutated = fc.tuple(fc.nat(), fc.nat(), fc.nat(), scalar, fc.constantFrom('replace', 'remove', 'flip', 'top')).map(([which, field, at, value, how]) => {
  const body = structuredClone(valid[which % valid.length]!) as Json
  const target = how === 'top' ? body : body.message
  const keys = Object.keys(target)
  const key = keys[field % keys.length]!
  if (how === 'remove') delete target[key]
  else if (how === 'flip' && typeof target[key] === 'string' && target[key].length > 2) {
    const text: string = target[key]
    const i = 2 + (at % (text.length - 2))
    // Hex is read case-insensitively (an address's checksum case is not signed): 'A' → 'a' would change nothing.
    target[key] = text.slice(0, i) + (text[i]!.toLowerCase() === 'a' ? 'b' : 'a') + text.slice(i + 1)
  } else target[key] = value
  return body
})

function sameAsValid(body: unknown): boolean {
  const normalize = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? String(v) : v))
  return valid.some((original) => normalize({ ...original, message: { ...original.message } }) === normalize(body))
}

describe('fuzz: random and mutated bodies are always a 4xx and the server keeps answering', () => {
  it('POST /v1/requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, anyJson), async (body) => {
        const status = await send('/v1/requests', JSON.stringify(body))
        // A mutation may by chance rewrite a field to an equal value (side 0 → 0): that one is a valid request.
        if (status === 200 && sameAsValid(body)) return
        expect(status >= 400 && status < 500, `status ${status} for ${JSON.stringify(body).slice(0, 300)}`).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('raw bytes, other content types, and the other POST endpoints', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.constantFrom('/v1/requests', '/v1/sessions/revoke', '/sandbox/fund', '/sandbox/mark', '/sandbox/faults'), fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'), async (raw, path, type) => {
        const status = await send(path, raw, { 'content-type': type })
        expect(status >= 400 && status < 500).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it('still accepts a valid request afterwards', async () => {
    const response = await fetch(`${sandbox.url}/v1/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await signed(session, 'Order', order({ price: '1500' }))) })
    expect(response.status).toBe(200)
  })
})
