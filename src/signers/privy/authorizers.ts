import type { AuthorizationPrivateKey } from './AuthorizationPrivateKey.js'
import type { RequestAuthorizer } from './PrivyApi.js'

/** The app's own authorization keys (the session signer's key quorum members). */
export function keyAuthorizer(keys: readonly AuthorizationPrivateKey[]): RequestAuthorizer {
  const held = [...keys]
  return {
    signatures: (payload) => Promise.resolve(held.map((key) => key.sign(payload))),
  }
}

/** Several authorizers at once (a quorum of app keys plus a user key): all signatures, comma-joined by the API. */
export function combinedAuthorizer(parts: readonly RequestAuthorizer[]): RequestAuthorizer {
  return {
    signatures: async (payload) => (await Promise.all(parts.map((part) => part.signatures(payload)))).flat(),
    invalidate: () => parts.forEach((part) => part.invalidate?.()),
  }
}
