import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { invalid } from '../SandboxError.js'
import { changeDomain, fundWallet, moveMark } from '../control.js'
import { faultsSchema, mergeFaults } from '../faults.js'
import type { SandboxState } from '../state.js'

type Body = Record<string, unknown>

function object(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body: must be a JSON object')
  return body as Body
}

const clockSchema = z.strictObject({ advanceMs: z.number().int().min(0).max(10 * 365 * 24 * 3600 * 1000) })

/**
 * Sandbox-only controls (PROTOCOL.md §9): fund, mark, faults, a clock
 * shift for expiry tests run over HTTP, and a change of the EIP-712 domain.
 */
export function registerControlRoutes(
  app: FastifyInstance,
  state: SandboxState,
  hooks: { faultsChanged(): void; advanceClock(ms: number): number },
): void {
  app.post('/sandbox/fund', async (request) => {
    const body = object(request.body)
    return fundWallet(state, body.wallet, body.asset, body.amount)
  })
  app.post('/sandbox/mark', async (request) => {
    const body = object(request.body)
    const moved = moveMark(state, body.market, body.price)
    request.log.info(moved, 'sandbox: mark moved')
    return moved
  })
  app.get('/sandbox/faults', async () => ({ faults: state.faults }))
  app.post('/sandbox/faults', async (request) => {
    const parsed = faultsSchema.safeParse(request.body)
    if (!parsed.success) throw invalid(`faults: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`)
    state.faults = mergeFaults(state.faults, parsed.data)
    hooks.faultsChanged()
    request.log.info({ faults: state.faults }, 'sandbox: faults changed')
    return { faults: state.faults }
  })
  app.post('/sandbox/clock', async (request) => {
    const parsed = clockSchema.safeParse(request.body)
    if (!parsed.success) throw invalid('body: { advanceMs: non-negative integer }')
    return { serverTime: hooks.advanceClock(parsed.data.advanceMs) }
  })
  app.post('/sandbox/domain', async (request) => {
    const { name, chainId, verifyingContract, ...rest } = object(request.body)
    const unknown = Object.keys(rest)
    if (unknown.length) throw invalid(`${unknown[0]}: unknown field (name, chainId, verifyingContract)`)
    const domain = changeDomain(state, { name, chainId, verifyingContract })
    request.log.warn({ domain }, 'sandbox: EIP-712 domain changed')
    return { domain }
  })
}
