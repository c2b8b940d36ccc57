import { ValidationError } from '../errors/ValidationError.js'
import { type AclAction, type RequestFamily, UNRESTRICTED, isRequestFamily, requestFamilies } from './actions.js'

export type NarrowestScopeParameters = {
  families: Iterable<RequestFamily>
  /** `Unrestricted` is returned only when the caller explicitly asks for it. */
  unrestricted?: boolean
}

/** The smallest canonical scope that covers every family asked for. */
export function narrowestScope({ families, unrestricted = false }: NarrowestScopeParameters): AclAction[] {
  const wanted = new Set<RequestFamily>()
  // Families are checked even when Unrestricted is asked for: a typo is a bug either way.
  for (const family of families) {
    if (!isRequestFamily(family)) throw new ValidationError('families', `"${String(family)}" is not a request family (${requestFamilies.join(', ')})`)
    wanted.add(family)
  }
  if (unrestricted) return [UNRESTRICTED]
  if (wanted.size === 0) throw new ValidationError('families', 'at least one request family is needed to build a scope')
  return requestFamilies.filter((family) => wanted.has(family))
}
