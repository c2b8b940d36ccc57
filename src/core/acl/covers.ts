import { type AclAction, type RequestFamily, UNRESTRICTED, requiredAction } from './actions.js'

/** Whether a delegation with `scope` may send a request of `family`. */
export function covers(scope: readonly AclAction[], family: RequestFamily): boolean {
  return scope.includes(UNRESTRICTED) || scope.includes(requiredAction(family))
}

/** The families of `families` a delegation with `scope` may not send, in their order. */
export function uncovered(scope: readonly AclAction[], families: readonly RequestFamily[]): RequestFamily[] {
  return families.filter((family) => !covers(scope, family))
}
