/** Request families the operator accepts (PROTOCOL.md §4), in canonical scope order. */
export const requestFamilies = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] as const
export type RequestFamily = (typeof requestFamilies)[number]

export const UNRESTRICTED = 'Unrestricted'
export type AclAction = RequestFamily | typeof UNRESTRICTED
export const aclActions: readonly AclAction[] = [...requestFamilies, UNRESTRICTED]

export function isRequestFamily(value: unknown): value is RequestFamily {
  return typeof value === 'string' && (requestFamilies as readonly string[]).includes(value)
}

export function isAclAction(value: unknown): value is AclAction {
  return typeof value === 'string' && (aclActions as readonly string[]).includes(value)
}

/** The ACL action a family requires: the family's own name. */
export function requiredAction(family: RequestFamily): RequestFamily {
  return family
}
