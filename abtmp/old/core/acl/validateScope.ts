import { type AclAction, type RequestFamily, UNRESTRICTED, isAclAction, isRequestFamily, requestFamilies } from './actions.js'

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`
}

/**
 * Checks an aclScope against PROTOCOL.md §3: non-empty, known actions, no
 * duplicates, canonical order; or exactly ["Unrestricted"]. Returns every problem.
 */
export function scopeProblems(scope: readonly unknown[]): string[] {
  if (!Array.isArray(scope)) return ['aclScope: must be an array of actions']
  if (scope.length === 0) return ['aclScope: must not be empty']
  const problems: string[] = []
  const unknown = scope.filter((action) => !isAclAction(action))
  if (unknown.length) problems.push(`aclScope: unknown action(s) ${unknown.map(show).join(', ')}`)
  if (new Set(scope).size !== scope.length) problems.push('aclScope: must not contain duplicates')
  if (scope.includes(UNRESTRICTED) && scope.length !== 1) problems.push('aclScope: "Unrestricted" must stand alone')
  // Strictly decreasing only: a repeated action is reported as a duplicate, not also as disorder.
  const order = scope.filter(isRequestFamily).map((action: RequestFamily) => requestFamilies.indexOf(action))
  if (order.some((index, i) => i > 0 && index < order[i - 1]!)) {
    problems.push(`aclScope: must be in canonical order ${requestFamilies.join(', ')}`)
  }
  return problems
}

export function isValidScope(scope: readonly unknown[]): scope is AclAction[] {
  return scopeProblems(scope).length === 0
}
