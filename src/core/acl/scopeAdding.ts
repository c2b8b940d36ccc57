import { type AclAction, type RequestFamily, UNRESTRICTED, isRequestFamily, requestFamilies } from './actions.js'

/**
 * The narrowest scope covering both `scope` and `families`: what a session is rotated to when work
 * arrives that its scope does not cover (a scope change). An Unrestricted scope covers everything
 * and stays as it is.
 */
export function scopeAdding(scope: readonly AclAction[], families: Iterable<RequestFamily>): AclAction[] {
  if (scope.includes(UNRESTRICTED)) return [UNRESTRICTED]
  const wanted = new Set<string>([...scope.filter(isRequestFamily), ...families])
  return requestFamilies.filter((family) => wanted.has(family))
}
