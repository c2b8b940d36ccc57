import { type Address, getAddress } from 'viem'
import type { OperatorDomain } from '../core/eip712/types.js'
import { parseAmount } from '../core/money/decimal.js'
import type { Faults } from './faults.js'

/** One market as configured; amounts are decimal strings ("0.01"). */
export type MarketConfig = {
  market: string
  base: string
  quote: string
  tickSize: string
  lotSize: string
  /** Initial mark price. */
  mark: string
  /** Base size the synthetic maker offers per level; an order larger than this fills partially. */
  makerSize?: string
}

export type SandboxOptions = {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 8787; 0 picks a free port (tests). */
  port?: number
  /** Overrides of the EIP-712 domain (default name "Deputy Sandbox", chainId 31337). */
  domain?: Partial<Omit<OperatorDomain, 'version'>>
  /** How far ahead a request deadline may be (default 60000). */
  maxDeadlineMs?: number
  /** Default ETH-USD and BTC-USD (PROTOCOL.md §9). */
  markets?: MarketConfig[]
  /** Maker size for every market without its own `makerSize` (default "1000000"). */
  makerSize?: string
  /** Fees in basis points of the notional, charged in the quote asset (defaults 5 taker, 2 maker); a negative maker fee is a rebate. */
  fees?: { takerBps?: number; makerBps?: number }
  /** Token bucket per session key (default 100/s, burst 200); `false` turns it off. */
  rateLimit?: { perSecond: number; burst: number } | false
  /** Initial fault injection (all off by default). */
  faults?: Partial<Faults>
  /** No logs at all (tests, benchmarks). */
  quiet?: boolean
  /** pino level when not quiet (default "info"). */
  logLevel?: string
  /** How often expired delegations are swept (default 250 ms). */
  sweepIntervalMs?: number
  /** How often SSE streams get a keep-alive comment (default 15000 ms). */
  keepAliveMs?: number
  /** Uses of one session key after which its signatures are checked with a precomputed table (default 8; 0 = never). */
  fastVerifyAfter?: number
  /** Clock (unix ms); default Date.now. The handle's `advanceClock` shifts it. */
  now?: () => number
  /** Randomness for fault injection; default Math.random. */
  random?: () => number
}

export type Market = {
  market: string
  base: string
  quote: string
  tickSize: bigint
  lotSize: bigint
  mark: bigint
  makerSize: bigint
}

export type ResolvedConfig = {
  host: string
  port: number
  domain: OperatorDomain
  maxDeadlineMs: number
  markets: Map<string, Market>
  assets: string[]
  takerBps: bigint
  makerBps: bigint
  rateLimit: { perSecond: number; burst: number } | false
  quiet: boolean
  logLevel: string
  sweepIntervalMs: number
  keepAliveMs: number
  fastVerifyAfter: number
}

export const defaultMarkets: readonly MarketConfig[] = [
  { market: 'ETH-USD', base: 'ETH', quote: 'USD', tickSize: '0.01', lotSize: '0.001', mark: '2000' },
  { market: 'BTC-USD', base: 'BTC', quote: 'USD', tickSize: '0.1', lotSize: '0.0001', mark: '60000' },
]

export const defaultDomain: OperatorDomain = {
  name: 'Deputy Sandbox',
  version: '1',
  chainId: 31337,
  verifyingContract: getAddress('0x5a0d5a0d5a0d5a0d5a0d5a0d5a0d5a0d5a0d5a0d'),
}

export const DEFAULT_MAKER_SIZE = '1000000'

function bps(name: string, value: number | undefined, fallback: number): bigint {
  const chosen = value ?? fallback
  if (!Number.isInteger(chosen) || chosen < 0 || chosen > 10_000) throw new RangeError(`${name} must be an integer 0..10000 bps`)
  return BigInt(chosen)
}

/**
 * The maker fee: below zero it is a rebate (the fill's fee is negative and the maker is paid),
 * at most the taker fee in size, so a trade never costs the operator.
 */
function makerBps(value: number | undefined, fallback: number, takerBps: bigint): bigint {
  const chosen = value ?? fallback
  if (chosen >= 0) return bps('fees.makerBps', chosen, fallback)
  if (!Number.isInteger(chosen) || BigInt(-chosen) > takerBps) throw new RangeError(`fees.makerBps must be an integer from -${takerBps} (a rebate at most the taker fee) to 10000 bps`)
  return BigInt(chosen)
}

/** Applies defaults and parses amounts once, so request handling never re-parses configuration. */
export function resolveConfig(options: SandboxOptions): ResolvedConfig {
  const markets = new Map<string, Market>()
  const assets = new Set<string>()
  for (const m of options.markets ?? defaultMarkets) {
    const market: Market = {
      market: m.market,
      base: m.base,
      quote: m.quote,
      tickSize: parseAmount(`${m.market}.tickSize`, m.tickSize),
      lotSize: parseAmount(`${m.market}.lotSize`, m.lotSize),
      mark: parseAmount(`${m.market}.mark`, m.mark),
      makerSize: parseAmount(`${m.market}.makerSize`, m.makerSize ?? options.makerSize ?? DEFAULT_MAKER_SIZE),
    }
    if (market.tickSize === 0n || market.lotSize === 0n || market.makerSize === 0n) throw new RangeError(`${m.market}: tick, lot and maker size must be positive`)
    markets.set(market.market, market)
    assets.add(market.quote).add(market.base)
  }
  const domain: OperatorDomain = {
    name: options.domain?.name ?? defaultDomain.name,
    version: '1',
    chainId: options.domain?.chainId ?? defaultDomain.chainId,
    verifyingContract: getAddress((options.domain?.verifyingContract ?? defaultDomain.verifyingContract) as Address),
  }
  const takerBps = bps('fees.takerBps', options.fees?.takerBps, 5)
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8787,
    domain,
    maxDeadlineMs: options.maxDeadlineMs ?? 60_000,
    markets,
    assets: [...assets].sort(),
    takerBps,
    makerBps: makerBps(options.fees?.makerBps, 2, takerBps),
    rateLimit: options.rateLimit === undefined ? { perSecond: 100, burst: 200 } : options.rateLimit,
    quiet: options.quiet ?? false,
    logLevel: options.logLevel ?? 'info',
    sweepIntervalMs: options.sweepIntervalMs ?? 250,
    keepAliveMs: options.keepAliveMs ?? 15_000,
    fastVerifyAfter: options.fastVerifyAfter ?? 8,
  }
}
