import type { RequestFamily } from '../../core/acl/actions.js'
import type { ActiveSession } from '../sessionSigners.js'
import { grantsAutomatically } from '../sessions/grantsAutomatically.js'
import { holdForScope } from './hold.js'
import { settleDone } from './settle.js'
import type { FamilySpec, SubmitContext, SubmitResult } from './types.js'

/**
 * Work the session's scope does not cover, signed for the first time (`runSubmission`) or again
 * (`signAgain`): settled done when the family has nothing left to do without it (`doneWithoutScope`),
 * or, for a placement or a modification of a wallet whose sessions the worker grants itself, held
 * for a scope change (`holdForScope`); so is work that is always held so (`holdsForScope`: the
 * reconciler's cancel of an order live at the operator, an orphan's or one recorded ended here).
 * Undefined otherwise: the caller fails it as out of scope.
 */
export async function meetOutOfScope<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, session: ActiveSession): Promise<SubmitResult | undefined> {
  const done = spec.doneWithoutScope?.(ctx)
  if (done) return settleDone(ctx, spec, done, 'skipped')
  const always = spec.holdsForScope?.(ctx)
  if (always) return holdForScope(ctx, spec, session, { what: always, rotated: await grantsAutomatically(ctx.deps, ctx.row.walletId) })
  if ((spec.family === 'Order' || spec.family === 'ModifyOrder') && (await grantsAutomatically(ctx.deps, ctx.row.walletId))) return holdForScope(ctx, spec, session, { rotated: true })
  return undefined
}
