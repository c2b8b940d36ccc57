/**
 * Sandbox operator throughput: accepted Orders per second over real HTTP with
 * full verification (schema, cached delegation, EIP-712 digest, session-key
 * signature, ACL, replay, nonce, deadline, balance, matching, events), as a
 * ratio to raw secp256k1 public-key recovery measured in the same run: the
 * recovery is the floor of an operator's per-request work.
 *
 * One funded wallet/session; every Order is distinct (cloid, nonce), signed in
 * advance, and fills at once against the maker. CONCURRENCY keep-alive
 * connections from this same process. Each round times N recoveries, then N
 * requests; figures are medians of the rounds, the ratio the median of the
 * per-round ratios. Target ≥ 0.8.
 * BENCH_ROUNDS (default 5) and BENCH_SANDBOX_ORDERS (default 800) change the size.
 */
import { Agent, request } from 'node:http'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { type Hex, bytesToHex, toHex } from 'viem'
import { encodeDelegatedPayload } from '../src/core/delegation/encodeDelegatedPayload.js'
import { hashDelegationBytes } from '../src/core/eip712/hashDelegation.js'
import { hashRequestBytes } from '../src/core/eip712/hashRequest.js'
import type { OrderMessage } from '../src/core/eip712/types.js'
import { toWireMessage } from '../src/core/requests/wire.js'
import { type Sandbox, startSandbox } from '../src/sandbox/startSandbox.js'

const TARGET = 0.8
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
const perRound = Number(process.env.BENCH_SANDBOX_ORDERS ?? 800)
const CONCURRENCY = 4

type Signed = { digest: Uint8Array; recovered: Uint8Array; body: string }

/** r‖s‖v with v = 27/28, from noble's recovered format (recovery byte first). */
function rsv(recovered: Uint8Array): Hex {
  const out = new Uint8Array(65)
  out.set(recovered.subarray(1), 0)
  out[64] = 27 + recovered[0]!
  return bytesToHex(out)
}

function secret(label: string): Uint8Array {
  return keccak_256(new TextEncoder().encode(`deputy sandbox bench:${label}`))
}

async function setup(sandbox: Sandbox) {
  const walletSecret = secret('wallet')
  const sessionSecret = secret('session')
  const walletPoint = secp256k1.Point.fromBytes(secp256k1.getPublicKey(walletSecret, false))
  const wallet = bytesToHex(keccak_256(walletPoint.toBytes(false).subarray(1)).subarray(12))
  const delegation = {
    wallet, sessionPublicKey: bytesToHex(secp256k1.getPublicKey(sessionSecret, true)),
    aclScope: ['Order'] as const, expiry: BigInt(Math.floor(Date.now() / 1000) + 3600), nonce: 1n,
  }
  const delegationDigest = hashDelegationBytes(sandbox.domain, delegation)
  const walletSignature = rsv(secp256k1.sign(delegationDigest, walletSecret, { prehash: false, format: 'recovered' }))
  const payload = encodeDelegatedPayload({ ...delegation, walletSignature })
  sandbox.fund(wallet, 'USD', '1000000000')
  let counter = 0
  const sign = (): Signed => {
    counter += 1
    const message: OrderMessage = {
      delegation: bytesToHex(delegationDigest), wallet, market: 'ETH-USD', side: 0,
      price: 2000n * 10n ** 18n, size: 10n ** 15n, timeInForce: 0,
      clientOrderId: toHex(counter, { size: 16 }), nonce: BigInt(Date.now()) * 1000n + BigInt(counter),
      deadline: BigInt(Date.now() + 3_000_000),
    }
    const digest = hashRequestBytes(sandbox.domain, { family: 'Order', message })
    const recovered = secp256k1.sign(digest, sessionSecret, { prehash: false, format: 'recovered' })
    const body = JSON.stringify({ family: 'Order', delegation: payload, message: toWireMessage(message), signature: rsv(recovered) })
    return { digest, recovered, body }
  }
  return { sign }
}

function recoveriesPerSecond(items: Signed[]): number {
  const started = performance.now()
  for (const item of items) secp256k1.recoverPublicKey(item.recovered, item.digest, { prehash: false })
  return (items.length / (performance.now() - started)) * 1000
}

function post(sandbox: Sandbox, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${sandbox.url}/v1/requests`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function ordersPerSecond(sandbox: Sandbox, agent: Agent, items: Signed[]): Promise<number> {
  let next = 0
  let rejected = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) if ((await post(sandbox, agent, items[next++]!.body)) !== 200) rejected++
    }),
  )
  const elapsed = performance.now() - started
  if (rejected) throw new Error(`${rejected} of ${items.length} Orders were not accepted`)
  return (items.length / elapsed) * 1000
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function measure(label: string, fastVerifyAfter: number): Promise<{ orders: number; recoveries: number; ratio: number }> {
  const sandbox = await startSandbox({ port: 0, quiet: true, rateLimit: false, maxDeadlineMs: 3_600_000, fastVerifyAfter })
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  try {
    const { sign } = await setup(sandbox)
    const warm = Array.from({ length: 200 }, sign)
    recoveriesPerSecond(warm)
    await ordersPerSecond(sandbox, agent, warm)
    const results: { orders: number; recoveries: number }[] = []
    for (let round = 0; round < rounds; round++) {
      const items = Array.from({ length: perRound }, sign)
      const recoveries = recoveriesPerSecond(items)
      const orders = await ordersPerSecond(sandbox, agent, items)
      results.push({ orders, recoveries })
    }
    const summary = {
      orders: median(results.map((r) => r.orders)),
      recoveries: median(results.map((r) => r.recoveries)),
      ratio: median(results.map((r) => r.orders / r.recoveries)),
    }
    console.log(`${label.padEnd(44)} ${summary.orders.toFixed(0).padStart(6)} Orders/s   recovery ${summary.recoveries.toFixed(0).padStart(6)}/s   ratio ${summary.ratio.toFixed(2)}`)
    return summary
  } finally {
    agent.destroy()
    await sandbox.close()
  }
}

export default async function run(): Promise<void> {
  console.log(`${rounds} rounds × ${perRound} Orders, ${CONCURRENCY} keep-alive connections, client in the same process`)
  const fast = await measure('sandbox (session-key table after 8 uses)', 8)
  await measure('sandbox (recovery on every request)', 0)
  console.log(`ratio to raw recovery: ${fast.ratio.toFixed(2)} (target ≥ ${TARGET}) ${fast.ratio >= TARGET ? 'OK' : 'BELOW TARGET'}`)
}
