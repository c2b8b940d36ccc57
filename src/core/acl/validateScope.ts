import { type AclAction, UNRESTRICTED, isAclAction, requestFamilies } from './actions.js'

/**
 * Checks an aclScope against PROTOCOL.md §3: non-empty, known actions, no
 * duplicates, canonical order; or exactly ["Unrestricted"]. Returns every problem.
 */
export function scopeProblems(scope: readonly unknown[]): string[] {
  const problems: string[] = []
  if (scope.length === 0) return ['aclScope: must not be empty']
  const unknown = scope.filter((action) => !isAclAction(action))
  if (unknown.length) problems.push(`aclScope: unknown action(s) ${unknown.map((a) => JSON.stringify(a)).join(', ')}`)
  if (new Set(scope).size !== scope.length) problems.push('aclScope: must not contain duplicates')
  if (scope.includes(UNRESTRICTED) && scope.length !== 1) problems.push('aclScope: "Unrestricted" must stand alone')
  const known = scope.filter((action): action is AclAction => isAclAction(action) && action !== UNRESTRICTED)
  const order = known.map((action) => requestFamilies.indexOf(action as (typeof requestFamilies)[number]))
  if (order.some((index, i) => i > 0 && index <= order[i - 1]!)) {
    problems.push(`aclScope: must be in canonical order ${requestFamilies.join(', ')}`)
  }
  return problems
}

export function isValidScope(scope: readonly unknown[]): scope is AclAction[] {
  return scopeProblems(scope).length === 0
}
