import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { eq } from 'drizzle-orm'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { walletRegistrationTypedData } from '../../src/core/wallets/walletRegistrationTypedData.js'
import { outbox } from '../../src/store/schema/index.js'
import { eventually } from '../worker/support/harness.js'
import { freePort } from '../support/freePort.js'
import { type ApiHarness, createApiHarness } from '../api/support/apiHarness.js'

/* The `deputy` binary, spawned as a user would, against an API listening on a real port. */

const root = fileURLToPath(new URL('../..', import.meta.url))
let api: ApiHarness
let env: Record<string, string>

type Run = { code: number; stdout: string; stderr: string }

/** How long one `deputy` process may take: about 0.5 s alone, a few seconds on a loaded machine. */
const CALL_LIMIT_MS = 60_000

function deputy(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/deputy.js', ...args], { cwd: root, env: { ...process.env, ...env, ...extraEnv }, timeout: CALL_LIMIT_MS }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      const killed = error?.killed ? `\n(deputy ${args.join(' ')}: stopped after ${CALL_LIMIT_MS} ms)` : ''
      resolve({ code, stdout, stderr: stderr + killed })
    })
  })
}

/**
 * The time limit of a test running `calls` deputy processes. Each starts node and tsx: about 0.5 s of
 * CPU, all of a test's time, so the time scales with the machine's load (2 to 4 s a call with three
 * busy loops on 2 vCPUs); a fixed limit per test fails a run that is slow but progressing. A hung
 * process is stopped by its own limit (`CALL_LIMIT_MS`) and the test fails naming the command.
 */
const forCalls = (calls: number) => calls * 15_000
const json = <T>(run: Run): T => JSON.parse(run.stdout) as T

let walletId: string
let tenantId: string

beforeAll(async () => {
  api = await createApiHarness({ listen: true })
  env = { DEPUTY_API_URL: api.url!, DEPUTY_ADMIN_TOKEN: api.adminToken, DEPUTY_API_KEY: '' }
  const created = await deputy(['tenant', 'create', 'cli-tenant', '--json'])
  expect(created.code, created.stderr).toBe(0)
  env.DEPUTY_API_KEY = json<{ apiKey: { key: string } }>(created).apiKey.key
  tenantId = json<{ tenant: { id: string } }>(created).tenant.id
}, 120_000)
afterAll(async () => { await api?.close() })

describe('deputy against a running API', () => {
  it('creates a wallet and grants a session, with progress on stderr', async () => {
    const wallet = await deputy(['wallet', 'create', '--json'])
    expect(wallet.code, wallet.stderr).toBe(0)
    const created = json<{ id: string; address: string }>(wallet)
    walletId = created.id
    for (const [asset, amount] of Object.entries({ USD: '1000000', ETH: '100' })) api.h.sandbox.fund(created.address, asset, amount)

    const granted = await deputy(['session', 'grant', walletId, '--lifetime', '1d', '--families', 'Order,ModifyOrder,CancelOrder,CancelAll', '--json'])
    expect(granted.code, granted.stderr).toBe(0)
    expect(granted.stderr).toMatch(/asking the wallet to sign the Delegation/)
    expect(json<{ session: { status: string; walletId: string } }>(granted).session).toMatchObject({ status: 'active', walletId })

    const listed = await deputy(['session', 'list', walletId])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/SESSION\s+WALLET\s+STATUS\s+SCOPE\s+CHOSEN\s+EXPIRES/)
    // A day ahead, give or take the second the grant took.
    // The families named are the scope chosen, which the worker's rotations keep.
    expect(listed.stdout).toMatch(/active\s+Order,ModifyOrder,CancelOrder,CancelAll\s+Order,ModifyOrder,CancelOrder,CancelAll\s+in (1d 0h|23h 59m)/)

    // The grant is on the wallet's audit trail: a line per entry (details cut short), whole under --json.
    const trail = await deputy(['wallet', 'audit', walletId, '--action', 'session.activated'])
    expect(trail.code, trail.stderr).toBe(0)
    expect(trail.stdout).toMatch(/ID\s+AT\s+ACTOR\s+ACTION\s+DETAILS/)
    expect(trail.stdout).toMatch(/worker\s+session\.activated\s+\{"scope":\["Order","ModifyOrder","CancelOrder","CancelAll"\].*…$/m)
    const page = json<{ entries: { action: string; details: { sessionId: string } }[]; nextBefore: string | null }>(await deputy(['wallet', 'audit', walletId, '--limit', '1', '--json']))
    expect(page.entries.map((e) => [e.action, e.details.sessionId])).toEqual([['session.activated', json<{ session: { id: string } }>(granted).session.id]])
  }, forCalls(5))

  it('places, modifies and cancels an order, waiting for the operator each time', async () => {
    const placed = await deputy(['order', 'place', walletId, '--market', 'ETH-USD', '--side', 'buy', '--price', '1990', '--size', '0.5', '--wait', '--json'])
    expect(placed.code, placed.stderr).toBe(0)
    const order = json<{ id: string; state: string }>(placed)
    expect(order.state).toBe('open')
    expect(placed.stderr).toMatch(/queued; waiting for the operator/)
    expect(placed.stderr).toMatch(/: open/)

    const modified = await deputy(['order', 'modify', order.id, '--price', '1991.50', '--size', '0.6', '--wait'])
    expect(modified.code, modified.stderr).toBe(0)
    expect(modified.stdout).toMatch(new RegExp(`order ${order.id}  buy 0.6 ETH-USD @ 1991.5 GTC  open`))
    // 1000 ETH at 1991.5 is more than the wallet's 1,000,000 USD: refused, and --wait says so (exit 1).
    const refused = await deputy(['order', 'modify', order.id, '--price', '1991.50', '--size', '1000', '--wait'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(new RegExp(`the modification of order ${order.id} was not applied: InsufficientBalance: USD available`))
    const queued = await deputy(['order', 'modify', order.id, '--price', '1991.50', '--size', '1000', '--json'])
    const { outboxId } = json<{ outboxId: string }>(queued)
    // Waited for here, not by running `order work` again and again: each run is a process.
    await eventually(async () => (await api.h.db.select({ status: outbox.status }).from(outbox).where(eq(outbox.id, outboxId)))[0]?.status === 'failed', 30_000)
    const work = json<{ status: string }>(await deputy(['order', 'work', outboxId, '--json']))
    expect(work).toMatchObject({ kind: 'ModifyOrder', status: 'failed', accepted: false, requests: [{ family: 'ModifyOrder', status: 'rejected', errorCode: 'InsufficientBalance', sentAt: expect.any(String) }] })
    const shown = await deputy(['order', 'work', outboxId])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(new RegExp(`ModifyOrder ${outboxId}  failed  \\(InsufficientBalance: USD available`))
    expect(shown.stdout).toMatch(/REQUEST\s+STATUS\s+ERROR\s+SIGNED\s+SENT\s+ANSWERED/)
    expect(shown.stdout).toMatch(/ModifyOrder\s+rejected\s+InsufficientBalance(\s+\d{4}-\d\d-\d\dT\S+){3}/)
    // The order's own view lists its work: the placement and the first modify accepted, this one refused.
    const got = await deputy(['order', 'get', order.id])
    expect(got.stdout).toMatch(/WORK\s+KIND\s+STATUS\s+ACCEPTED\s+NOTE/)
    expect(got.stdout).toMatch(/\s+Order\s+done\s+yes/)
    expect(got.stdout).toMatch(new RegExp(`${outboxId}\\s+ModifyOrder\\s+failed\\s+no\\s+InsufficientBalance: USD available`))

    const listed = await deputy(['order', 'list', '--json'])
    expect(json<{ id: string }[]>(listed).map((o) => o.id)).toEqual([order.id])

    const cancelled = await deputy(['order', 'cancel', order.id, '--wait', '--json'])
    expect(cancelled.code, cancelled.stderr).toBe(0)
    expect(json<{ state: string; cancelReason: string }>(cancelled)).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
  }, forCalls(9))

  it('manages a schedule: add, pause, resume, edit, list, remove', async () => {
    const added = await deputy(['schedule', 'add', walletId, '--targets', 'ETH=0.5,USD=0.5', '--cron', '0 * * * *', '--tz', 'Europe/Paris', '--json'])
    expect(added.code, added.stderr).toBe(0)
    const schedule = json<{ id: string; status: string }>(added)
    expect(schedule.status).toBe('active')
    const paused = await deputy(['schedule', 'pause', schedule.id, '--json'])
    expect(json<{ status: string; cancelledOrderIds: string[] }>(paused)).toMatchObject({ status: 'paused', cancelledOrderIds: [] })
    expect((await deputy(['schedule', 'pause', schedule.id, '--keep-orders'])).stdout).toMatch(/paused .*\ncancelled 0 working order\(s\)/)
    const resumed = await deputy(['schedule', 'resume', schedule.id, '--json'])
    expect(resumed.stdout).toMatch(/"status": "active"/)
    const version = json<{ version: number }>(resumed).version
    // An edit replaces only the fields given, and may insist on the version it read.
    const edited = await deputy(['schedule', 'edit', schedule.id, '--targets', 'ETH=0.6,USD=0.4', '--max-notional', '5000', '--expect-version', String(version), '--json'])
    expect(edited.code, edited.stderr).toBe(0)
    expect(json<{ targets: Record<string, string>; cron: string; maxNotionalPerRun: string | null; version: number }>(edited)).toMatchObject({ targets: { ETH: '0.6', USD: '0.4' }, cron: '0 * * * *', maxNotionalPerRun: '5000', version: version + 1 })
    const stale = await deputy(['schedule', 'edit', schedule.id, '--cron', '5 * * * *', '--expect-version', String(version)])
    expect(stale.code).toBe(2)
    expect(stale.stderr).toMatch(new RegExp(`expectedVersion: .*current version ${version + 1}, got ${version}`))
    const uncapped = await deputy(['schedule', 'edit', schedule.id, '--max-notional', 'none', '--json'])
    expect(json<{ maxNotionalPerRun: string | null }>(uncapped).maxNotionalPerRun).toBeNull()
    const nothing = await deputy(['schedule', 'edit', schedule.id])
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringMatching(/nothing to change/)])
    const listed = await deputy(['schedule', 'list'])
    expect(listed.stdout).toMatch(new RegExp(`${schedule.id.slice(0, 8)}\\s+${walletId.slice(0, 8)}\\s+active\\s+0 \\* \\* \\* \\*\\s+Europe/Paris\\s+ETH=0.6,USD=0.4`))
    const removed = await deputy(['schedule', 'remove', schedule.id, '--json'])
    expect(removed.code).toBe(0)
    expect(json<{ schedule: { status: string } }>(removed).schedule.status).toBe('deleted')
  }, forCalls(10))

  it('halts and resumes a wallet', async () => {
    const resting = await deputy(['order', 'place', walletId, '--market', 'ETH-USD', '--side', 'buy', '--price', '1900', '--size', '0.1', '--wait', '--json'])
    const restingId = json<{ id: string }>(resting).id
    // --wait: the kill switch says when the operator accepted its CancelAll.
    const halted = await deputy(['halt', walletId, '--reason', 'drill', '--wait'])
    expect(halted.code, halted.stderr).toBe(0)
    expect(halted.stdout).toMatch(/halted \(drill\); CancelAll accepted by the operator, 0 unsent order\(s\) dropped/)
    expect(json<{ state: string; cancelReason: string }>(await deputy(['order', 'get', restingId, '--json']))).toMatchObject({ state: 'cancelled', cancelReason: 'cancelAll' })
    const refused = await deputy(['order', 'place', walletId, '--market', 'ETH-USD', '--side', 'buy', '--price', '1990', '--size', '0.5'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/walletId: the wallet is halted \(drill\)/)
    const resumed = await deputy(['resume', walletId])
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toMatch(/active/)
    // An empty --market (an unset shell variable) is sent, and refused: it does not cancel every market.
    const blank = await deputy(['order', 'cancel-all', walletId, '--market', ''])
    expect([blank.code, blank.stderr]).toEqual([2, expect.stringMatching(/market: must not be empty: omit market to cancel in every market/)])
    const all = await deputy(['order', 'cancel-all', walletId, '--wait'])
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toMatch(/CancelAll accepted by the operator/)
  }, forCalls(7))

  it('prints a readable status, or JSON', async () => {
    await deputy(['order', 'place', walletId, '--market', 'ETH-USD', '--side', 'sell', '--price', '2500', '--size', '0.1', '--wait'])
    const status = await deputy(['status'])
    expect(status.code, status.stderr).toBe(0)
    for (const title of ['WALLETS', 'SESSIONS', 'WORKING ORDERS', 'SCHEDULES', 'WORK', 'QUEUES']) expect(status.stdout).toContain(title)
    expect(status.stdout).toMatch(/ETH-USD\s+sell\s+2500\s+0.1\s+0\s+open/)
    expect(status.stdout).toMatch(/QUEUED\s+HELD\s+FAILED\n\s*\d+\s+\d+\s+\d+/)
    expect(status.stdout).toMatch(/submit\s+no/)
    const asJson = json<{ queues: Record<string, unknown>; work: Record<string, number>; workingOrders: unknown[] }>(await deputy(['status', '--json']))
    expect(asJson.queues).toEqual({ submit: { paused: false }, control: { paused: false } })
    expect(Object.keys(asJson.work).sort()).toEqual(['failed', 'held', 'queued'])
    expect(asJson.workingOrders).toHaveLength(1)
  })
})

describe('deputy wallet create with a custody wallet id', () => {
  it("sends the wallet's ownership signature; without it the API's refusal names the field (exit 2)", async () => {
    const account = privateKeyToAccount(generatePrivateKey())
    const deadline = Math.floor(Date.now() / 1000) + 600
    const signature = await account.signTypedData(walletRegistrationTypedData({ tenant: tenantId, custodyWalletId: 'privy-wallet-1', deadline: BigInt(deadline) }))
    const base = ['wallet', 'create', '--address', account.address, '--custody-wallet-id', 'privy-wallet-1']
    const bare = await deputy(base)
    expect([bare.code, bare.stderr]).toEqual([2, expect.stringMatching(/ownership: is required with custodyWalletId/)])
    const run = await deputy([...base, '--ownership-deadline', String(deadline), '--ownership-signature', signature, '--json'])
    expect(run.code, run.stderr).toBe(0)
    expect(json<{ address: string }>(run).address).toBe(account.address)
  })
})

describe('deputy compromise', () => {
  it('halts a wallet and revokes its sessions at the operator, saying how many', async () => {
    const created = json<{ id: string }>(await deputy(['wallet', 'create', '--json']))
    const granted = await deputy(['session', 'grant', created.id, '--lifetime', '1d', '--families', 'Order,CancelAll', '--json'])
    expect(granted.code, granted.stderr).toBe(0)
    const run = await deputy(['compromise', created.id, '--reason', 'laptop stolen'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toBe(`wallet ${created.id} halted (compromise: laptop stolen); 1 session(s) revoked at the operator\n`)
    const sessions = json<{ status: string }[]>(await deputy(['session', 'list', created.id, '--json']))
    expect(sessions.map((s) => s.status)).toEqual(['revoked'])
    const missing = await deputy(['compromise', created.id])
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/required option '--reason <text>'/)])
  }, forCalls(5))
})

describe('deputy status with a stored text of several lines', () => {
  // A halt reason is the tenant's text (or any app's holding its key): a line feed in it must not
  // print a line of its own, which could pass for another wallet's row.
  it("keeps each wallet on one line of the table, the reason's line feed shown as \\n", async () => {
    const created = json<{ id: string; address: string }>(await deputy(['wallet', 'create', '--json']))
    const forged = `  ${randomUUID()}  0x${'0'.repeat(40)}  active  yes`
    const halted = await deputy(['halt', created.id, '--reason', `drill\n${forged}`, '--json'])
    expect(halted.code, halted.stderr).toBe(0)
    const status = await deputy(['status'])
    expect(status.code, status.stderr).toBe(0)
    const lines = status.stdout.split('\n')
    const row = lines.find((line) => line.includes(created.id))!
    expect(row).toContain(`halted (drill\\n${forged})`)
    expect(lines.filter((line) => line.includes(forged.trim()))).toEqual([row])
    // The table's columns stay aligned: the SIGNER column starts where its header does.
    const header = lines.find((line) => line.includes('SIGNER'))!
    expect(row.slice(header.indexOf('SIGNER'))).toMatch(/^(yes|no)$/)
  })
})

describe('exit codes', () => {
  it('2 for input the API refuses, naming the field and rule', async () => {
    const run = await deputy(['order', 'place', walletId, '--market', 'ETH-USD', '--side', 'buy', '--price', '1990.001', '--size', '0.5'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/price: must be a multiple of the market's tickSize|price: .*tickSize/)
  })

  it('2 for usage errors, before anything is sent', async () => {
    const missing = await deputy(['order', 'place', walletId, '--side', 'buy'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/required option '--market <market>'/)
    const badTargets = await deputy(['schedule', 'add', walletId, '--targets', 'ETH:0.5', '--cron', '0 * * * *'])
    expect(badTargets.code).toBe(2)
    const twice = await deputy(['schedule', 'add', walletId, '--targets', 'ETH=0.6,ETH=0.5,USD=0.5', '--cron', '0 * * * *'])
    expect(twice.code).toBe(2)
    expect(twice.stderr).toMatch(/asset ETH is named twice/)
    const noKey = await deputy(['status'], { DEPUTY_API_KEY: '' })
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/DEPUTY_API_KEY/)
    // A command group without its subcommand shows the help, as a usage error.
    const noSubcommand = await deputy(['order'])
    expect(noSubcommand.code).toBe(2)
    expect(noSubcommand.stderr).toMatch(/Usage: deputy order/)
    expect((await deputy(['order', '--help'])).code).toBe(0)
    // An API address without a scheme is named, not retried as an unreachable API.
    const schemeless = await deputy(['status'], { DEPUTY_API_URL: 'localhost:8080' })
    expect(schemeless.code).toBe(2)
    expect(schemeless.stderr).toMatch(/DEPUTY_API_URL: must be an http\(s\) URL with a host/)
  }, forCalls(7))

  it('1 for an operation the API refuses, with the error as JSON under --json', async () => {
    const run = await deputy(['order', 'get', randomUUID(), '--json'])
    expect(run.code).toBe(1)
    expect(json<{ error: { code: string; field: string } }>(run).error).toMatchObject({ code: 'API.NOT_FOUND', field: 'orderId' })
    const badKey = await deputy(['status'], { DEPUTY_API_KEY: 'dpk_wrong' })
    expect(badKey.code).toBe(1)
  })

  it('0 for a key or token read with the line break its file ends with (a secret mounted from a file, a copied line)', async () => {
    // fetch drops a header value's surrounding whitespace, so such a key always worked; it must still.
    for (const end of ['\n', '\r\n', ' ']) {
      const listed = await deputy(['wallet', 'list', '--json'], { DEPUTY_API_KEY: `${env.DEPUTY_API_KEY}${end}` })
      expect(listed.code, `${JSON.stringify(end)}: ${listed.stderr}`).toBe(0)
      const admin = await deputy(['tenant', 'list', '--json'], { DEPUTY_ADMIN_TOKEN: `${env.DEPUTY_ADMIN_TOKEN}${end}` })
      expect(admin.code, `${JSON.stringify(end)}: ${admin.stderr}`).toBe(0)
    }
    // A line break inside the key is still refused, naming the setting.
    const inside = await deputy(['wallet', 'list'], { DEPUTY_API_KEY: `${env.DEPUTY_API_KEY!.slice(0, 8)}\n${env.DEPUTY_API_KEY!.slice(8)}` })
    expect(inside.code).toBe(2)
    expect(inside.stderr).toMatch(/DEPUTY_API_KEY: must be printable ASCII/)
  })

  it('3 when the API cannot be reached', async () => {
    const run = await deputy(['status'], { DEPUTY_API_URL: `http://127.0.0.1:${await freePort()}` })
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(/cannot reach the API/)
  })
})
