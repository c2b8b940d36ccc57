import { and, eq } from 'drizzle-orm'
import { createLogger } from '../logger.js'
import { apiDepsFromWorker } from '../api/ApiDeps.js'
import { buildApi } from '../api/buildApi.js'
import type { Keyring } from '../keys/Keyring.js'
import type { WalletSigner } from '../signers/WalletSigner.js'
import { createWalletSignerRegistry } from '../runtime/walletSignerRegistry.js'
import { generatePrivateKey } from 'viem/accounts'
import { familiesFor } from '../core/acl/familiesFor.js'
import { createKeyring } from '../keys/Keyring.js'
import { generateMasterKey } from '../keys/generateMasterKey.js'
import { placeLimitOrder } from '../runtime/intake/placeLimitOrder.js'
import { haltWallet, resumeWallet } from '../runtime/intake/killSwitch.js'
import { requestModify } from '../runtime/intake/requestOrderChange.js'
import { createSchedule } from '../runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../runtime/schedules/deleteSchedule.js'
import { grantSession } from '../runtime/sessions/grantSession.js'
import { ensureWallet } from '../runtime/wallets.js'
import { deleteQueueKeys } from '../queue/deleteQueueKeys.js'
import { type Sandbox, startSandbox } from '../sandbox/startSandbox.js'
import { LocalWalletSigner } from '../signers/LocalWalletSigner.js'
import { migrate } from '../store/migrate.js'
import { openDatabase } from '../store/openDatabase.js'
import { fills, orders, outbox, scheduleRuns, wallets } from '../store/schema/index.js'
import { type RunningWorker, startWorker } from '../worker.js'
import { errorMessage } from '../core/errors/errorMessage.js'
import { ensureRedis, shownRedisUrl } from './ensureRedis.js'
import { type StepResult, short, step, table } from './report.js'

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await wait(50)
  }
}

/**
 * `npm run demo`: the sandbox operator, the worker and the API in one process
 * on embedded PGlite, walking through Deputy's main job. Exits 0 only if every
 * step did what it said.
 */
export async function runDemo(): Promise<number> {
  const results: StepResult[] = []
  const cleanups: (() => Promise<unknown>)[] = []
  const log = createLogger(process.env.LOG_LEVEL ?? 'silent', 'deputy-demo')
  console.log('Deputy demo: sandbox operator + worker + API in one process, embedded PGlite\n')
  try {
    const redis = await ensureRedis()
    cleanups.push(() => redis.stop())
    console.log(`• Redis: ${redis.started ? `started a throwaway redis-server at ${redis.url}` : `using REDIS_URL ${shownRedisUrl(redis.url)}`}`)
    const sandbox: Sandbox = await startSandbox({ port: 0, quiet: !process.env.LOG_LEVEL, logLevel: process.env.LOG_LEVEL })
    cleanups.push(() => sandbox.close())
    console.log(`• sandbox operator: ${sandbox.url}`)
    const database = await openDatabase({ dataDir: 'memory://' })
    cleanups.push(() => database.close())
    await migrate(database)
    const db = database.db
    const keyring = createKeyring(process.env.DEPUTY_MASTER_KEY ?? generateMasterKey('demo'))
    // DEMO_WALLET_KEY pins the development wallet (the log-scan test needs to know its key).
    const signer = LocalWalletSigner.fromPrivateKey((process.env.DEMO_WALLET_KEY as `0x${string}` | undefined) ?? generatePrivateKey())
    const queuePrefix = `deputy-demo-${Date.now()}`
    // Cleanups run in order: API, worker, then this run's queue keys (REDIS_URL may be shared).
    cleanups.unshift(() => deleteQueueKeys(redis.url, queuePrefix))
    const worker: RunningWorker = await startWorker({
      db, database, redisUrl: redis.url, queuePrefix, operatorUrl: sandbox.url, keyring, log,
      relayIntervalMs: 20, reconcileIntervalMs: 60_000, walletSignerFor: (wallet) => (wallet.address === signer.address ? signer : undefined),
    })
    cleanups.unshift(() => worker.close(5_000))
    const api = await startApi(worker, keyring, signer)
    cleanups.unshift(api.close)
    const ready = await fetch(`${api.url}/readyz`)
    if (!ready.ok) throw new Error(`the API is not ready: /readyz answered ${ready.status}`)
    console.log(`• API: ${api.url} (ready; OpenAPI at ${api.url}/openapi.json, docs at ${api.url}/docs)`)
    console.log('')

    let walletId = ''
    const balancesBefore: Record<string, string> = {}
    const readBalances = async () => {
      const session = await worker.deps.sessions.active(walletId)
      if (!session) throw new Error('no active session')
      return Object.fromEntries((await worker.deps.venue.balances(worker.deps.sessions.readAuth(session))).map((b) => [b.asset, b.total]))
    }
    const order = async (id: string) => (await db.select().from(orders).where(eq(orders.id, id)))[0]!

    await step(results, 'create a development wallet and fund it at the sandbox', async () => {
      walletId = (await ensureWallet(db, signer.address)).id
      sandbox.fund(signer.address, 'USD', '100000')
      sandbox.fund(signer.address, 'ETH', '5')
      return signer.address
    })
    await step(results, 'grant a narrowly scoped session (wallet signs one Delegation)', async () => {
      // Limit orders with modification, one rebalancing schedule, and the kill switch: no more.
      const families = familiesFor({ limitOrders: true, modifications: true, schedules: true, killSwitch: true })
      const { session } = await grantSession({ db, keyring, domain: worker.deps.domain, walletSigner: signer, walletId, families, lifetimeSeconds: 24 * 3600, nowMs: worker.deps.operatorNow(), clock: worker.deps.now })
      if (session.aclScope.includes('Unrestricted')) throw new Error('an Unrestricted scope was granted without being asked for')
      Object.assign(balancesBefore, await readBalances())
      return `scope ${session.aclScope.join(', ')}, expires ${session.expiry.toISOString()}`
    })
    let orderId = ''
    await step(results, 'place a limit buy of 1 ETH at 1990 (rests below the 2000 mark)', async () => {
      orderId = (await placeLimitOrder(db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1990', size: '1' }, new Date())).order.id
      await worker.relay()
      const open = await until('the order to rest', async () => { const o = await order(orderId); return o.state === 'open' && o })
      return `cloid ${open.clientOrderId}`
    })
    await step(results, 'modify it to 1.5 ETH at 1995', async () => {
      await requestModify(db, worker.markets, { orderId, price: '1995', size: '1.5' })
      await worker.relay()
      const modified = await until('the modification', async () => { const o = await order(orderId); return o.venueRevision === 1 && o })
      return `revision ${modified.venueRevision}, ${short(modified.size)} @ ${short(modified.price)}`
    })
    await step(results, 'move the sandbox mark to 1994 so the order fills', async () => {
      sandbox.setMark('ETH-USD', '1994')
      const filled = await until('the fill', async () => { const o = await order(orderId); return o.state === 'filled' && o })
      sandbox.setMark('ETH-USD', '2000')
      return `filled ${short(filled.filled)} at average ${short(filled.averagePrice)}`
    })
    let runSummary = ''
    await step(results, 'run one rebalance to 50% ETH / 20% BTC / 30% USD', async () => {
      // Every 2 s so the demo sees a run at once; written directly, since the API refuses runs
      // closer than SCHEDULE_MIN_INTERVAL_SECONDS (a minute by default).
      const schedule = await createSchedule({ db, queue: worker.controlQueue, markets: worker.markets }, {
        walletId, targets: { ETH: '0.5', BTC: '0.2', USD: '0.3' }, cron: '*/2 * * * * *', timeZone: 'UTC',
        toleranceBand: '0.01', minTradeNotional: '10', limitOffsetBps: 50,
      })
      const run = await until('a completed rebalance run', async () => {
        const [r] = await db.select().from(scheduleRuns).where(and(eq(scheduleRuns.scheduleId, schedule.id), eq(scheduleRuns.status, 'completed')))
        return r
      }, 40_000)
      // One run is enough: the schedule stops, and this run's legs are left to fill (deleting with the
      // default would cancel those not yet sent).
      await deleteSchedule({ db, queue: worker.controlQueue }, schedule.id, { cancelOpenOrders: false })
      const after = await until('the rebalance legs to fill', async () => {
        const legs = await Promise.all(run.legs.map((leg) => order(leg.orderId)))
        return legs.every((o) => o.state === 'filled') && legs
      })
      runSummary = table(['asset', 'before', 'target', 'after (projected)'], (run.before ?? []).map((b) => {
        const a = run.after?.find((x) => x.asset === b.asset)
        return [b.asset, pct(b.weight), pct(b.target), pct(a?.weight)]
      }))
      return `${after.length} legs filled (${run.reason})`
    })
    await step(results, 'trip the kill switch: CancelAll, new orders refused', async () => {
      const resting = (await placeLimitOrder(db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }, new Date())).order.id
      await worker.relay()
      await until('the resting order', async () => (await order(resting)).state === 'open')
      const { outboxId } = await haltWallet(db, { walletId, reason: 'demo kill switch' })
      await worker.relay()
      const cancelled = await until('CancelAll', async () => { const o = await order(resting); return o.state === 'cancelled' && o })
      // The wallet resumes (next step) once its CancelAll is done, not only its effect seen.
      await until('the CancelAll recorded', async () => (await db.select({ status: outbox.status }).from(outbox).where(eq(outbox.id, outboxId)))[0]?.status === 'done')
      const refused = await placeLimitOrder(db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }, new Date()).then(() => false, () => true)
      if (!refused) throw new Error('a halted wallet accepted a new order')
      return `resting order cancelled (${cancelled.cancelReason}), new orders refused`
    })
    await step(results, 'reset the kill switch', async () => {
      const { status } = await resumeWallet(db, { walletId })
      const [wallet] = await db.select().from(wallets).where(eq(wallets.id, walletId))
      if (wallet?.status !== 'active') throw new Error(`wallet is ${wallet?.status}`)
      return `wallet ${status}`
    })

    const balancesAfter = await readBalances().catch(() => ({} as Record<string, string>))
    const allOrders = await db.select().from(orders).where(eq(orders.walletId, walletId))
    const allFills = await db.select().from(fills).where(eq(fills.walletId, walletId))
    console.log('\nOrders')
    console.log(table(['market', 'side', 'size', 'price', 'state', 'filled', 'avg price'], allOrders.map((o) => [o.market, o.side === 0 ? 'buy' : 'sell', short(o.size), short(o.price), o.state, short(o.filled), short(o.averagePrice)])))
    console.log(`\nFills: ${allFills.length}`)
    console.log(table(['market', 'side', 'size', 'price', 'fee'], allFills.map((f) => [f.market, f.side === 0 ? 'buy' : 'sell', short(f.size), short(f.price), short(f.fee)])))
    if (runSummary) console.log(`\nRebalance weights\n${runSummary}`)
    console.log('\nBalances at the sandbox')
    console.log(table(['asset', 'before', 'after'], ['USD', 'ETH', 'BTC'].map((asset) => [asset, short(balancesBefore[asset] ?? '0', 4), short(balancesAfter[asset] ?? '0', 4)])))
  } catch (error) {
    results.push({ name: 'start-up', ok: false, detail: errorMessage(error) })
    console.error(`\nDemo could not run: ${errorMessage(error)}`)
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
  }
  const failed = results.filter((r) => !r.ok)
  console.log(failed.length ? `\n${failed.length} step(s) failed: ${failed.map((f) => f.name).join('; ')}` : `\nAll ${results.length} steps did what they said.`)
  return failed.length ? 1 : 0
}

function pct(weight: string | undefined): string {
  return weight === undefined ? '-' : `${(Number(weight) * 100).toFixed(1)}%`
}

/** Starts the intake API on a free port, sharing the worker's database, queues and session keys. */
async function startApi(worker: RunningWorker, keyring: Keyring, signer: WalletSigner): Promise<{ url: string; close: () => Promise<void> }> {
  const walletSigners = createWalletSignerRegistry()
  walletSigners.add(signer)
  const app = await buildApi(apiDepsFromWorker(worker, { keyring, walletSigners }), { logger: false })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url, close: () => app.close() }
}
