import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { events } from '../../src/store/schema/index.js'
import { type ApiHarness, createApiHarness, eventually } from '../api/support/apiHarness.js'
import { fromWallet, revokeBehindTheWorkersBack, rows } from '../lifecycle/support/lifecycle.js'

/*
 * `deputy order modify --wait` whose work a session's end moved to the order that replaced the one
 * asked about (followReplacement): the CLI tells of the order the work ended on. The worker talks
 * to the sandbox through a gate, which keeps the modify on the wire while the session is revoked
 * behind its back; the operator cancels the order, and the worker places it again. (A user's
 * cancel never moves: asking it marks the intent cancel_requested, so the order is not placed again.)
 */

const root = fileURLToPath(new URL('../..', import.meta.url))
let api: ApiHarness
let env: Record<string, string>
let r: ReturnType<typeof rows>

type Run = { code: number; stdout: string; stderr: string }

function deputy(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/deputy.js', ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}
const json = <T>(run: Run): T => JSON.parse(run.stdout) as T

beforeAll(async () => {
  api = await createApiHarness({ listen: true, gate: true })
  r = rows(api.h.db)
  env = { DEPUTY_API_URL: api.url!, DEPUTY_ADMIN_TOKEN: api.adminToken, DEPUTY_API_KEY: '' }
  const created = await deputy(['tenant', 'create', 'cli-replaced', '--json'])
  expect(created.code, created.stderr).toBe(0)
  env.DEPUTY_API_KEY = json<{ apiKey: { key: string } }>(created).apiKey.key
}, 120_000)
afterAll(async () => { await api?.close() })

/** A funded wallet with a session, and a buy resting at 1990 (the mark is 2000). */
async function restingOrder() {
  const wallet = json<{ id: string; address: string }>(await deputy(['wallet', 'create', '--json']))
  for (const [asset, amount] of Object.entries({ USD: '1000000', ETH: '100' })) api.h.sandbox.fund(wallet.address, asset, amount)
  const granted = await deputy(['session', 'grant', wallet.id, '--lifetime', '1d', '--families', 'Order,ModifyOrder,CancelOrder,CancelAll'])
  expect(granted.code, granted.stderr).toBe(0)
  const placed = await deputy(['order', 'place', wallet.id, '--market', 'ETH-USD', '--side', 'buy', '--price', '1990', '--size', '0.5', '--wait', '--json'])
  expect(placed.code, placed.stderr).toBe(0)
  return { wallet, order: json<{ id: string; state: string }>(placed) }
}

/**
 * Revokes the session at the operator (the order is cancelled there), waits for the replacement, and
 * grants a new session. Only once the wallet's event stream is live (it stored the placement's event):
 * a stream not yet opened for the new wallet (as under load) opens with the revoked session, is
 * refused, and nothing reads the cancel until a session is granted (the wallet has no signer here).
 */
async function revokeAndGrant(walletId: string, orderId: string): Promise<string> {
  await eventually(async () => (await api.h.db.select({ seq: events.seq }).from(events).where(eq(events.walletId, walletId)).limit(1))[0], 30_000)
  expect(await revokeBehindTheWorkersBack(api.worker.deps, walletId)).toBe(200)
  const replacedBy = await eventually(async () => (await r.order(orderId)).replacedBy)
  const granted = await deputy(['session', 'grant', walletId, '--lifetime', '1d', '--families', 'Order,ModifyOrder,CancelOrder,CancelAll'])
  expect(granted.code, granted.stderr).toBe(0)
  return replacedBy
}

it('modify --wait moved to the replacement prints the replacement at the new values, and says it replaced the order asked about', async () => {
  const { wallet, order } = await restingOrder()
  const wire = api.gate!.hold((q) => q.family === 'ModifyOrder' && fromWallet(wallet.address)(q))
  const modifying = deputy(['order', 'modify', order.id, '--price', '1980', '--size', '0.4', '--wait', '--timeout', '60'])
  await wire.arrived
  const replacedBy = await revokeAndGrant(wallet.id, order.id)
  wire.release()

  const modified = await modifying
  expect(modified.code, modified.stderr).toBe(0)
  expect(modified.stdout).toMatch(new RegExp(`^order ${replacedBy}  buy 0.4 ETH-USD @ 1980 GTC  open\n`))
  expect(modified.stdout).toContain(`order ${order.id} was cancelled when its session ended; order ${replacedBy} replaced it`)
  const asJson = await deputy(['order', 'get', replacedBy, '--json'])
  expect(json<{ price: string; size: string }>(asJson)).toMatchObject({ price: '1980', size: '0.4' })
}, 120_000)
