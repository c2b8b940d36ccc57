import type { ApiDeps } from '../ApiDeps.js'

/** Options every route plugin receives. */
export type RouteOptions = { deps: ApiDeps }

/** Security requirement of tenant routes in the OpenAPI document. */
export const tenantSecurity = [{ apiKey: [] }]
export const adminSecurity = [{ adminToken: [] }]

/** Hands new outbox rows to the queue now when the worker runs in this process. */
export async function relayNow(deps: ApiDeps): Promise<void> {
  await deps.relay?.()
}
