import { describe, expect, it } from 'vitest'
import { apiHarnessForFile } from './support/apiHarness.js'

/*
 * Fastify refuses some requests before any route runs (a URL that is not valid percent-encoding,
 * a path segment longer than its limit). Those refusals answer the API's one error shape,
 * { error: { code, message, field, rule } }, like every other, not Fastify's own body.
 */
const file = apiHarnessForFile()

describe('a URL Fastify cannot route', () => {
  it('badly percent-encoded: 400 in the error shape, naming the url', async () => {
    const { tenant } = file
    const response = await tenant.request('GET', '/v1/orders/%E0%A4%A')
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toEqual({
      error: { code: 'API.BAD_REQUEST', message: expect.any(String), field: 'url', rule: 'must be valid percent-encoded UTF-8' },
    })
  })

  it('a path parameter longer than any id: 414 in the error shape, naming the url', async () => {
    const { tenant } = file
    const response = await tenant.request('POST', `/v1/orders/${'a'.repeat(200)}/cancel`, {})
    expect(response.statusCode, response.body).toBe(414)
    expect(response.json()).toEqual({
      error: { code: 'API.BAD_REQUEST', message: expect.any(String), field: 'url', rule: 'must not have a path segment longer than 100 characters' },
    })
  })
})

describe('a body that is not JSON by its Content-Type', () => {
  const refusal = (type: string) => ({
    error: { code: 'API.UNSUPPORTED_MEDIA_TYPE', message: `unsupported media type ${type}: the API reads JSON bodies only`, field: 'Content-Type', rule: 'must be application/json' },
  })

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }, 'text/plain'],
    ['text/plain with a charset', { 'content-type': 'text/plain; charset=utf-8' }, 'text/plain'],
    ['application/xml', { 'content-type': 'application/xml' }, 'application/xml'],
    ['none', {}, '(none)'],
  ])('%s: 415 in the error shape, naming the Content-Type, and nothing done', async (_name, headers, type) => {
    const { api, tenant } = file
    const response = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: { ...tenant.headers, ...headers }, payload: '{"generate":true}' })
    expect(response.statusCode, response.body).toBe(415)
    expect(response.json()).toEqual(refusal(type))
    expect((await tenant.request('GET', '/v1/wallets')).json()).toEqual({ wallets: [] })
  })
})
