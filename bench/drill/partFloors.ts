/**
 * What the parts every order must pass through cost on their own, in this
 * process's CPU with nothing of Deputy around them: one BullMQ job (a no-op
 * processor, the worker's concurrency) and one keep-alive HTTP POST of a
 * request-sized body answered with a receipt-sized one (client side; the server
 * is a child process). With one signature they are the floor of a worker built
 * on these parts (the job with Deputy's submission job options): what is above it is Deputy's own work (Postgres, the event
 * streams, the relay, the state machine, GC of all of it).
 */
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { submitJobOptions } from '../../src/queue/jobOptions.js'
import { freePort } from './sandboxProcess.js'
import { NodeChild } from './workerProcess.js'

const CONCURRENCY = 64

/**
 * µs of this process's CPU per no-op job, over `jobs` jobs added beforehand (the adding is not
 * counted) and processed after a quarter as many unmeasured ones (V8 compiling BullMQ's code).
 */
export async function bullmqJobCpuMicros(redisUrl: string, jobs = 20_000): Promise<number> {
  const warmup = jobs / 4
  const total = warmup + jobs
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const prefix = `deputy-floor-${randomUUID()}`
  const queue = new Queue('floor', { connection, prefix })
  const data = { outboxId: randomUUID() }
  try {
    for (let added = 0; added < total; added += 1000) {
      const batch = Math.min(1000, total - added)
      await queue.addBulk(Array.from({ length: batch }, (_, i) => ({ name: 'Order', data, opts: { ...submitJobOptions, jobId: `o${added + i}` } })))
    }
    let done = 0
    let before = process.cpuUsage()
    let allDone!: () => void
    const finished = new Promise<void>((resolve) => { allDone = resolve })
    // BullMQ leaves a connection it was given open: this one is closed below, as the queue's is.
    const workerConnection = connection.duplicate()
    const worker = new Worker('floor', async () => {
      if (++done === warmup) before = process.cpuUsage()
      if (done === total) allDone()
    }, { connection: workerConnection, prefix, concurrency: CONCURRENCY, autorun: false })
    void worker.run()
    await finished
    const used = process.cpuUsage(before)
    await worker.close()
    workerConnection.disconnect()
    return (used.user + used.system) / jobs
  } finally {
    await queue.obliterate({ force: true })
    await queue.close()
    connection.disconnect()
  }
}

/**
 * µs of this process's CPU per POST round trip, `CONCURRENCY` at a time over keep-alive connections,
 * after a warm-up; the server's output goes to `logFile`.
 */
export async function httpRoundTripCpuMicros(logFile: string, requests = 20_000): Promise<number> {
  const port = await freePort()
  const server = new NodeChild({ entry: 'bench/drill/receiptServer.ts', env: { RECEIPT_SERVER_PORT: String(port) }, logFile, readyMarker: 'receipt server ready' })
  const agent = new Agent({ keepAlive: true })
  try {
    if (!(await server.ready)) throw new Error(`the receipt server exited at start-up; see ${logFile}`)
    // About the size of a signed Order with its delegated payload.
    const body = JSON.stringify({ request: { kind: 'Order', market: 'ETH-USD', side: 'buy', price: '2010', size: '0.01', nonce: '1', deadline: '1' }, signature: `0x${'ab'.repeat(65)}`, payload: `0x${'cd'.repeat(300)}` })
    const post = () => new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/requests', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => { JSON.parse(Buffer.concat(chunks).toString('utf8')); resolve() })
      })
      req.on('error', reject)
      req.end(body)
    })
    const run = async (n: number) => {
      let sent = 0
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (sent++ < n) await post() }))
    }
    await run(requests / 4)
    const before = process.cpuUsage()
    await run(requests)
    const used = process.cpuUsage(before)
    return (used.user + used.system) / requests
  } finally {
    agent.destroy()
    await server.stop()
  }
}
