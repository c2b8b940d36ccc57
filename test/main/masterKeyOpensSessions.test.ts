/**
 * DEPUTY_MASTER_KEY is checked against the session keys it sealed when the worker or the API starts:
 * a key id it holds whose key does not open the active sessions sealed under that id (another key
 * given the same id, a typo'd copy, the API and the worker each given their own) stops start-up with
 * a configuration error naming the variable, instead of a worker that starts, reports ready, and then
 * fails every order, cancel and revocation of those wallets as it tries to sign. A session whose own
 * stored key is in doubt is no such error: it is logged, and the next session proves the key.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiServer } from '../../src/api/startApiServer.js'
import { loadConfig } from '../../src/config.js'
import { createKeyring } from '../../src/keys/Keyring.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { createLogger } from '../../src/logger.js'
import { checkMasterKeysOpenSessions } from '../../src/runtime/sessions/checkMasterKeysOpenSessions.js'
import { sealSessionKey } from '../../src/runtime/sessions/sealedSessionKey.js'
import { sessions } from '../../src/store/schema/index.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { lateRelay } from '../support/lateRelay.js'
import { runToExit } from '../support/runToExit.js'
import { insertSealedSession, insertSession, insertWallet } from '../store/fixtures.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

const sealing = generateMasterKey('main')
/** Another key under the same id: the one the processes below are given. */
const impostor = generateMasterKey('main')
const retired = generateMasterKey('old')

let testDb: TestDatabase
let operator: Awaited<ReturnType<typeof lateRelay>>
let sessionId: string
beforeAll(async () => {
  testDb = await createTestDatabase()
  // An operator that refuses every connection: a process past the check would wait for it, and be killed.
  operator = await lateRelay('http://127.0.0.1:9')
  sessionId = (await insertSealedSession(testDb.database.db, createKeyring(sealing))).id
})
afterAll(async () => {
  await operator?.close()
  await testDb?.drop()
})

const settings = () => ({ DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: 'deputy-test-master-key-opens', OPERATOR_URL: operator.url, LOG_LEVEL: 'info' })
const CUSTODY_ENV = ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']
// The impostor second: the entry position is what the message names.
const wrongKey = `${retired},${impostor}`
const says = () => `DEPUTY_MASTER_KEY: entry 2 does not open session ${sessionId}'s key, sealed under its key id`
const secrets = [sealing, impostor, retired].map((entry) => entry.split(':')[1]!)

it('the worker stops at start-up, exit 2 and one line naming DEPUTY_MASTER_KEY, when a key it holds does not open the sessions sealed under its id', async () => {
  const env: Record<string, string | undefined> = { ...process.env, ...settings(), DEPUTY_MASTER_KEY: wrongKey }
  for (const key of CUSTODY_ENV) delete env[key]
  const { code, stderr } = await runToExit(['--import', 'tsx', 'src/main/worker.ts'], env)
  expect({ code, line: stderr.split('\n').find((line) => line.startsWith('deputy: configuration:')) }).toEqual({ code: 2, line: expect.stringContaining(`deputy: configuration: ${says()}`) })
  for (const secret of secrets) expect(stderr).not.toContain(secret)
}, 30_000)

it('the API stops at start-up with the same configuration error', async () => {
  const config = loadConfig({ ...settings(), API_PORT: '0', LOG_LEVEL: 'silent', DEPUTY_MASTER_KEY: wrongKey })
  // Past the check, it would wait for the operator: stopped after a while, it fails with the stop instead.
  await expect(startApiServer(config, createLogger('silent'), { signal: AbortSignal.timeout(15_000) })).rejects.toThrow(says())
}, 30_000)

it('the right key passes the check: the worker goes on to wait for the operator', async () => {
  const env: Record<string, string | undefined> = { ...process.env, ...settings(), DEPUTY_MASTER_KEY: `${retired},${sealing}` }
  for (const key of CUSTODY_ENV) delete env[key]
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const messages: string[] = []
  let buffered = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete.filter(Boolean)) messages.push((JSON.parse(line) as { msg?: string }).msg ?? '')
  })
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk })
  const exited = once(child, 'exit')
  const waiting = () => messages.some((msg) => msg.startsWith('the operator did not answer at start-up'))
  try {
    // Past the check, it waits for the operator (which refuses every connection) and says so; then it is killed.
    await eventually(async () => waiting() || child.exitCode !== null, 25_000)
  } finally {
    child.kill('SIGKILL')
  }
  const [code] = await exited
  expect({ code, stderr }).toEqual({ code: null, stderr: expect.not.stringContaining('deputy: configuration:') as unknown })
  expect(waiting()).toBe(true)
}, 60_000)

it('active sessions under a key id DEPUTY_MASTER_KEY does not hold are logged as an error at start-up, not refused (a lost key must not stop rotations)', async () => {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  await checkMasterKeysOpenSessions(testDb.database.db, createKeyring(retired), createLogger('info', 'test', stream))
  expect(lines).toEqual([expect.objectContaining({ level: 50, sessions: 1, msg: expect.stringContaining('DEPUTY_MASTER_KEY does not hold') })])
  for (const secret of secrets) expect(JSON.stringify(lines)).not.toContain(secret)
  // Held, it says nothing.
  lines.length = 0
  await checkMasterKeysOpenSessions(testDb.database.db, createKeyring(`${retired},${sealing}`), createLogger('info', 'test', stream))
  expect(lines).toEqual([])
})

/**
 * The session the check opens may itself be what is wrong, not the key: its stored key another
 * session's (copied from its row) or altered. That is a key-integrity problem of that session (the
 * worker's start-up reconciliation, which unseals every active session, quarantines it and alerts
 * KEY_INTEGRITY), not a master key that is not the one that sealed it: the check logs it and opens
 * the next session under that id instead.
 */
describe('a session the check opens whose stored key is not the delegated one', () => {
  let own: TestDatabase
  let keyring: ReturnType<typeof createKeyring>
  let good: string
  beforeAll(async () => {
    own = await createTestDatabase()
    keyring = createKeyring(sealing)
    good = (await insertSealedSession(own.database.db, keyring)).id
  })
  afterAll(async () => { await own?.drop() })

  /** A session that expires after `good` (the one the check opens first), holding `sealed`. */
  async function laterSession(sealed: string, id: string = randomUUID()) {
    const wallet = await insertWallet(own.database.db)
    const expiryUnix = 1_950_000_000
    await insertSession(own.database.db, wallet.id, {
      id, status: 'active', publicKey: SessionKey.generate().publicKey, sealedPrivateKey: sealed, masterKeyId: keyring.currentKeyId, expiry: new Date(expiryUnix * 1000), expiryUnix,
    })
    return id
  }
  async function check(entries: string) {
    const lines: Record<string, unknown>[] = []
    const stream = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
    await checkMasterKeysOpenSessions(own.database.db, createKeyring(entries), createLogger('info', 'test', stream))
    return lines
  }

  it('holding another session\'s sealed key: logged as that session\'s key-integrity problem, not a configuration error', async () => {
    const [row] = await own.database.db.select({ sealed: sessions.sealedPrivateKey }).from(sessions).where(eq(sessions.id, good))
    const copy = await laterSession(row!.sealed)
    try {
      const lines = await check(sealing)
      expect(lines).toEqual([expect.objectContaining({ level: 50, sessionId: copy, code: 'KEYS.SESSION_KEY_CORRUPT', msg: expect.stringContaining('KEY_INTEGRITY') })])
      for (const secret of secrets) expect(JSON.stringify(lines)).not.toContain(secret)
      // Another key under that id opens neither: nothing vouches for it, a configuration error still.
      await expect(check(impostor)).rejects.toThrow('DEPUTY_MASTER_KEY: entry 1 does not open session')
    } finally {
      await own.database.db.delete(sessions).where(eq(sessions.id, copy))
    }
  })

  it('altered: logged the same way', async () => {
    const id = randomUUID()
    const parts = sealSessionKey(keyring, SessionKey.generate(), id).split('.')
    const at = Math.floor(parts[3]!.length / 2)
    parts[3] = parts[3]!.slice(0, at) + (parts[3]![at] === 'A' ? 'B' : 'A') + parts[3]!.slice(at + 1)
    await laterSession(parts.join('.'), id)
    try {
      expect(await check(sealing)).toEqual([expect.objectContaining({ level: 50, sessionId: id, code: 'KEYS.SESSION_KEY_CORRUPT' })])
      await expect(check(impostor)).rejects.toThrow('DEPUTY_MASTER_KEY: entry 1 does not open session')
    } finally {
      await own.database.db.delete(sessions).where(eq(sessions.id, id))
    }
  })

  it('not a sealed value at all: logged the same way, and another key under that id is still found, at the next session', async () => {
    const id = await laterSession(`dk1.${keyring.currentKeyId}.AAAA`)
    try {
      expect(await check(sealing)).toEqual([expect.objectContaining({ level: 50, sessionId: id, code: 'KEYS.SESSION_KEY_CORRUPT' })])
      await expect(check(impostor)).rejects.toThrow(`DEPUTY_MASTER_KEY: entry 1 does not open session ${good}'s key`)
    } finally {
      await own.database.db.delete(sessions).where(eq(sessions.id, id))
    }
  })

  it('unsealing to another key than its public key: logged the same way (it opened: the key is the right one)', async () => {
    const id = randomUUID()
    await laterSession(sealSessionKey(keyring, SessionKey.generate(), id), id)
    try {
      expect(await check(sealing)).toEqual([expect.objectContaining({ level: 50, sessionId: id, code: 'KEYS.SESSION_KEY_MISMATCH' })])
    } finally {
      await own.database.db.delete(sessions).where(eq(sessions.id, id))
    }
  })
})
