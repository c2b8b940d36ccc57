import { type Server, createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { criticalAlertCodes } from '../../src/core/alerts/alertCodes.js'
import { createAlertSink } from '../../src/runtime/createAlertSink.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, type Harness } from './support/harness.js'

/* Critical alerts before warnings, at the webhook (a real HTTP server on loopback that answers each POST after a pause). */

let h: Harness
let webhook: Server
let url: string
const posts: { code: string; severity: string; details: Record<string, unknown> }[] = []
let arrived = 0
/** How long the webhook takes to answer each POST. */
let pauseMs = 60

beforeAll(async () => {
  h = await createHarness()
  webhook = createServer((request, response) => {
    arrived++
    let text = ''
    request.on('data', (chunk: Buffer) => { text += chunk.toString() })
    // Each POST is answered after a pause: with one POST at a time, the alerts raised together queue.
    request.on('end', () => setTimeout(() => {
      posts.push(JSON.parse(text) as (typeof posts)[number])
      response.writeHead(200).end()
    }, pauseMs))
  })
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hooks/T0SECRET/B0SECRET`
})
afterAll(async () => {
  await new Promise((resolve) => webhook?.close(resolve))
  await h?.close()
})

const stalled = (walletId: string, n: number) => ({ walletId, code: 'WORK_STALLED' as const, message: 'Order has not gone out after every retry', details: { outboxId: `o-${n}` } })

describe('alerts waiting for the webhook', () => {
  it('a critical one raised behind a burst of warnings goes out before the warnings still waiting, and says it is critical', async () => {
    posts.length = 0
    arrived = 0
    pauseMs = 60
    const { wallet } = await h.wallet()
    const sink = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: url, webhookConcurrency: 1 })
    for (let n = 0; n < 8; n++) sink.raise(stalled(wallet.id, n))
    // Raised once the first warning is on the wire, behind the seven others.
    await vi.waitUntil(() => arrived === 1, { timeout: 10_000, interval: 5 })
    sink.raise({ walletId: wallet.id, code: 'KEY_INTEGRITY', message: 'SignerMismatch', details: { sessionId: 's-1' } })
    await sink.settled()

    expect(posts).toHaveLength(9)
    // One POST at a time, 60 ms each: the warning on the wire when it was raised goes first, and the
    // next one if it took the POST while the alert's audit entry was written; not the six others.
    const at = posts.findIndex((p) => p.code === 'KEY_INTEGRITY')
    expect(at).toBeGreaterThanOrEqual(1)
    expect(at).toBeLessThanOrEqual(2)
    expect(posts[at]).toMatchObject({ severity: 'critical', details: { sessionId: 's-1' } })
    expect(posts.filter((p) => p.code === 'WORK_STALLED').map((p) => p.severity)).toEqual(Array(8).fill('warning'))
    expect(posts.filter((p) => p.code === 'WORK_STALLED').map((p) => p.details.outboxId).sort()).toEqual(Array.from({ length: 8 }, (_, n) => `o-${n}`))
  })

  it('warnings filling the waiting line do not have a critical alert given up: each severity has its own', async () => {
    posts.length = 0
    arrived = 0
    // Long enough that every alert has been handed to the webhook before the first POST is answered.
    pauseMs = 300
    const { wallet } = await h.wallet()
    const { log, entries } = capturedLog('warn')
    const sink = createAlertSink({ log, db: h.db, webhookUrl: url, webhookConcurrency: 1, webhookMaxWaiting: 3 })
    for (let n = 0; n < 6; n++) sink.raise(stalled(wallet.id, n))
    sink.raise({ walletId: wallet.id, code: 'SESSION_COMPROMISE', message: 'suspected compromise', details: { reason: 'x' } })
    await sink.settled()

    expect(posts.filter((p) => p.code === 'SESSION_COMPROMISE')).toHaveLength(1)
    expect(posts.filter((p) => p.code === 'WORK_STALLED')).toHaveLength(3)
    const givenUp = entries().filter((e) => e.msg === 'alert webhook delivery failed')
    expect(givenUp.map((e) => e.code)).toEqual(Array(3).fill('WORK_STALLED'))
  })

  it('names as critical the alerts that say a key or money is at risk now, and only those', () => {
    expect([...criticalAlertCodes].sort()).toEqual([
      'ACL_VIOLATION', 'KEY_INTEGRITY', 'OPERATOR_DOMAIN_CHANGED', 'ORDER_UNCANCELLED', 'ORPHAN_UNCANCELLED', 'SESSION_COMPROMISE', 'SESSION_UNREVOKED',
    ])
  })
})
