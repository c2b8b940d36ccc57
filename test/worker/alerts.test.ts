import { type IncomingMessage, type Server, createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createAlertSink } from '../../src/runtime/createAlertSink.js'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { audit } from '../../src/store/repositories/audit.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

/* Alerts: the log, the wallet's audit trail, and a webhook (a real HTTP server on loopback). */

let h: Harness
let server: Server
let url: string
const received: { path: string; contentType: string | undefined; authorization: string | undefined; body: Record<string, unknown> }[] = []
let answer = 200
const fewQuickRetries = { attempts: 3, firstDelayMs: 10, maxDelayMs: 20, giveUpAfterMs: 10_000 }

const readBody = (request: IncomingMessage) => new Promise<string>((resolve) => {
  let text = ''
  request.on('data', (chunk: Buffer) => { text += chunk.toString() })
  request.on('end', () => resolve(text))
})

beforeAll(async () => {
  h = await createHarness()
  server = createServer((request, response) => {
    void readBody(request).then((text) => {
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'], authorization: request.headers.authorization, body: JSON.parse(text) as Record<string, unknown> })
      response.writeHead(answer).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/T0SECRET/B0SECRET`
})
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await h?.close()
})

describe('an alert', () => {
  it('is logged, written to the wallet\'s audit trail, and POSTed to the webhook as JSON with a text line', async () => {
    const { wallet } = await h.wallet()
    const { log, entries } = capturedLog('error')
    const sink = createAlertSink({ log, db: h.db, webhookUrl: url })
    sink.raise({ walletId: wallet.id, code: 'KEY_INTEGRITY', message: 'SignerMismatch: the stored session key is not the delegated one', details: { sessionId: 's-1' } })
    await sink.settled()

    expect(received).toHaveLength(1)
    const [delivery] = received
    expect(delivery!.path).toBe('/hooks/T0SECRET/B0SECRET')
    expect(delivery!.contentType).toBe('application/json')
    expect(delivery!.body).toMatchObject({
      code: 'KEY_INTEGRITY', walletId: wallet.id, message: 'SignerMismatch: the stored session key is not the delegated one', details: { sessionId: 's-1' },
      severity: 'critical',
      text: `Deputy ALERT KEY_INTEGRITY (wallet ${wallet.id}): SignerMismatch: the stored session key is not the delegated one`,
    })
    expect(Date.parse(String(delivery!.body.at))).not.toBeNaN()
    const [trail] = await rows(h.db).audit(wallet.id, 'alert.KEY_INTEGRITY')
    expect(trail).toMatchObject({ actor: 'worker', details: { message: 'SignerMismatch: the stored session key is not the delegated one', sessionId: 's-1' } })
    expect(entries().map((e) => [e.level, e.msg])).toEqual([[50, 'ALERT KEY_INTEGRITY: SignerMismatch: the stored session key is not the delegated one']])
  })

  it('still reaches the log and the audit trail when the webhook fails, and the failure is logged without the URL', async () => {
    const { wallet } = await h.wallet()
    const { log, lines, entries } = capturedLog('warn')
    answer = 500
    // Retried (a 5xx, no answer) a few times, quickly, then given up.
    const refusing = createAlertSink({ log, db: h.db, webhookUrl: url, webhookRetry: fewQuickRetries })
    refusing.raise({ walletId: wallet.id, code: 'ACL_VIOLATION', message: 'Order outside the delegation\'s scope' })
    await refusing.settled()
    answer = 200
    // Nothing listens on port 9 of loopback: the POST fails at once, and raise() never throws.
    const unreachable = createAlertSink({ log, db: h.db, webhookUrl: 'http://127.0.0.1:9/hooks/T0SECRET/B0SECRET', webhookRetry: fewQuickRetries })
    expect(() => unreachable.raise({ walletId: wallet.id, code: 'SESSION_EXPIRING', message: 'no wallet signer' })).not.toThrow()
    await unreachable.settled()

    expect(entries().filter((e) => e.msg === 'alert webhook delivery failed').map((e) => [e.code, e.attempts, e.reason])).toEqual([
      ['ACL_VIOLATION', 3, 'the webhook answered HTTP 500'],
      ['SESSION_EXPIRING', 3, expect.stringMatching(/fetch failed/)],
    ])
    expect(lines.join('\n')).not.toContain('SECRET')
    expect((await rows(h.db).audit(wallet.id)).map((a) => a.action)).toEqual(expect.arrayContaining(['alert.ACL_VIOLATION', 'alert.SESSION_EXPIRING']))
  })

  it('to a webhook URL carrying a user and password goes out with them as Basic authentication, and a failure is logged without them', async () => {
    const { wallet } = await h.wallet()
    const { log, lines } = capturedLog('warn')
    // fetch refuses such a URL, and its error quotes it whole.
    const withCredentials = new URL(url)
    withCredentials.username = 'alerts'
    withCredentials.password = 'hunter2-PASSWORD'
    received.length = 0
    const sink = createAlertSink({ log, db: h.db, webhookUrl: withCredentials.href })
    sink.raise({ walletId: wallet.id, code: 'ACL_VIOLATION', message: 'Order outside the delegation\'s scope' })
    await sink.settled()
    withCredentials.port = '9'
    const unreachable = createAlertSink({ log, db: h.db, webhookUrl: withCredentials.href, webhookRetry: fewQuickRetries })
    unreachable.raise({ walletId: wallet.id, code: 'SESSION_EXPIRING', message: 'no wallet signer' })
    await unreachable.settled()

    expect(received.map((r) => [r.path, r.authorization, r.body.code])).toEqual([
      ['/hooks/T0SECRET/B0SECRET', `Basic ${Buffer.from('alerts:hunter2-PASSWORD').toString('base64')}`, 'ACL_VIOLATION'],
    ])
    expect(lines.join('\n')).toContain('alert webhook delivery failed')
    expect(lines.join('\n')).not.toContain('PASSWORD')
    expect(lines.join('\n')).not.toContain('SECRET')
  })

  it('raised again within the hour (a condition every maintenance run sees) goes out once; after the hour, or with other details, again', async () => {
    const { wallet } = await h.wallet()
    let clock = Date.now()
    const sink = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: url, now: () => clock })
    const expiring = { walletId: wallet.id, code: 'SESSION_EXPIRING' as const, message: 'session expires soon and no wallet signer is configured to rotate it' }
    const before = received.length
    for (let run = 0; run < 5; run++) {
      sink.raise(expiring)
      clock += 10_000
    }
    sink.raise({ ...expiring, code: 'KEY_INTEGRITY', details: { sessionId: 'a' } })
    sink.raise({ ...expiring, code: 'KEY_INTEGRITY', details: { sessionId: 'b' } })
    clock += 3_600_000
    sink.raise(expiring)
    await sink.settled()
    // Posted side by side, so arriving in any order.
    expect(received.slice(before).map((r) => JSON.stringify([r.body.code, r.body.details])).sort()).toEqual([
      '["KEY_INTEGRITY",{"sessionId":"a"}]', '["KEY_INTEGRITY",{"sessionId":"b"}]', '["SESSION_EXPIRING",{}]', '["SESSION_EXPIRING",{}]',
    ])
    // Written side by side, so in any order.
    expect((await rows(h.db).audit(wallet.id)).filter((a) => a.action.startsWith('alert.')).map((a) => a.action).sort())
      .toEqual(['alert.KEY_INTEGRITY', 'alert.KEY_INTEGRITY', 'alert.SESSION_EXPIRING', 'alert.SESSION_EXPIRING'])
  })
})

describe('an alert raised by several worker processes', () => {
  // Each worker process builds its own sink, with its own memory, over the same Postgres (its own pool).
  let second: Database
  beforeAll(async () => { second = await openDatabase({ url: h.databaseUrl, max: 2 }) })
  afterAll(async () => { await second?.close() })

  const sent = (before: number) => received.slice(before).map((r) => JSON.stringify([r.body.walletId, r.body.code, r.body.details])).sort()
  const alertTrail = async (walletId: string) => (await rows(h.db).audit(walletId)).filter((a) => a.action.startsWith('alert.'))
    .map((a) => JSON.stringify([a.action, a.details])).sort()

  it('goes out once within the hour, whichever process raises it, a restarted one included; other details, wallet or code still go out; after the hour, again', async () => {
    const [{ wallet }, { wallet: other }] = [await h.wallet(), await h.wallet()]
    let clock = Date.now()
    const now = () => clock
    const first = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: url, now })
    const secondSink = createAlertSink({ log: capturedLog().log, db: second.db, webhookUrl: url, now })
    const expiring = { walletId: wallet.id, code: 'SESSION_EXPIRING' as const, message: 'session expires soon and no wallet signer is configured to rotate it', details: { sessionId: 's-1' } }
    const before = received.length

    // Both processes' maintenance runs see the condition at the same moment, and again a few seconds later.
    first.raise(expiring)
    secondSink.raise(expiring)
    await Promise.all([first.settled(), secondSink.settled()])
    clock += 10_000
    first.raise(expiring)
    secondSink.raise({ ...expiring, message: 'said another way' })
    await Promise.all([first.settled(), secondSink.settled()])
    // A process started after the first delivery (a restart, another worker scaled up) within the hour.
    const { log: restartedLog, entries: restartedEntries } = capturedLog('debug')
    const restarted = createAlertSink({ log: restartedLog, db: second.db, webhookUrl: url, now })
    restarted.raise(expiring)
    await restarted.settled()
    // It logs what it saw, and that it sent nothing.
    expect(restartedEntries().map((e) => [e.level, e.msg])).toEqual([
      [50, `ALERT SESSION_EXPIRING: ${expiring.message}`],
      [20, 'ALERT SESSION_EXPIRING not sent: another process (or an earlier run) sent it less than 60 min ago'],
    ])

    expect(sent(before)).toEqual([JSON.stringify([wallet.id, 'SESSION_EXPIRING', { sessionId: 's-1' }])])
    expect(await alertTrail(wallet.id)).toEqual([JSON.stringify(['alert.SESSION_EXPIRING', { message: expiring.message, sessionId: 's-1' }])])

    // Other details, another wallet, another code: each its own alert, sent once.
    secondSink.raise({ ...expiring, details: { sessionId: 's-2' } })
    first.raise({ ...expiring, details: { sessionId: 's-2' } })
    first.raise({ ...expiring, walletId: other.id })
    secondSink.raise({ ...expiring, walletId: other.id })
    secondSink.raise({ ...expiring, code: 'SESSION_GRANTS_FAILING' })
    restarted.raise({ ...expiring, code: 'SESSION_GRANTS_FAILING' })
    await Promise.all([first.settled(), secondSink.settled(), restarted.settled()])
    expect(sent(before)).toEqual([
      JSON.stringify([other.id, 'SESSION_EXPIRING', { sessionId: 's-1' }]),
      JSON.stringify([wallet.id, 'SESSION_EXPIRING', { sessionId: 's-1' }]),
      JSON.stringify([wallet.id, 'SESSION_EXPIRING', { sessionId: 's-2' }]),
      JSON.stringify([wallet.id, 'SESSION_GRANTS_FAILING', { sessionId: 's-1' }]),
    ].sort())

    // An hour after its delivery the condition goes out again, once, whichever process sees it first.
    clock += 3_600_000
    secondSink.raise(expiring)
    first.raise(expiring)
    restarted.raise(expiring)
    await Promise.all([first.settled(), secondSink.settled(), restarted.settled()])
    expect(sent(before).filter((s) => s === JSON.stringify([wallet.id, 'SESSION_EXPIRING', { sessionId: 's-1' }]))).toHaveLength(2)
    expect((await alertTrail(wallet.id)).filter((a) => a.startsWith('["alert.SESSION_EXPIRING"'))).toHaveLength(3)
  })

  it('with Postgres unreachable still goes out from each process (logged, POSTed), and raise() never throws', async () => {
    const { wallet } = await h.wallet()
    // Nothing listens on port 9 of loopback: every statement fails at once.
    const down = await openDatabase({ url: 'postgres://postgres@127.0.0.1:9/test', max: 1 })
    try {
      const { log, entries } = capturedLog('debug')
      const sink = createAlertSink({ log, db: down.db, webhookUrl: url })
      const alert = { walletId: wallet.id, code: 'SCHEDULE_SKIPPED' as const, message: 'earlier orders still working', details: { scheduleId: 'x' } }
      const before = received.length
      expect(() => sink.raise(alert)).not.toThrow()
      expect(() => sink.raise(alert)).not.toThrow()
      await sink.settled()

      expect(sent(before)).toEqual([JSON.stringify([wallet.id, 'SCHEDULE_SKIPPED', { scheduleId: 'x' }])])
      expect(entries().filter((e) => e.level === 50).map((e) => e.msg)).toEqual(['ALERT SCHEDULE_SKIPPED: earlier orders still working'])
      expect(entries().some((e) => e.level === 40 && /audit/.test(e.msg))).toBe(true)
    } finally {
      await down.close()
    }
  })
})

describe('an alert to a webhook that refuses for a while (a rate limit, an outage)', () => {
  // A webhook of its own: it answers the next statuses scripted (then 200), each after a short
  // pause so that posts sent side by side overlap, and keeps when each post came and was answered.
  let webhook: Server
  let hookUrl: string
  let script: { status: number; retryAfter?: string }[] = []
  let otherwise = 200
  let inFlight = 0
  let maxInFlight = 0
  const posts: { arrivedAt: number; answeredAt: number; status: number; body: { code: string; details: Record<string, unknown> } }[] = []

  beforeAll(async () => {
    webhook = createServer((request, response) => {
      const arrivedAt = performance.now()
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      void readBody(request).then((text) => setTimeout(() => {
        const { status, retryAfter } = script.shift() ?? { status: otherwise }
        inFlight--
        posts.push({ arrivedAt, answeredAt: performance.now(), status, body: JSON.parse(text) as (typeof posts)[number]['body'] })
        response.writeHead(status, retryAfter === undefined ? {} : { 'retry-after': retryAfter }).end()
      }, 20))
    })
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
    hookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hooks/T0SECRET/B0SECRET`
  })
  afterAll(async () => { await new Promise((resolve) => webhook?.close(resolve)) })
  const reset = () => { script = []; otherwise = 200; maxInFlight = 0; posts.length = 0 }
  const quickRetries = { attempts: 6, firstDelayMs: 10, maxDelayMs: 50, giveUpAfterMs: 60_000 }
  const delivered = () => posts.filter((p) => p.status === 200).map((p) => JSON.stringify([p.body.code, p.body.details])).sort()

  it('a burst (a domain change seen for every wallet, stuck work) is delivered whole, a few posts at a time, waiting out a 429\'s Retry-After and retrying 503s', async () => {
    reset()
    const { wallet } = await h.wallet()
    // Slack's answer to too many posts, then an outage.
    script = [...Array.from({ length: 3 }, () => ({ status: 429, retryAfter: '1' })), ...Array.from({ length: 3 }, () => ({ status: 503 }))]
    const { log, entries } = capturedLog('warn')
    const sink = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookConcurrency: 2, webhookRetry: quickRetries })
    const burst = [
      ...Array.from({ length: 6 }, (_, n) => ({ walletId: wallet.id, code: 'OPERATOR_DOMAIN_CHANGED' as const, message: 'the operator verifies over another domain', details: { n } })),
      ...Array.from({ length: 5 }, (_, n) => ({ walletId: wallet.id, code: 'WORK_STALLED' as const, message: 'Order has not gone out after every retry', details: { outboxId: `o-${n}` } })),
      { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'SignerMismatch', details: { sessionId: 's-1' } },
    ]
    for (const alert of burst) expect(() => sink.raise(alert)).not.toThrow()
    await sink.settled()

    expect(delivered()).toEqual(burst.map((a) => JSON.stringify([a.code, a.details])).sort())
    expect(posts.filter((p) => p.status !== 200)).toHaveLength(6)
    expect(maxInFlight).toBeLessThanOrEqual(2)
    // Nothing is posted within the Retry-After of the first 429 once the sink has the answer. The
    // times are the webhook's: the other post at once may have been sent before the answer reached
    // the sink (on a loaded machine, after it left the webhook), one at most, and soon after.
    const limitedAt = posts.find((p) => p.status === 429)!.answeredAt
    const during = posts.filter((p) => p.arrivedAt > limitedAt && p.arrivedAt < limitedAt + 990)
    expect(during.length).toBeLessThanOrEqual(1)
    expect(during.filter((p) => p.arrivedAt > limitedAt + 200)).toEqual([])
    expect(entries().filter((e) => e.msg === 'alert webhook delivery failed')).toEqual([])
    expect((await rows(h.db).audit(wallet.id)).filter((a) => a.action.startsWith('alert.'))).toHaveLength(burst.length)
  })

  it('whose delivery finally fails (its retries spent) is not held back for the hour: its next occurrence goes out; a refusal that retrying cannot change (404) is not retried', async () => {
    reset()
    const { wallet } = await h.wallet()
    otherwise = 503
    const { log, entries, lines } = capturedLog('warn')
    const clock = Date.now()
    const sink = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: { ...quickRetries, attempts: 3 }, now: () => clock })
    const integrity = { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'SignerMismatch', details: { sessionId: 's-9' } }
    sink.raise(integrity)
    await sink.settled()
    expect(posts.map((p) => p.status)).toEqual([503, 503, 503])
    expect(entries().filter((e) => e.msg === 'alert webhook delivery failed').map((e) => [e.code, e.attempts, e.reason]))
      .toEqual([['KEY_INTEGRITY', 3, 'the webhook answered HTTP 503']])
    expect(lines.join('\n')).not.toContain('SECRET')

    // The same alert raised again within the hour, by this process or another, goes out.
    otherwise = 200
    sink.raise(integrity)
    await sink.settled()
    expect(delivered()).toEqual([JSON.stringify(['KEY_INTEGRITY', { sessionId: 's-9' }])])
    // Delivered, it is held back for the hour as before, across processes.
    const other = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries, now: () => clock })
    other.raise(integrity)
    sink.raise(integrity)
    await Promise.all([sink.settled(), other.settled()])
    expect(delivered()).toHaveLength(1)

    posts.length = 0
    otherwise = 404
    sink.raise({ ...integrity, details: { sessionId: 's-10' } })
    await sink.settled()
    expect(posts.map((p) => p.status)).toEqual([404])
  })

  it('waiting to retry when the process stops gives up at once, and the alert goes out from the next process to raise it', async () => {
    reset()
    const { wallet } = await h.wallet()
    otherwise = 503
    const { log, entries } = capturedLog('warn')
    const sink = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: { ...quickRetries, firstDelayMs: 600_000, maxDelayMs: 600_000, giveUpAfterMs: 3_600_000 } })
    const compromise = { walletId: wallet.id, code: 'SESSION_COMPROMISE' as const, message: 'suspected compromise', details: { reason: 'x' } }
    sink.raise(compromise)
    await vi.waitUntil(() => posts.length === 1, { timeout: 10_000, interval: 20 })
    // Without giving up, this waits ten minutes (past the test's timeout).
    await sink.close()
    expect(entries().filter((e) => e.msg === 'alert webhook delivery failed').map((e) => e.code)).toEqual(['SESSION_COMPROMISE'])

    otherwise = 200
    const next = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries })
    next.raise(compromise)
    await next.settled()
    expect(delivered()).toEqual([JSON.stringify(['SESSION_COMPROMISE', { reason: 'x' }])])
  })

  it('whose process died while its POST was under way is sent by another process\'s sweep, once, as raised', async () => {
    reset()
    const { wallet } = await h.wallet()
    // The dying process's webhook takes the POST and never answers (the process is gone before it would).
    const hanging = createServer(() => undefined)
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/hooks/T0SECRET/B0SECRET`
    let arrived = 0
    hanging.on('request', () => { arrived++ })
    // Its POST times out only after the test (it stands for a process killed meanwhile), and is then given up.
    const dying = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hangingUrl, webhookTimeoutMs: 4_000, webhookRetry: { ...quickRetries, attempts: 1 } })
    const integrity = { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'the stored session key is not the delegated one', details: { sessionId: 's-9' } }
    try {
      dying.raise(integrity)
      await vi.waitUntil(() => arrived === 1, { timeout: 10_000, interval: 20 })

      const { log, entries } = capturedLog('warn')
      const next = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries, undeliveredAfterMs: 60_000 })
      // Claimed a moment ago: its POST may still end. Not sent.
      expect(await next.resendUndelivered()).toBe(0)
      // Claimed long enough ago: taken for a process gone.
      const sweeper = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries, undeliveredAfterMs: 1 })
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(await sweeper.resendUndelivered()).toBe(1)
      await sweeper.settled()
      expect(delivered()).toEqual([JSON.stringify(['KEY_INTEGRITY', { sessionId: 's-9' }])])
      expect(entries().filter((e) => e.msg === "alert not delivered yet (its POST never ended, or was given up) sent again").map((e) => e.code)).toEqual(['KEY_INTEGRITY'])
      // Delivered: no sweep sends it again, and it was audited once, when raised.
      expect(await sweeper.resendUndelivered()).toBe(0)
      expect(await rows(h.db).audit(wallet.id, 'alert.KEY_INTEGRITY')).toHaveLength(1)
      // And within the hour the same alert raised again is held back as delivered.
      next.raise(integrity)
      await next.settled()
      expect(posts.filter((p) => p.body.code === 'KEY_INTEGRITY')).toHaveLength(1)
      await next.close()
      await sweeper.close()
    } finally {
      await dying.close()
      hanging.closeAllConnections()
      await new Promise((resolve) => hanging.close(resolve))
    }
  })

  it('claimed in the transaction of what it reports exists if and only if that commits: rolled back with it; committed by a process that dies before its POST, sent by another\'s sweep', async () => {
    reset()
    const { wallet } = await h.wallet()
    const acl = { walletId: wallet.id, code: 'ACL_VIOLATION' as const, message: 'Order outside the delegation\'s scope', details: { sessionId: 's-acl' } }
    const { log, entries } = capturedLog('debug')
    const sink = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries })
    // What it reports is rolled back: no claim, no audit entry, nothing sent, and nothing held back.
    await expect(h.db.transaction(async (tx) => {
      await audit(tx, { walletId: wallet.id, actor: 'worker', action: 'Order.rejected' })
      await sink.claimWithin(tx, acl)
      throw new Error('the write it reports failed')
    })).rejects.toThrow('the write it reports failed')
    await sink.settled()
    const trail = async () => (await rows(h.db).audit(wallet.id)).map((a) => a.action).filter((a) => a !== 'session.activated').sort()
    expect(await trail()).toEqual([])
    expect(entries().filter((e) => e.level >= 50)).toEqual([])
    // Committed: the claim, its audit entry and what it reports together; sent once the caller says so.
    const afterCommit = await h.db.transaction(async (tx) => {
      await audit(tx, { walletId: wallet.id, actor: 'worker', action: 'Order.rejected' })
      return sink.claimWithin(tx, acl)
    })
    expect(await trail()).toEqual(['Order.rejected', 'alert.ACL_VIOLATION'])
    expect(posts).toHaveLength(0)
    afterCommit()
    await sink.settled()
    expect(delivered()).toEqual([JSON.stringify(['ACL_VIOLATION', { sessionId: 's-acl' }])])
    expect(entries().filter((e) => e.level === 50).map((e) => e.msg)).toEqual([`ALERT ACL_VIOLATION: ${acl.message}`])

    // A process that commits the claim and dies before calling back: the sweep of another sends it, once.
    const integrity = { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'SignerMismatch: the stored session key is not the delegated one', details: { sessionId: 's-dead' } }
    const dying = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries })
    await h.db.transaction(async (tx) => {
      await audit(tx, { walletId: wallet.id, actor: 'worker', action: 'session.quarantined' })
      await dying.claimWithin(tx, integrity)
    })
    const sweeper = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries, undeliveredAfterMs: 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await sweeper.resendUndelivered()).toBe(1)
    await sweeper.settled()
    expect(await sweeper.resendUndelivered()).toBe(0)
    expect(delivered()).toEqual([JSON.stringify(['ACL_VIOLATION', { sessionId: 's-acl' }]), JSON.stringify(['KEY_INTEGRITY', { sessionId: 's-dead' }])])
    await Promise.all([sink.close(), dying.close(), sweeper.close()])
  })

  it('claimed with what it reports and given up (the process stopping while it waits to retry) is left for the sweep, which sends it; so is one a sweep gives up', async () => {
    reset()
    const { wallet } = await h.wallet()
    otherwise = 503
    const { log, entries } = capturedLog('warn')
    const waitsLong = { ...quickRetries, firstDelayMs: 600_000, maxDelayMs: 600_000, giveUpAfterMs: 3_600_000 }
    const stopping = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: waitsLong })
    const integrity = { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'SignerMismatch: the stored session key is not the delegated one', details: { sessionId: 's-stop' } }
    const afterCommit = await h.db.transaction((tx) => stopping.claimWithin(tx, integrity))
    afterCommit()
    await vi.waitUntil(() => posts.length === 1, { timeout: 10_000, interval: 20 })
    // Without giving up, this waits ten minutes (past the test's timeout).
    await stopping.close()
    expect(entries().filter((e) => e.msg.startsWith('alert webhook delivery failed')).map((e) => e.msg))
      .toEqual(['alert webhook delivery failed; a sweep sends it again'])
    // A sweep whose POST is given up too (the webhook still refusing, the sweeping process stopping) leaves it again.
    const sweeping = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: waitsLong, undeliveredAfterMs: 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await sweeping.resendUndelivered()).toBe(1)
    await vi.waitUntil(() => posts.length === 2, { timeout: 10_000, interval: 20 })
    await sweeping.close()

    otherwise = 200
    const sweeper = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries, undeliveredAfterMs: 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await sweeper.resendUndelivered()).toBe(1)
    await sweeper.settled()
    expect(delivered()).toEqual([JSON.stringify(['KEY_INTEGRITY', { sessionId: 's-stop' }])])
    expect(await sweeper.resendUndelivered()).toBe(0)
    await sweeper.close()
  })

  it('left undelivered (a webhook down) is sent by the sweeps for a day from when it was raised, then no more; one the webhook refuses for good (404) is not sent again', async () => {
    reset()
    otherwise = 503
    const { wallet } = await h.wallet()
    const raisedAt = Date.now()
    let clock = raisedAt
    const onePost = { attempts: 1, firstDelayMs: 10, maxDelayMs: 50, giveUpAfterMs: 60_000 }
    const integrity = { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'SignerMismatch: the stored session key is not the delegated one', details: { sessionId: 's-down' } }
    // Claimed with what it reports; its process dies before the POST.
    const dying = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: onePost, now: () => clock })
    await h.db.transaction((tx) => dying.claimWithin(tx, integrity))
    const { log, entries } = capturedLog('warn')
    const sweeper = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: onePost, undeliveredAfterMs: 60_000, now: () => clock })
    const sweepAfter = async (ms: number) => {
      clock += ms
      const sent = await sweeper.resendUndelivered()
      await sweeper.settled()
      return sent
    }
    // Each sweep past the claim's minute sends it again; the webhook is down for each.
    expect([await sweepAfter(120_000), await sweepAfter(120_000), await sweepAfter(10_000)]).toEqual([1, 1, 0])
    expect(await sweepAfter(23 * 3_600_000)).toBe(1)
    // A day after it was raised (before: sent again every few minutes for as long as the webhook failed).
    clock = raisedAt + 24 * 3_600_000 + 120_000
    expect(await sweepAfter(0)).toBe(0)
    expect(posts.filter((post) => post.body.details.sessionId === 's-down').map((post) => post.status)).toEqual([503, 503, 503])

    // Refused for good: the sweep that sends it leaves it, and none sends it again.
    otherwise = 404
    const refused = { ...integrity, details: { sessionId: 's-refused' } }
    await h.db.transaction((tx) => dying.claimWithin(tx, refused))
    expect(await sweepAfter(120_000)).toBe(1)
    expect(await sweepAfter(120_000)).toBe(0)
    expect(posts.filter((post) => post.body.details.sessionId === 's-refused').map((post) => post.status)).toEqual([404])
    expect(entries().filter((e) => e.msg === 'alert webhook refused it; not sent again').map((e) => e.code)).toEqual(['KEY_INTEGRITY'])
    await Promise.all([dying.close(), sweeper.close()])
  })

  it('whose claim Postgres refuses inside the transaction of what it reports does not fail that transaction: it is raised once that commits', async () => {
    reset()
    const { wallet } = await h.wallet()
    // Postgres's jsonb takes no U+0000: the claim (and its audit entry) cannot be written.
    const unstorable = { walletId: wallet.id, code: 'KEY_INTEGRITY' as const, message: 'the stored session key is not the delegated one', details: { sessionId: 's\u0000' } }
    const { log, entries } = capturedLog('warn')
    const sink = createAlertSink({ log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries })
    const afterCommit = await h.db.transaction(async (tx) => {
      const then = await sink.claimWithin(tx, unstorable)
      await audit(tx, { walletId: wallet.id, actor: 'worker', action: 'session.quarantined' })
      return then
    })
    expect((await rows(h.db).audit(wallet.id)).map((a) => a.action).filter((a) => a !== 'session.activated')).toEqual(['session.quarantined'])
    afterCommit()
    await sink.settled()
    expect(posts.map((p) => p.body.code)).toEqual(['KEY_INTEGRITY'])
    expect(entries().map((e) => e.msg)).toEqual([
      'alert not claimed with what it reports; raised once that is written',
      'ALERT KEY_INTEGRITY: the stored session key is not the delegated one',
      'alert not written to the audit log (sent without asking whether another process did)',
    ])
    await sink.close()
  })

  it('delivered, or raised by a process without a webhook, is never sent by a sweep', async () => {
    reset()
    const { wallet } = await h.wallet()
    const sent = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries })
    sent.raise({ walletId: wallet.id, code: 'ACL_VIOLATION', message: 'Order outside the scope' })
    await sent.settled()
    const silent = createAlertSink({ log: capturedLog().log, db: h.db })
    silent.raise({ walletId: wallet.id, code: 'SESSION_EXPIRING', message: 'no wallet signer' })
    await silent.settled()
    const sweeper = createAlertSink({ log: capturedLog().log, db: h.db, webhookUrl: hookUrl, webhookRetry: quickRetries, undeliveredAfterMs: 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await sweeper.resendUndelivered()).toBe(0)
    expect(posts.map((p) => p.body.code)).toEqual(['ACL_VIOLATION'])
    await Promise.all([sent.close(), silent.close(), sweeper.close()])
  })
})
