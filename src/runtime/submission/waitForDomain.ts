import { domainChangedAlert } from '../operatorDomain.js'
import type { JobControl, SubmitContext, SubmitResult } from './types.js'

/** How long work waits, while the operator answers another EIP-712 domain, before it looks again. */
export const DOMAIN_WAIT_MS = 5_000

/**
 * Work that would sign (or send bytes signed) while the operator verifies over another domain than
 * this process signs with: nothing goes out, nothing is failed, held or blamed on the session; the
 * job runs again after `DOMAIN_WAIT_MS` (no attempt counted), and the wallet is told why
 * (OPERATOR_DOMAIN_CHANGED, once an hour). Undefined, with no request, while the domain is the same.
 */
export async function waitWhileDomainChanged(ctx: SubmitContext, control: JobControl): Promise<SubmitResult | undefined> {
  const change = await ctx.deps.operatorDomain?.stillChanged()
  if (!change) return undefined
  ctx.deps.alert(domainChangedAlert(ctx.row.walletId, change))
  return control.delay(DOMAIN_WAIT_MS)
}

/** A refusal that the operator's domain explains (or may: its domain could not be read): the same bytes wait, as above. */
export async function waitForDomain(ctx: SubmitContext, control: JobControl): Promise<SubmitResult> {
  const change = ctx.deps.operatorDomain?.changed()
  if (change) ctx.deps.alert(domainChangedAlert(ctx.row.walletId, change))
  return control.delay(DOMAIN_WAIT_MS)
}
