/**
 * Reliability drill (`npm run drill`): 2,000 orders through the worker against
 * the sandbox with faults on (10% 503, 5% accept-then-drop-response, SSE streams
 * cut every 2 s, duplicated events) while the worker process is SIGKILLed at
 * random moments (at least 10 times) and restarted, and each wallet's session is rotated at random
 * moments (3 times by default, as the API's rotate route does), the old session revoked at the
 * operator soon after (by the drill, as the API's revoke route does) or after the grace (by the
 * worker's session maintenance), so its open orders are cancelled and placed again. With --workers N, N worker
 * processes share the queues and the kills pick one of them at random, so claims,
 * stream leases and the relay are contended while processes die. A few wallets (4 halts by default) are halted at random
 * moments as the API's halt route does (the kill switch: intake refuses their orders, unsent placements are dropped, a
 * CancelAll is queued), kept halted 2–5 s while the workers go on being killed, and resumed as the API's resume route
 * does, asked again while it is refused because the halt has not reached the operator yet. With --pg-drops S, Postgres
 * also ends every worker connection every S seconds (as a restart or failover would). With --stops N, N of the
 * interruptions are graceful instead (SIGTERM, as a deploy or a scale-down stops a worker while it works): each must
 * exit 0 within the worker's own deadline (its 20 s job budget and 10 s to close), its jobs finished or left to be
 * re-run, and is then restarted like a killed one; the SIGKILL minimum still counts SIGKILLs only. Then faults off, wait for
 * the work to settle, and compare Postgres with the operator:
 *   duplicate orders at the operator, intents lost, orders whose state differs; and beside them
 *   cancels without effect, prices/sizes not as asked, fills differing, failed outbox rows; and of the
 *   halts: orders surviving one (live at the operator when its CancelAll was accepted and not ended by
 *   it, or placed before it and still live after the resume), orders placed while halted (accepted by
 *   the operator between a halt and its resume, signed after the halt), halts not resumed.
 * Exits non-zero unless every count is zero, no worker process crashed (exited without being killed),
 * no submit job failed for good, and every worker exits 0 on the final SIGTERM (sent once settled).
 *
 * The sandbox runs in this process (its state is the operator's truth for the
 * checks); the worker runs as a child process (`node --import tsx src/main/worker.ts`);
 * Postgres is a fresh database and BullMQ a unique prefix, both removed at the end.
 *
 * Options: --orders 2000 --kills 10 --wallets 8 --rate 60 (intake orders/s) --workers 1 --pg-drops 0 (s) --rotations 3 (per wallet; 0: none) --halts 4 (0: none) --stops 0
 *          --protocol-events (the sandbox's events carry only PROTOCOL.md §7's fields: protocolEventData)
 *          --seed N --settle-timeout 240 (s) --keep (keep the database and logs; a failed run keeps them anyway,
 *          and prints what the operator and Postgres each recorded of the first differing orders)
 */
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { Queue } from 'bullmq'
import { sql } from 'drizzle-orm'
import { WORKER_NODE_OPTIONS } from '../src/main/workerNodeOptions.js'
import { createRedis } from '../src/queue/connection.js'
import { queueNames } from '../src/queue/names.js'
import { startSandbox } from '../src/sandbox/startSandbox.js'
import { checkOutcome, problemRows } from './drill/checkOutcome.js'
import { REDIS_URL, createEnvironment } from './drill/environment.js'
import { backlog, waitForQuiescence } from './drill/settle.js'
import { NodeChild, sleep } from './drill/workerProcess.js'
import { runSessionRotations } from './drill/sessionRotations.js'
import { runKillSwitches } from './drill/killSwitches.js'
import { runWorkload } from './drill/workload.js'

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '2000' },
    kills: { type: 'string', default: '10' },
    wallets: { type: 'string', default: '8' },
    rate: { type: 'string', default: '60' },
    workers: { type: 'string', default: '1' },
    'pg-drops': { type: 'string', default: '0' },
    rotations: { type: 'string', default: '3' },
    halts: { type: 'string', default: '4' },
    stops: { type: 'string', default: '0' },
    seed: { type: 'string' },
    'settle-timeout': { type: 'string', default: '240' },
    keep: { type: 'boolean', default: false },
    'protocol-events': { type: 'boolean', default: false },
  },
})
const orders = Number(args.orders)
const minKills = Number(args.kills)
const workerCount = Number(args.workers)
if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > 8) throw new Error(`--workers must be an integer from 1 to 8 (got ${args.workers})`)
const pgDropSeconds = Number(args['pg-drops'])
if (!Number.isFinite(pgDropSeconds) || pgDropSeconds < 0) throw new Error(`--pg-drops must be a number of seconds, 0 or more (got ${args['pg-drops']})`)
/** Every worker connection carries this application_name (the URL's parameter wins over the pool's), so drops can single them out. */
const WORKER_APP = 'deputy-drill-worker'
const rotationsPerWallet = Number(args.rotations)
if (!Number.isInteger(rotationsPerWallet) || rotationsPerWallet < 0) throw new Error(`--rotations must be a whole number, 0 or more (got ${args.rotations})`)
const haltCount = Number(args.halts)
if (!Number.isInteger(haltCount) || haltCount < 0) throw new Error(`--halts must be a whole number, 0 or more (got ${args.halts})`)
const gracefulStops = Number(args.stops)
if (!Number.isInteger(gracefulStops) || gracefulStops < 0) throw new Error(`--stops must be a whole number, 0 or more (got ${args.stops})`)
/** A graceful stop mid-run is given the worker's own deadline (SHUTDOWN_TIMEOUT_MS 20 s, then 10 s to close) before SIGKILL. */
const STOP_GRACE_MS = 30_000
const settleTimeoutMs = Number(args['settle-timeout']) * 1000
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed)
const random = mulberry32(seed)
const uniform = (from: number, to: number) => from + random() * (to - from)
// The rotations draw from their own sequence, so the workload and the kills replay as without them.
const rotationRandom = mulberry32(seed ^ 0x5e55)
// So do the graceful stops: with --stops 0 nothing is drawn from it and a seed replays as before.
const stopRandom = mulberry32(seed ^ 0x570b)
const haltRandom = mulberry32(seed ^ 0x4a17)
// --protocol-events: the operator's events carry only the fields PROTOCOL.md §7 names, for the whole run.
const faults = { errorRate: 0.1, dropAfterAccept: 0.05, streamDropEveryMs: 2_000, duplicateEvents: 0.1, protocolEventData: args['protocol-events'] }
const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`
const say = (text: string) => console.log(`[${elapsed().padStart(6)}] ${text}`)

// A small maker size (sizes are 0.001–0.1), so crossing orders and modifies fill partly and resting ones fill over several marks.
const sandbox = await startSandbox({ port: 0, quiet: true, rateLimit: { perSecond: 2_000, burst: 4_000 }, makerSize: '0.02' })
const env = await createEnvironment({
  name: 'drill',
  operator: { url: sandbox.url, domain: sandbox.domain, fund: async (wallet, asset, amount) => sandbox.fund(wallet, asset, amount) },
  wallets: Number(args.wallets),
  funds: { USD: '100000000', ETH: '100000', BTC: '1000' },
})
say(`seed ${seed}; sandbox ${sandbox.url}; queue prefix ${env.queuePrefix}; logs ${env.dir}; ${workerCount} worker process${workerCount > 1 ? 'es' : ''}`)

let lives = 0
/** Worker processes the drill itself ends (SIGKILL, or the final stop); any other exit is a crash. */
const endedByDrill = new WeakSet<NodeChild>()
let crashes = 0
const startWorker = () => watchForCrash(new NodeChild({
  entry: 'src/main/worker.ts',
  env: env.workerEnv({
    LOG_LEVEL: 'info', RELAY_INTERVAL_MS: '50', SWEEP_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '10000',
    DATABASE_URL: `${env.databaseUrl}${env.databaseUrl.includes('?') ? '&' : '?'}application_name=${WORKER_APP}`,
  }),
  logFile: `${env.dir}/worker-${++lives}.log`,
  readyMarker: '"msg":"worker started"',
  // As production runs it (the Docker image's NODE_OPTIONS).
  nodeArgs: [...WORKER_NODE_OPTIONS],
}))

function watchForCrash(child: NodeChild): NodeChild {
  void child.exited.then(({ code, signal }) => {
    if (endedByDrill.has(child)) return
    crashes++
    say(`a worker exited on its own (code ${code}, signal ${signal}); its log is ${basename(child.logFile)} (--keep keeps it)`)
  })
  return child
}

const workers = Array.from({ length: workerCount }, startWorker)
// Interrupted: take the workers down with the drill (the database and queue keys stay; see the log line above).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { for (const w of workers) endedByDrill.add(w); void Promise.all(workers.map((w) => w.kill())).finally(() => process.exit(130)) })
}
let aborted = false
/** A failed run keeps its database and logs, as --keep would, for diagnosis. */
let passed = false
let killer: Promise<void> = Promise.resolve()
try {
  sandbox.setFaults(faults)
  let mark = 2000
  let workloadDone = false
  const marks = (async () => {
    while (!workloadDone) {
      await sleep(1_500)
      mark = 2000 + Math.round(uniform(-30, 30) * 100) / 100
      sandbox.setMark('ETH-USD', mark.toFixed(2))
    }
  })()
  const operatorStatus = (address: string, cloid: string) => sandbox.state.wallets.get(address.toLowerCase())?.orders.get(cloid.toLowerCase())?.status
  const workload = runWorkload({ db: env.db, markets: env.markets, wallets: env.wallets, orders, ratePerSecond: Number(args.rate), mark: () => mark, random, operatorStatus })
    .finally(() => { workloadDone = true })
  // Over the intake's span: the sessions end while orders are placed, modified and cancelled.
  const rotations = runSessionRotations({
    db: env.db, keyring: env.keyring, operatorUrl: sandbox.url, wallets: env.wallets, perWallet: rotationsPerWallet,
    overMs: (orders * 1000) / Number(args.rate), random: rotationRandom, logFile: `${env.dir}/rotations.log`, stopped: () => aborted,
  })

  // Over the intake's span too: the kill switch while orders are placed, changed, and the workers die.
  const killSwitches = runKillSwitches({
    db: env.db, wallets: env.wallets, count: haltCount, overMs: (orders * 1000) / Number(args.rate), random: haltRandom,
    logFile: `${env.dir}/halts.log`, stopped: () => aborted,
  })

  // Postgres ends the workers' connections now and then: in-flight statements fail, pooled ones die.
  let pgDrops = 0
  const dropper = (async () => {
    while (pgDropSeconds > 0 && !workloadDone) {
      await sleep(pgDropSeconds * 1000)
      if (aborted || workloadDone) return
      // In the select list: in the where clause the planner may call it before the filter.
      const { rows } = await env.db.execute<{ ended: boolean }>(sql`
        select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = current_database() and application_name = ${WORKER_APP}`)
      pgDrops += rows.filter((row) => row.ended).length
    }
  })()

  let kills = 0
  /** Graceful stops made mid-run, those that did not exit 0 within the grace, and the longest one (ms). */
  const midStops = { made: 0, unclean: 0, longestMs: 0 }
  killer = (async () => {
    const until = Date.now() + 30 * 60_000
    while (!(workloadDone && kills >= minKills && midStops.made >= gracefulStops) && Date.now() < until && kills < 200) {
      // One worker at random (a single worker draws nothing, so a seed replays as before).
      const victim = workerCount > 1 ? Math.floor(random() * workerCount) : 0
      // Most kills land while the worker is working; some during its start-up.
      if (random() < 0.15) await sleep(uniform(0, 2_000))
      else {
        await workers[victim]!.ready
        await sleep(uniform(500, 8_000))
      }
      if (aborted) return
      endedByDrill.add(workers[victim]!)
      // A graceful stop in place of about one interruption in three, until --stops are made.
      if (midStops.made < gracefulStops && stopRandom() < 0.35) await stopGracefully(workers[victim]!)
      else {
        await workers[victim]!.kill()
        kills++
      }
      await sleep(uniform(0, 400))
      workers[victim] = startWorker()
    }
  })()
  /**
   * SIGTERM while the worker works; it must exit 0 within the grace (see --stops). Sent once it has started:
   * before node has loaded it, no handler is installed yet and the signal ends it as it would any process
   * (nothing taken yet); a stop during its start-up proper is tested on its own (test/main/stopDuringStartup).
   */
  async function stopGracefully(worker: NodeChild): Promise<void> {
    await worker.ready
    const started = Date.now()
    await worker.stop(STOP_GRACE_MS)
    const { code, signal } = await worker.exited
    const ms = Date.now() - started
    midStops.made++
    midStops.longestMs = Math.max(midStops.longestMs, ms)
    if (code === 0) return
    midStops.unclean++
    say(`a worker did not stop cleanly on SIGTERM (code ${code}, signal ${signal}, after ${ms} ms); its log is ${basename(worker.logFile)}`)
  }
  const report = await workload
  const rotated = await rotations
  const { halts } = await killSwitches
  await Promise.all([killer, marks, dropper])
  say(`intake done: ${report.placed} orders, ${report.modifies} modifies, ${report.cancels} cancels (${report.cancelsOfLive} of orders live at the operator; ${report.changesRefused} changes refused: order already finished); ${halts.length} halts (${report.refusedByHalt.length} placements and ${report.modifiesRefusedByHalt} modifies refused while halted); ${kills} SIGKILLs${gracefulStops > 0 ? `; ${midStops.made} graceful stops (the longest ${(midStops.longestMs / 1000).toFixed(1)} s)` : ''}${pgDropSeconds > 0 ? `; ${pgDrops} worker connections ended by Postgres` : ''}; ${rotated.rotations} session rotations (${rotated.revokedByDrill} old sessions revoked by the drill, the others left to the worker's maintenance${rotated.failed ? `; ${rotated.failed} rotations failed` : ''})`)

  sandbox.setFaults({ errorRate: 0, dropAfterAccept: 0, streamDropEveryMs: 0, duplicateEvents: 0 })
  // The last restart's start-up (its reconciliation among it) is part of settling; and a worker told to stop
  // before its signal handlers are installed (node still loading it) dies of the SIGTERM, which the final
  // stop below would count unclean (seen: a restart 0.3 s before the final stop, with nothing left to settle).
  // Bounded by the settle timeout, as settling is: a worker that never finishes starting fails the run there, not hangs it.
  await Promise.race([Promise.all(workers.map((w) => w.ready)), sleep(settleTimeoutMs)])
  const heads = (address: string) => sandbox.state.wallets.get(address.toLowerCase())?.events.head ?? 0
  const redis = createRedis(REDIS_URL)
  const queue = new Queue(queueNames.submit, { connection: redis, prefix: env.queuePrefix })
  const jobs = async () => Object.entries(await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized')).map(([k, v]) => `${k} ${v}`).join(' ')
  const quiet = await waitForQuiescence(() => backlog(env.db, env.wallets, heads), settleTimeoutMs,
    (b) => void jobs().then((counts) => say(`settling: outbox ${b.outbox}, held ${b.held}, unresolved orders ${b.unresolved}, events behind ${b.eventsBehind}, sessions awaiting revocation ${b.rotating}; jobs: ${counts}`)))
  const failedJobs = await queue.getJobCounts('failed')
  await queue.close()
  redis.disconnect()
  say(quiet.settled ? `settled in ${(quiet.ms / 1000).toFixed(1)}s after the last restart` : `NOT settled after ${(quiet.ms / 1000).toFixed(1)}s: ${JSON.stringify(quiet.backlog)}`)

  // Idle now, the workers stop as production stops them (SIGTERM); one that does not exit 0 within
  // the grace did not shut down cleanly. The checks then read what shutdown left.
  const running = workers.filter((w) => w.running)
  for (const w of running) endedByDrill.add(w)
  const stops = await Promise.all(running.map(async (w) => { await w.stop(10_000); return w.exited }))
  const uncleanStops = stops.filter(({ code }) => code !== 0).length + midStops.unclean

  const outcome = await checkOutcome(env.db, sandbox, env.wallets.map((w) => w.walletId), report.asked, { halts, refusedByHalt: report.refusedByHalt })
  const rows = problemRows(outcome, { crashes, failedSubmitJobs: failedJobs.failed ?? 0, uncleanStops })
  const { exercised } = outcome
  console.log('')
  console.log(`Drill: ${outcome.intents} intents, ${outcome.operatorOrders} orders at the operator, ${outcome.cancelledBeforePlacement} cancelled before placement; ${kills} SIGKILLs${gracefulStops > 0 ? `, ${midStops.made} graceful stops` : ''}; ${elapsed()}`)
  console.log(`  final states: ${Object.entries(outcome.states).map(([state, n]) => `${state} ${n}`).join(', ')}`)
  console.log(`  reached the operator: ${exercised.userCancels} cancels by the user (${exercised.userCancelsOfPartlyFilled} of partly filled orders), ${exercised.modifiesApplied} modifies applied (${exercised.modifiedThenFilled} orders filled after a modify), ${exercised.partiallyFilled} orders partly filled or filled in several fills, ${exercised.iocRemaindersCancelled} IOC remainders cancelled`)
  console.log(`  sessions: ${rotated.rotations} rotations; ${exercised.cancelledBySessionEnd} orders cancelled by a session's end, ${exercised.placedAgain} of them placed again, ${exercised.modifiesMovedToReplacement} modifies moved onto a replacement`)
  const k = outcome.killSwitch
  console.log(`  halts ${k.halts}, orders surviving a halt ${k.survivors}, placed while halted ${k.placedWhileHalted}: ${k.cancelledByCancelAll} orders cancelled by a halt's CancelAll, ${k.landedLate} sent before a halt and landed after it (${k.lateCancels} late cancels), ${k.resumeRefusals} resumes refused before the halt reached the operator`)
  console.log(`  intents accounted for by halts (not lost): ${k.refusedPlacements} placements refused (no intent), ${k.cancelledBeforePlacement} orders cancelled before placement, ${k.cancelledAtOperator} cancelled at the operator by a halt (its CancelAll, or a session's end it kept from being placed again); ${k.modifiesDropped} modifies queued before a halt dropped unsent`)
  for (const [label, value] of rows) console.log(`  ${label.padEnd(42)} ${String(value).padStart(6)}`)
  for (const example of outcome.examples) console.log(`    - ${example}`)
  for (const history of outcome.histories) console.log(history)
  const ok = quiet.settled && rows.every(([, value]) => value === 0) && kills >= minKills && midStops.made >= gracefulStops
  passed = ok
  console.log(ok ? 'PASS' : 'FAIL')
  process.exitCode = ok ? 0 : 1
} finally {
  // On an error, let the killer finish its step so no worker is started after this one stops.
  aborted = true
  await killer.catch(() => undefined)
  for (const w of workers) endedByDrill.add(w)
  await Promise.all(workers.map((w) => w.stop(10_000)))
  await sandbox.close()
  if (args.keep || !passed) say(`kept database ${env.databaseUrl}, queue prefix ${env.queuePrefix} and logs in ${env.dir}`)
  else await env.close()
}
// Pending sockets or timers of the libraries must not keep a finished drill alive.
process.exit()

/** A small seeded PRNG, so a run's workload and kill schedule can be replayed. */
function mulberry32(state: number): () => number {
  let a = state >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
