import { type Address, isAddress } from 'viem'
import { parseAmount } from '../core/money/decimal.js'
import type { SandboxOptions } from './config.js'

/** A bad SANDBOX_* value: the message names the variable and its rule. */
export class SandboxEnvError extends Error {
  override name = 'SandboxEnvError'
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/**
 * The sandbox process's settings (README, Configuration), each checked here so that a bad one stops
 * start-up naming the variable: checked later, by the sandbox's options, viem, pino or node, the
 * error named an option field (`ETH-USD.makerSize`, `options.port`) or read `default level:loud must
 * be included in custom levels`, and a burst or deadline of 0 started a sandbox that refused every request.
 */
export function readSandboxEnv(env: Readonly<Record<string, string | undefined>>): SandboxOptions {
  const raw = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name])
  const fail = (name: string, rule: string): never => {
    throw new SandboxEnvError(`${name}: ${rule}, got ${JSON.stringify(env[name])}`)
  }
  /** Decimal digits only, with an optional minus sign where allowed: `Number()` takes ' ', '0x10' and '1e3'. */
  const integer = (name: string, fallback: number, min: number, max: number, rule: string): number => {
    const value = raw(name)
    if (value === undefined) return fallback
    if (!/^-?\d+$/.test(value.trim())) fail(name, `must be a whole number in decimal digits, ${rule}`)
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < min || n > max) fail(name, `must be ${rule}`)
    return n
  }
  const text = (name: string): string | undefined => {
    const value = raw(name)
    if (value !== undefined && value.trim() === '') fail(name, 'must not be blank')
    return value
  }

  const host = text('SANDBOX_HOST') ?? '127.0.0.1'
  const port = integer('SANDBOX_PORT', 8787, 0, 65535, 'from 0 to 65535 (0: any free port)')
  const name = text('SANDBOX_DOMAIN_NAME')
  const chainId = raw('SANDBOX_CHAIN_ID') === undefined ? undefined
    : integer('SANDBOX_CHAIN_ID', 31337, 1, Number.MAX_SAFE_INTEGER, 'at least 1')
  const verifyingContract = raw('SANDBOX_VERIFYING_CONTRACT')
  if (verifyingContract !== undefined && !isAddress(verifyingContract, { strict: false })) {
    fail('SANDBOX_VERIFYING_CONTRACT', 'must be a 20-byte hex address, like 0x5a0d5a0d5a0d5a0d5a0d5a0d5a0d5a0d5a0d5a0d')
  }
  const maxDeadlineMs = integer('SANDBOX_MAX_DEADLINE_MS', 60_000, 1, 2_147_483_647, 'at least 1 (ms)')
  const makerSize = raw('SANDBOX_MAKER_SIZE')
  if (makerSize !== undefined) {
    let size: bigint | undefined
    try {
      size = parseAmount('SANDBOX_MAKER_SIZE', makerSize)
    } catch {
      size = undefined
    }
    if (size === undefined || size === 0n) fail('SANDBOX_MAKER_SIZE', 'must be a positive decimal number, like 1000000 or 0.02')
  }
  const takerBps = integer('SANDBOX_TAKER_FEE_BPS', 5, 0, 10_000, 'from 0 to 10000 (bps)')
  const makerBps = integer('SANDBOX_MAKER_FEE_BPS', 2, -takerBps, 10_000, `from -${takerBps} (a rebate at most the taker fee) to 10000 (bps)`)
  const perSecond = integer('SANDBOX_RATE_LIMIT_PER_SECOND', 100, 0, 1_000_000, 'from 0 (no limit) to 1000000')
  const burst = integer('SANDBOX_RATE_LIMIT_BURST', 200, 1, 1_000_000, 'at least 1 and at most 1000000')
  const logLevel = raw('SANDBOX_LOG_LEVEL') ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) fail('SANDBOX_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`)

  return {
    host,
    port,
    domain: {
      ...(name !== undefined ? { name } : {}),
      ...(chainId !== undefined ? { chainId } : {}),
      ...(verifyingContract !== undefined ? { verifyingContract: verifyingContract as Address } : {}),
    },
    maxDeadlineMs,
    ...(makerSize !== undefined ? { makerSize } : {}),
    fees: { takerBps, makerBps },
    rateLimit: perSecond === 0 ? false : { perSecond, burst },
    logLevel,
  }
}
