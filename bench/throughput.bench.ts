/**
 * End-to-end worker throughput on this machine: intents written through the API's intake
 * (`groupedPlaceLimitOrder`: concurrent placements share a transaction)
 * → the worker (a child process, `node --import tsx src/main/worker.ts`) relays,
 * signs, persists, sends to the sandbox (another child process, verifying every
 * signature) and persists the receipt; fills arrive on the event streams.
 *   0. Warm-up: BENCH_WARMUP_ROUNDS (default 3) bursts of the same size first, so that the
 *      burst meets a warm worker (V8 compiles its hot code over the first few thousand orders);
 *      only each round's worker CPU per order is printed, to show the cold cost and its decline.
 *   1. Burst: BENCH_ORDERS orders (default 3000) written as fast as intake goes;
 *      orders/s = orders / (first intent written → last receipt persisted).
 *      The worker's CPU (utime + stime from /proc) per order, until every fill is
 *      stored too, as a ratio to one raw secp256k1 signature's CPU measured here, with the
 *      machine otherwise idle (before and after) and sampled by a side process during the
 *      burst (this 2-vCPU machine's CPU time per signature moves with the other core's load).
 *      And the whole machine's CPU per order over the same stretch (`/proc/stat`),
 *      split into worker, sandbox, Postgres, Redis, this process (the intake) and the
 *      baseline sampler, with the orders/s this machine's cores could carry at that cost
 *      (the sampler, ~5% of a core, left out: it measures, it is not part of the system).
 *   2. Paced: 100 orders/s for BENCH_PACED_SECONDS (default 20); p50/p99 latency from intent
 *      written to relayed to BullMQ, job started (BullMQ's processedOn), request signed + persisted,
 *      request sent (its `sent_at`: the intent-to-submit latency) and receipt persisted; and the
 *      worker's CPU per order at that pace, where orders come about one at a time.
 *      Beside them, the floor of any worker built on these parts, measured in this process after
 *      the burst: one signature, one no-op BullMQ job, one keep-alive HTTP POST (`partFloors`).
 * Targets (reported, not enforced): ≥ 500 orders/s, ≤ 2.0× one signature's CPU per order.
 * BENCH_WORKER_PROCESSES (1) runs that many workers on the same queues (CPU per order sums them);
 * BENCH_WRITERS (32 concurrent intake callers), BENCH_WALLETS (16), WORKER_CONCURRENCY (64), BENCH_RELAY_MS (100, the default; the relay also wakes on commit) tune the run; BENCH_PG_SOCKET_DIR
 * (e.g. /var/run/postgresql) has the worker reach Postgres over its Unix socket instead of TCP;
 * BENCH_CPU_PROF=1 writes the worker's and the sandbox's V8 CPU profiles to the run's scratch directory (kept, as with BENCH_KEEP_FILES=1); BENCH_WORKER_NODE_ARGS
 * replaces the worker's node flags (default: production's, `WORKER_NODE_OPTIONS`; '' runs it without; `--trace-gc` prints its GCs
 * to its log, kept with BENCH_KEEP_FILES=1).
 */
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { and, eq, like, sql } from 'drizzle-orm'
import { groupedPlaceLimitOrder } from '../src/runtime/intake/groupedPlaceLimitOrder.js'
import type { MarketRules } from '../src/runtime/intake/marketRules.js'
import { queueNames } from '../src/queue/names.js'
import type { Db } from '../src/store/Database.js'
import { WORKER_NODE_OPTIONS } from '../src/main/workerNodeOptions.js'
import { outboxJobId } from '../src/store/repositories/outboxRepo.js'
import { fills, intents, orders, outbox, requests } from '../src/store/schema/index.js'
import { type DrillWallet, REDIS_URL, createEnvironment } from './drill/environment.js'
import { type CpuPart, cpuPerUnit, snapshotCpu } from './drill/machineCpu.js'
import { bullmqJobCpuMicros, httpRoundTripCpuMicros } from './drill/partFloors.js'
import { signatureCpuMicros } from './drill/rawSignature.js'
import { startSandboxProcess } from './drill/sandboxProcess.js'
import { NodeChild, sleep, waitFor } from './drill/workerProcess.js'

const TARGET_ORDERS_PER_SECOND = 500
const TARGET_SIGNATURES_PER_ORDER = 2
/** The side process sampling the signature baseline during the burst. */
const SAMPLER = 'baseline sampler'

export default async function run(): Promise<void> {
  const burst = Number(process.env.BENCH_ORDERS ?? 3000)
  const warmupRounds = Number(process.env.BENCH_WARMUP_ROUNDS ?? 3)
  const pacedSeconds = Number(process.env.BENCH_PACED_SECONDS ?? 20)
  const walletCount = Number(process.env.BENCH_WALLETS ?? 16)
  const concurrency = process.env.WORKER_CONCURRENCY ?? '64'
  const relayMs = process.env.BENCH_RELAY_MS ?? '100'
  const writers = Number(process.env.BENCH_WRITERS ?? 32)
  const processes = Number(process.env.BENCH_WORKER_PROCESSES ?? 1)
  // The worker reaches Postgres over TCP on 127.0.0.1 unless given the server's Unix socket directory.
  const socketDir = process.env.BENCH_PG_SOCKET_DIR
  // The worker's production flags, unless told otherwise (BENCH_WORKER_NODE_ARGS='' runs it without).
  const workerNodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [...WORKER_NODE_OPTIONS]

  const scratch = await mkdtemp(join(tmpdir(), 'deputy-throughput-'))
  const cpuProf = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', scratch] : []
  const sandbox = await startSandboxProcess({ logFile: `${scratch}/sandbox.log`, env: { SANDBOX_RATE_LIMIT_PER_SECOND: '0' }, nodeArgs: cpuProf })
  const env = await createEnvironment({ name: 'throughput', operator: sandbox, wallets: walletCount, funds: { USD: '1000000000', ETH: '1000000' }, poolSize: 16, dir: scratch })
  const workers = Array.from({ length: processes }, (_, n) => new NodeChild({
    entry: 'src/main/worker.ts',
    env: env.workerEnv({
      LOG_LEVEL: 'info', WORKER_CONCURRENCY: concurrency, RELAY_INTERVAL_MS: relayMs, RECONCILE_INTERVAL_MS: '600000',
      ...(socketDir ? { DATABASE_URL: socketUrl(env.databaseUrl, socketDir) } : {}),
    }),
    logFile: `${scratch}/worker${n ? `-${n}` : ''}.log`,
    readyMarker: '"msg":"worker started"',
    nodeArgs: [...workerNodeArgs, ...cpuProf],
  }))
  try {
    for (const worker of workers) if (!(await worker.ready)) throw new Error(`a worker exited at start-up; see ${scratch}/worker*.log`)
    const intake = createIntake(env.db, env.markets, env.wallets)

    // Warm-up rounds, each the burst's size: connection pools, one SSE stream per wallet, and V8's
    // JIT, which compiles the worker's hot code over the first thousands of orders (~700
    // functions, on background threads, counted in the worker's CPU). A worker runs for days, so
    // the burst measures it warm; each round's CPU per order shows how it got there.
    const warmupCpu: number[] = []
    for (let round = 0; round < warmupRounds; round++) {
      const before = await workersCpu(workers)
      await intake.burst(`warm${round}`, burst, writers)
      await waitUntilDone(env.db, `warm${round}`, burst, 300_000)
      warmupCpu.push(((await workersCpu(workers)) - before) / burst)
    }
    // Statistics, as autovacuum keeps them on a running system. This database is minutes old and
    // may have none yet: a plan made while `orders` was small or without statistics joins the
    // batched writes' JSON recordsets to it by a seq scan, and the worker's connections keep such
    // a cached plan until an ANALYZE invalidates it (seen once: a burst at 74 orders/s, Postgres
    // at 13 ms per order).
    await env.db.execute(sql`analyze`)

    // The baseline again, sampled by a side process while the burst loads the machine: this
    // machine's CPU time per signature depends on what its other core is doing.
    const sampler = new NodeChild({ entry: 'bench/drill/signatureSampler.ts', env: {}, logFile: `${scratch}/sampler.log`, readyMarker: 'sampler ready' })
    await sampler.ready
    const parts: CpuPart[] = [
      { name: 'worker', pids: () => workers.map((worker) => worker.pid) },
      { name: 'sandbox', pids: () => [sandbox.child.pid] },
      { name: 'Postgres', comm: 'postgres' },
      { name: 'Redis', comm: 'redis-server' },
      { name: 'bench (intake)', pids: () => [process.pid] },
      // Measurement, not the system under test: left out of what the cores could carry.
      { name: SAMPLER, pids: () => [sampler.pid] },
    ]
    // The idle baseline right before and right after the burst: this VM's speed drifts over a run.
    const signature = signatureCpuMicros()
    const machineBefore = await snapshotCpu(parts)
    const burstStartedAt = Date.now()
    const cpuBefore = await workersCpu(workers)
    const started = Date.now()
    await intake.burst('burst', burst, writers)
    const written = Date.now()
    await waitUntilDone(env.db, 'burst', burst, 300_000)
    // The moments themselves come from the rows' timestamps (this machine's clock), not from the polls.
    const { receipted, settled } = await finishedAt(env.db, 'burst')
    const cpuAfter = await workersCpu(workers)
    const machine = cpuPerUnit(machineBefore, await snapshotCpu(parts), burst)
    const burstEndedAt = Date.now()
    await sampler.stop()
    const signatureAgain = signatureCpuMicros()
    // The parts every order passes through, alone (the machine otherwise idle, like the signature).
    const floor = { job: await bullmqJobCpuMicros(REDIS_URL), http: await httpRoundTripCpuMicros(`${scratch}/receipt-server.log`) }
    const loadedSigMicros = median(await samplesBetween(`${scratch}/sampler.log`, burstStartedAt, burstEndedAt))

    const pacedOrders = Math.round(pacedSeconds * 100)
    const pacedCpuBefore = await workersCpu(workers)
    await intake.paced('paced', pacedOrders, 100)
    await waitUntilDone(env.db, 'paced', pacedOrders, 300_000)
    // At a steady 100/s the work comes one order at a time: each pays the statements and round trips
    // that a burst shares among the orders batched together.
    const pacedPerOrder = pacedOrders > 0 ? ((await workersCpu(workers)) - pacedCpuBefore) / pacedOrders : undefined
    const latencies = pacedOrders > 0 ? await latencyOf(env.db, env.queuePrefix, 'paced') : undefined

    const sigMicros = (signature + signatureAgain) / 2
    const perOrder = (cpuAfter - cpuBefore) / burst
    const ordersPerSecond = burst / ((receipted - started) / 1000)
    console.log(`worker: ${processes} child process${processes > 1 ? 'es' : ''} (node ${workerNodeArgs.join(' ') || 'without flags'}), concurrency ${concurrency} each, relay on commit (LISTEN) and every ${relayMs} ms, Postgres over ${socketDir ? `the Unix socket in ${socketDir}` : 'TCP 127.0.0.1'}; sandbox: child process (verifies every signature); ${walletCount} wallets; ${writers} concurrent intake callers; node ${process.version}`)
    console.log(`  burst of ${burst} orders: intake wrote them in ${((written - started) / 1000).toFixed(2)} s; last receipt persisted after ${((receipted - started) / 1000).toFixed(2)} s; every fill stored after ${((settled - started) / 1000).toFixed(2)} s`)
    console.log(`  throughput (intent written → receipt persisted)   ${ordersPerSecond.toFixed(0).padStart(7)} orders/s   target ≥ ${TARGET_ORDERS_PER_SECOND}  (${(ordersPerSecond / TARGET_ORDERS_PER_SECOND).toFixed(2)}× target)`)
    console.log(`  one raw secp256k1 signature (noble, this process) ${sigMicros.toFixed(0).padStart(7)} µs CPU   (${signature.toFixed(0)} before, ${signatureAgain.toFixed(0)} after, machine otherwise idle)`)
    console.log(`  … sampled during the burst (side process)         ${loadedSigMicros.toFixed(0).padStart(7)} µs CPU   (median of 10-signature samples every 200 ms)`)
    console.log(`  worker CPU per order in the ${warmupRounds} warm-up rounds before: ${warmupCpu.map((micros) => `${micros.toFixed(0)} µs`).join(', ') || 'none'} (JIT compiling)`)
    console.log(`  worker CPU per order (user + system, all workers) ${perOrder.toFixed(0).padStart(7)} µs = ${(perOrder / sigMicros).toFixed(2)}× one signature (idle), ${(perOrder / loadedSigMicros).toFixed(2)}× (sampled during the burst)   target ≤ ${TARGET_SIGNATURES_PER_ORDER}×`)
    const floorMicros = sigMicros + floor.job + floor.http
    console.log(`  floor (measured here, machine otherwise idle): one signature + a no-op BullMQ job (${floor.job.toFixed(0)} µs) + a keep-alive HTTP POST round trip (${floor.http.toFixed(0)} µs, client side) = ${floorMicros.toFixed(0)} µs = ${(floorMicros / sigMicros).toFixed(2)}× one signature`)
    console.log(`    → the worker's CPU per order above that floor: ${(perOrder - floorMicros).toFixed(0)} µs (Postgres, event streams, relay, state machine, and their GC); the ≤ ${TARGET_SIGNATURES_PER_ORDER}× target leaves ${(TARGET_SIGNATURES_PER_ORDER * sigMicros - floorMicros).toFixed(0)} µs for it`)
    console.log(`  whole machine per order during the burst ${machine.machine.toFixed(0).padStart(7)} µs CPU: ${machine.parts.map((part) => `${part.name} ${part.micros.toFixed(0)}`).join(', ')}`)
    const partMicros = (name: string) => machine.parts.find((part) => part.name === name)?.micros ?? 0
    const system = machine.machine - partMicros(SAMPLER)
    console.log(`    → at that cost (the baseline sampler left out) ${machine.cores} cores carry at most ${((machine.cores * 1_000_000) / system).toFixed(0)} orders/s; ${TARGET_ORDERS_PER_SECOND}/s needs ${((TARGET_ORDERS_PER_SECOND * system) / 1_000_000).toFixed(1)} cores`)
    const withoutWorker = system - partMicros('worker')
    console.log(`    → the rest alone (everything but the worker) costs ${withoutWorker.toFixed(0)} µs per order: ${TARGET_ORDERS_PER_SECOND}/s would need ${((TARGET_ORDERS_PER_SECOND * withoutWorker) / 1_000_000).toFixed(1)} cores even if the worker cost nothing`)
    if (latencies) {
      console.log(`  paced ${pacedOrders} orders at 100/s: intent → relayed to BullMQ           p50 ${latencies.relayed.p50.toFixed(1)} ms  p99 ${latencies.relayed.p99.toFixed(1)} ms`)
      console.log(`  paced ${pacedOrders} orders at 100/s: intent → its job started (worker)   p50 ${latencies.started.p50.toFixed(1)} ms  p99 ${latencies.started.p99.toFixed(1)} ms`)
      console.log(`  paced ${pacedOrders} orders at 100/s: intent → request signed + persisted  p50 ${latencies.signed.p50.toFixed(1)} ms  p99 ${latencies.signed.p99.toFixed(1)} ms`)
      console.log(`  paced ${pacedOrders} orders at 100/s: intent → request sent (submit)     p50 ${latencies.sent.p50.toFixed(1)} ms  p99 ${latencies.sent.p99.toFixed(1)} ms`)
      console.log(`  paced ${pacedOrders} orders at 100/s: intent → receipt persisted          p50 ${latencies.receipt.p50.toFixed(1)} ms  p99 ${latencies.receipt.p99.toFixed(1)} ms`)
      if (pacedPerOrder !== undefined) console.log(`  paced ${pacedOrders} orders at 100/s: worker CPU per order ${pacedPerOrder.toFixed(0)} µs = ${(pacedPerOrder / sigMicros).toFixed(2)}× one signature (batches of about one order; ${(pacedPerOrder / 100).toFixed(0)}% of a core at 100/s)`)
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.stop(20_000)))
    await sandbox.stop()
    const keepFiles = Boolean(process.env.BENCH_CPU_PROF || process.env.BENCH_KEEP_FILES)
    await env.close({ keepFiles })
    if (keepFiles) console.log(`  logs${process.env.BENCH_CPU_PROF ? ' and the worker\'s and sandbox\'s CPU profiles' : ''} kept in ${scratch}`)
  }
}

/** The sampler's per-signature figures written between `from` and `to` (epoch ms). */
async function samplesBetween(logFile: string, from: number, to: number): Promise<number[]> {
  return (await readFile(logFile, 'utf8')).split('\n')
    .map((line) => line.split(' ').map(Number))
    .filter(([at, micros]) => at! >= from && at! <= to && Number.isFinite(micros))
    .map(([, micros]) => micros!)
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN

async function workersCpu(workers: readonly NodeChild[]): Promise<number> {
  let total = 0
  for (const worker of workers) total += await worker.cpuMicros()
  return total
}

/** The same database through a Unix socket directory (libpq's `host=/dir`). */
function socketUrl(tcpUrl: string, dir: string): string {
  const url = new URL(tcpUrl)
  return `postgres://${url.username}@localhost${url.pathname}?host=${encodeURIComponent(dir)}`
}

function createIntake(db: Db, markets: MarketRules, wallets: DrillWallet[]) {
  let next = 0
  // The API's intake: concurrent placements share their transaction.
  const placeLimitOrder = groupedPlaceLimitOrder(db, () => markets)
  // Buys above the mark (2000): each crosses the maker and fills at once.
  const place = (tag: string, i: number) => placeLimitOrder({
    walletId: wallets[next++ % wallets.length]!.walletId, market: 'ETH-USD', side: 'buy', price: '2010', size: '0.01', clientRef: `${tag}-${i}`,
  }, new Date())
  return {
    /** `count` orders as fast as `writers` parallel writers go. */
    async burst(tag: string, count: number, writers: number): Promise<void> {
      let i = 0
      await Promise.all(Array.from({ length: writers }, async () => {
        while (i < count) await place(tag, i++)
      }))
    },
    /** `count` orders at `perSecond`, each written at its slot. */
    async paced(tag: string, count: number, perSecond: number): Promise<void> {
      const started = performance.now()
      const inFlight: Promise<unknown>[] = []
      for (let i = 0; i < count; i++) {
        const due = started + (i * 1000) / perSecond
        const wait = due - performance.now()
        if (wait > 0) await sleep(wait)
        inFlight.push(place(tag, i))
      }
      await Promise.all(inFlight)
    },
  }
}

const tagged = (tag: string) => like(intents.clientRef, `${tag}-%`)

async function countAccepted(db: Db, tag: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(requests)
    .innerJoin(orders, eq(orders.id, requests.orderId)).innerJoin(intents, eq(intents.id, orders.intentId))
    .where(and(tagged(tag), eq(requests.family, 'Order'), eq(requests.status, 'accepted')))
  return row!.n
}

/**
 * Every order of the tag has its receipt and its fill stored (from the event stream). Polled
 * every 250 ms: each poll is a join over the run's tables that costs Postgres several ms, and
 * polling every 20 ms took ~40% of a core from the system under test.
 */
async function waitUntilDone(db: Db, tag: string, count: number, timeoutMs: number): Promise<void> {
  await waitFor(`${tag}: receipts and fills`, async () => {
    // While the phase's work is in flight, only this: the outbox's status index finds the rows not yet
    // done (a receipt marks its row done) without reading the rest. The exact counts below join three
    // growing tables by a pattern on client_ref; polled through the burst they cost Postgres ~24 ms each
    // (pg_stat_statements), ~200 µs per order of its CPU, taken from the system under test.
    const { rows: [inFlight] } = await db.execute<{ busy: boolean }>(sql`select exists (select 1 from outbox where status in ('pending', 'enqueued')) as busy`)
    if (inFlight!.busy) return false
    if ((await countAccepted(db, tag)) < count) return false
    const [row] = await db.select({ n: sql<number>`count(distinct ${fills.orderId})::int` }).from(fills)
      .innerJoin(orders, eq(orders.id, fills.orderId)).innerJoin(intents, eq(intents.id, orders.intentId)).where(tagged(tag))
    return row!.n >= count
  }, timeoutMs, 250)
}

/** When the tag's last receipt was persisted, and its last fill stored (epoch ms). */
async function finishedAt(db: Db, tag: string): Promise<{ receipted: number; settled: number }> {
  const [receipt] = await db.select({ at: sql<number>`extract(epoch from max(${requests.completedAt})) * 1000` }).from(requests)
    .innerJoin(orders, eq(orders.id, requests.orderId)).innerJoin(intents, eq(intents.id, orders.intentId))
    .where(and(tagged(tag), eq(requests.family, 'Order'), eq(requests.status, 'accepted')))
  const [fill] = await db.select({ at: sql<number>`extract(epoch from max(${fills.createdAt})) * 1000` }).from(fills)
    .innerJoin(orders, eq(orders.id, fills.orderId)).innerJoin(intents, eq(intents.id, orders.intentId)).where(tagged(tag))
  return { receipted: Number(receipt!.at), settled: Number(fill!.at) }
}

async function latencyOf(db: Db, queuePrefix: string, tag: string) {
  const rows = await db.select({
    intentAt: sql<number>`extract(epoch from ${intents.createdAt}) * 1000`,
    signed: sql<number>`extract(epoch from (${requests.createdAt} - ${intents.createdAt})) * 1000`,
    sent: sql<number>`extract(epoch from (${requests.sentAt} - ${intents.createdAt})) * 1000`,
    receipt: sql<number>`extract(epoch from (${requests.completedAt} - ${intents.createdAt})) * 1000`,
    relayed: sql<number>`extract(epoch from (${outbox.enqueuedAt} - ${intents.createdAt})) * 1000`,
    outboxId: outbox.id,
    generation: outbox.generation,
  }).from(requests).innerJoin(orders, eq(orders.id, requests.orderId)).innerJoin(intents, eq(intents.id, orders.intentId))
    .innerJoin(outbox, eq(outbox.id, requests.outboxId))
    .where(and(tagged(tag), eq(requests.family, 'Order'), eq(requests.status, 'accepted')))
  // When the worker took each job (BullMQ's processedOn, the worker's clock: the same machine's).
  const queue = new Queue(queueNames.submit, { connection: { url: REDIS_URL }, prefix: queuePrefix })
  const started = await Promise.all(rows.map(async (row) => {
    const job = await queue.getJob(outboxJobId({ id: row.outboxId, generation: row.generation }))
    return job?.processedOn === undefined ? NaN : job.processedOn - Number(row.intentAt)
  })).finally(() => queue.close())
  const percentiles = (values: number[]) => {
    const sorted = values.map(Number).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
    return { p50: at(0.5), p99: at(0.99) }
  }
  return {
    relayed: percentiles(rows.map((r) => r.relayed)),
    started: percentiles(started),
    signed: percentiles(rows.map((r) => r.signed)),
    sent: percentiles(rows.map((r) => r.sent)),
    receipt: percentiles(rows.map((r) => r.receipt)),
  }
}
