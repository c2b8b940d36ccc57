import { type AclAction, type RequestFamily, UNRESTRICTED, requestFamilies } from './actions.js'
import { covers } from './covers.js'

export type RoutineScopeParameters = {
  /** The scope of the session replaced (the wallet's last live one). */
  current: readonly AclAction[]
  /** The scope the user chose explicitly (the API's `families`, `needs` or `unrestricted`); null when the worker chose it. */
  chosen: readonly AclAction[] | null
  /** What the wallet's work needs now: its default or chosen families, its schedules', its queued and in-flight work's. */
  needed: Iterable<RequestFamily>
  /** Held work the current scope does not cover (a scope change). */
  adding?: Iterable<RequestFamily>
}

/**
 * The scope a routine rotation asks for (session maintenance: before expiry, for a scope change,
 * after a refusal): the families `needed` that the current scope covers, every family the user chose
 * (kept as chosen), and `adding`. Never wider than the current scope but for `adding`; narrower when
 * it holds a family nothing needs any more and the user did not choose (ModifyOrder added once for a
 * modify since done). A chosen Unrestricted stays Unrestricted. Feed the result to `narrowestScope`.
 */
export function routineScope({ current, chosen, needed, adding = [] }: RoutineScopeParameters): { families: RequestFamily[]; unrestricted: boolean } {
  if (chosen?.includes(UNRESTRICTED)) return { families: [...requestFamilies], unrestricted: true }
  const needs = new Set(needed)
  const added = new Set(adding)
  const families = requestFamilies.filter((family) => (needs.has(family) && covers(current, family)) || chosen?.includes(family) || added.has(family))
  // Nothing the current scope covers is needed (a scope nobody would ask for): kept as it is.
  if (families.length === 0) return { families: requestFamilies.filter((family) => covers(current, family)), unrestricted: false }
  return { families, unrestricted: false }
}
