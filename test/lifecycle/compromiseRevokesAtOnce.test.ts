/**
 * A compromise revokes the wallet's sessions at the operator all at once: an operator slow to answer
 * one revocation (here held on the wire) must not keep the others' keys valid at the operator, where
 * an attacker holding them can still trade, until it answers (up to OPERATOR_TIMEOUT_MS each).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from './support/gateProxy.js'
import { activeWallet, eventually, grant, operatorDelegation, rows } from './support/lifecycle.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  gate = await startGateProxy(h.sandbox.url)
  // A held revocation must stay on the wire for the whole test, not time out.
  worker = await h.startWorker({ operatorUrl: gate.url, operatorTimeoutMs: 60_000, maintenanceIntervalMs: 3_600_000 })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

it('sends every session\'s revocation while the first one is still on the wire', async () => {
  const r = rows(h.db)
  const w = await activeWallet(h)
  // Rotated twice: the older sessions still live at the operator in their grace period.
  const second = (await grant(h, w)).session
  const third = (await grant(h, w)).session
  const live = [w.session, second, third]
  expect((await Promise.all(live.map((s) => r.session(s.id)))).map((s) => s.status).sort()).toEqual(['active', 'rotating', 'rotating'])
  const payloads = new Set(live.map((s) => s.delegatedPayload!.toLowerCase()))
  const held = gate.holdRevocations((delegation) => payloads.has(delegation.toLowerCase()))
  const compromise = compromiseWallet(worker.deps, h.keyring, { walletId: w.wallet.id, reason: 'session keys found in a log' })
  // Every revocation reaches the operator while none has been answered yet.
  const arrived = await eventually(async () => held.held.length === live.length).catch(() => false)
  const heldAtOnce = held.held.length
  held.release()
  const outcome = await compromise.catch((error: unknown) => error)
  expect({ arrived, heldAtOnce, outcome }).toEqual({ arrived: true, heldAtOnce: live.length, outcome: { revoked: live.length } })
  expect(live.map((s) => operatorDelegation(h.sandbox, s.delegationHash)?.revoked)).toEqual([true, true, true])
})
