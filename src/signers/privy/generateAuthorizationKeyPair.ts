import { p256 } from '@noble/curves/nist.js'
import { encodeP256Pkcs8, encodeP256Spki } from './p256Der.js'

export type AuthorizationKeyPair = {
  /** `wallet-auth:` + base64 PKCS#8: a secret, for PRIVY_AUTHORIZATION_KEYS only. */
  privateKey: string
  /** Base64 SPKI: what to register in the Privy key quorum. */
  publicKey: string
}

/**
 * A fresh authorization key pair in Privy's formats, for setups that create
 * keys themselves rather than in the dashboard. The caller owns the secret.
 */
export function generateAuthorizationKeyPair(): AuthorizationKeyPair {
  const secretKey = p256.utils.randomSecretKey()
  const publicPoint = p256.getPublicKey(secretKey, false)
  return {
    privateKey: `wallet-auth:${Buffer.from(encodeP256Pkcs8(secretKey, publicPoint)).toString('base64')}`,
    publicKey: Buffer.from(encodeP256Spki(publicPoint)).toString('base64'),
  }
}
