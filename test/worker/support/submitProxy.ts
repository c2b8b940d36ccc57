import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVenueClient } from '../../../src/venue/createVenueClient.js'
import type { RunningWorker } from '../../../src/worker.js'

/** A send the proxy saw: its family and wallet (lower case), when its body says. */
export type ProxiedSend = { family?: string; wallet?: string }
/** What the worker hears: an answer (no content type: none sent), or the connection cut. */
export type ProxyAnswer = { status: number; contentType?: string; body: string } | 'drop'
/** Decides the answer to one send; `upstream()` forwards it to the sandbox and answers what it said. */
export type ProxyRule = (send: ProxiedSend, upstream: () => Promise<ProxyAnswer>) => Promise<ProxyAnswer>

/**
 * Something in front of the operator, on loopback: the worker's sends (`POST /v1/requests`) go
 * through it, its reads straight to the sandbox. `rule` decides each answer: forwarded as the
 * sandbox gave it, changed, or made up without forwarding. Answers `close`.
 */
export async function routeSendsThroughProxy(worker: RunningWorker, sandboxUrl: string, rule: ProxyRule): Promise<{ close: () => Promise<void> }> {
  const proxy = createServer((request, response) => void answer(request, response).catch(() => response.destroy()))
  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = ''
    for await (const chunk of request) body += chunk
    const message = body ? (JSON.parse(body) as { family?: string; message?: { wallet?: string } }) : undefined
    const upstream = async (): Promise<ProxyAnswer> => {
      const reply = await fetch(new URL(request.url ?? '/', sandboxUrl), { method: request.method, headers: { 'content-type': 'application/json' }, body: body || undefined })
      return { status: reply.status, contentType: 'application/json', body: await reply.text() }
    }
    const answered = await rule({ family: message?.family, wallet: message?.message?.wallet?.toLowerCase() }, upstream)
    if (answered === 'drop') return void response.destroy()
    response.writeHead(answered.status, { 'content-length': Buffer.byteLength(answered.body), ...(answered.contentType ? { 'content-type': answered.contentType } : {}) })
    response.end(answered.body)
  }
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  worker.deps.venue.submit = createVenueClient({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }).submit
  return {
    close: async () => {
      proxy.closeAllConnections()
      await new Promise((resolve) => proxy.close(resolve))
    },
  }
}
