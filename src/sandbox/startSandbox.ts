import type { AddressInfo } from 'node:net'
import type { OperatorDomain } from '../core/eip712/types.js'
import { type SandboxOptions, resolveConfig } from './config.js'
import { changeDomain, fundWallet, moveMark } from './control.js'
import { sweepExpired } from './engine/endSession.js'
import { type Faults, mergeFaults } from './faults.js'
import { buildServer } from './http/buildServer.js'
import { registerControlRoutes } from './http/controlRoutes.js'
import { registerEventStream } from './http/eventStream.js'
import { registerPublicRoutes } from './http/publicRoutes.js'
import { registerReadRoutes } from './http/readRoutes.js'
import { registerRequestRoutes } from './http/requestRoutes.js'
import { type SandboxState, createState } from './state.js'

export type { SandboxOptions } from './config.js'

/** A running sandbox operator; its controls are the HTTP control endpoints' in-process twins. */
export type Sandbox = {
  /** `http://host:port`, no trailing slash. */
  url: string
  host: string
  port: number
  /** The EIP-712 domain it verifies against now (`setDomain` changes it). */
  readonly domain: OperatorDomain
  maxDeadlineMs: number
  /** The sandbox clock (unix ms): the real clock plus every `advanceClock`. */
  now(): number
  /** Credits `amount` (decimal string) of `asset` to `wallet`. */
  fund(wallet: string, asset: string, amount: string): void
  /** Moves the mark and fills the resting orders it crosses; returns the number of fills. */
  setMark(market: string, price: string): number
  /** Changes some faults; returns all of them. */
  setFaults(faults: Partial<Faults>): Faults
  /** Changes the EIP-712 domain at runtime (fields left out keep their value); returns the new one. */
  setDomain(change: Partial<Pick<OperatorDomain, 'name' | 'chainId' | 'verifyingContract'>>): OperatorDomain
  /** Shifts the sandbox clock forward and sweeps expired delegations at once; returns the new time. */
  advanceClock(ms: number): number
  /** Number of open SSE streams. */
  streamCount(): number
  /** The in-memory state, for tests that look inside. */
  state: SandboxState
  /** Ends SSE streams and timers, closes the server. */
  close(): Promise<void>
}

/** Starts the sandbox operator (PROTOCOL.md §9) on `host:port` (defaults 127.0.0.1:8787; port 0 for tests). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const config = resolveConfig(options)
  const clock = options.now ?? Date.now
  let offset = 0
  const now = (): number => clock() + offset
  const state = createState(config, now, options.random ?? Math.random, options.faults)
  const app = buildServer(state)
  registerPublicRoutes(app, state)
  registerRequestRoutes(app, state)
  registerReadRoutes(app, state)
  const streams = registerEventStream(app, state)
  const advanceClock = (ms: number): number => {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advanceClock: ms must be a non-negative number')
    offset += ms
    sweepExpired(state)
    return now()
  }
  registerControlRoutes(app, state, { faultsChanged: () => streams.rearm(), advanceClock })

  const sweeper = setInterval(() => sweepExpired(state), config.sweepIntervalMs)
  sweeper.unref()
  app.addHook('onClose', async () => {
    clearInterval(sweeper)
    app.log.info('sandbox operator stopped')
  })

  await app.listen({ host: config.host, port: config.port })
  const address = app.server.address() as AddressInfo
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${host}:${address.port}`
  app.log.info({ url, domain: config.domain, maxDeadlineMs: config.maxDeadlineMs }, 'sandbox operator listening')

  let closing: Promise<void> | undefined
  return {
    url,
    host: config.host,
    port: address.port,
    get domain() { return state.config.domain },
    maxDeadlineMs: config.maxDeadlineMs,
    now,
    fund: (wallet, asset, amount) => void fundWallet(state, wallet, asset, amount),
    setMark: (market, price) => moveMark(state, market, price).fills,
    setFaults: (faults) => {
      state.faults = mergeFaults(state.faults, faults)
      streams.rearm()
      return state.faults
    },
    setDomain: (change) => changeDomain(state, change),
    advanceClock,
    streamCount: () => streams.size,
    state,
    close: () => (closing ??= app.close().then(() => undefined)),
  }
}
