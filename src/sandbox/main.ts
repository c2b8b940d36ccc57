/**
 * `npm run sandbox`: the sandbox operator as a process.
 *
 * Environment (defaults in brackets):
 *   SANDBOX_HOST [127.0.0.1]            SANDBOX_PORT [8787]
 *   SANDBOX_CHAIN_ID [31337]            SANDBOX_DOMAIN_NAME ["Deputy Sandbox"]
 *   SANDBOX_VERIFYING_CONTRACT [0x5a0d…5a0d]
 *   SANDBOX_MAX_DEADLINE_MS [60000]
 *   SANDBOX_MAKER_SIZE [1000000]        base size per maker level, every market
 *   SANDBOX_TAKER_FEE_BPS [5]           SANDBOX_MAKER_FEE_BPS [2]
 *   SANDBOX_RATE_LIMIT_PER_SECOND [100] per session key; 0 turns the limit off
 *   SANDBOX_RATE_LIMIT_BURST [200]
 *   SANDBOX_LOG_LEVEL [info]            pino level; "silent" for none
 * Faults start off; set them with POST /sandbox/faults.
 */
import type { Address } from 'viem'
import { startSandbox } from './startSandbox.js'

function integer(name: string, fallback: number, { signed = false } = {}): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || (value < 0 && !signed)) throw new Error(`${name} must be a ${signed ? '' : 'non-negative '}integer, got ${JSON.stringify(raw)}`)
  return value
}

const perSecond = integer('SANDBOX_RATE_LIMIT_PER_SECOND', 100)
const sandbox = await startSandbox({
  host: process.env.SANDBOX_HOST || '127.0.0.1',
  port: integer('SANDBOX_PORT', 8787),
  domain: {
    ...(process.env.SANDBOX_DOMAIN_NAME ? { name: process.env.SANDBOX_DOMAIN_NAME } : {}),
    ...(process.env.SANDBOX_CHAIN_ID ? { chainId: integer('SANDBOX_CHAIN_ID', 31337) } : {}),
    ...(process.env.SANDBOX_VERIFYING_CONTRACT ? { verifyingContract: process.env.SANDBOX_VERIFYING_CONTRACT as Address } : {}),
  },
  maxDeadlineMs: integer('SANDBOX_MAX_DEADLINE_MS', 60_000),
  ...(process.env.SANDBOX_MAKER_SIZE ? { makerSize: process.env.SANDBOX_MAKER_SIZE } : {}),
  fees: { takerBps: integer('SANDBOX_TAKER_FEE_BPS', 5), makerBps: integer('SANDBOX_MAKER_FEE_BPS', 2, { signed: true }) },
  rateLimit: perSecond === 0 ? false : { perSecond, burst: integer('SANDBOX_RATE_LIMIT_BURST', 200) },
  logLevel: process.env.SANDBOX_LOG_LEVEL || 'info',
})

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  sandbox.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`sandbox: error while stopping on ${signal}`, error)
      process.exit(1)
    },
  )
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
