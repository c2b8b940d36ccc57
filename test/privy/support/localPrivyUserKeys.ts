import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto'
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305'
import { CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core'

const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() })

const base64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url')

/** Issues and verifies the app's user JWTs (ES256), standing in for Privy access tokens. */
export class LocalJwtIssuer {
  readonly #privateKey: KeyObject
  readonly #publicKey: KeyObject

  constructor(private readonly appId: string) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    this.#privateKey = pair.privateKey
    this.#publicKey = pair.publicKey
  }

  issue(userId: string, nowMs: number, ttlMs: number): string {
    const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))
    const iat = Math.floor(nowMs / 1000)
    const claims = { sid: `session-${userId}`, sub: userId, iss: 'privy.io', aud: this.appId, iat, exp: iat + Math.floor(ttlMs / 1000) }
    const body = base64url(JSON.stringify(claims))
    const signature = sign('sha256', Buffer.from(`${header}.${body}`), { key: this.#privateKey, dsaEncoding: 'ieee-p1363' })
    return `${header}.${body}.${base64url(signature)}`
  }

  /** The user id (`sub`) of a valid, unexpired token for this app, or undefined. */
  verify(token: string, nowMs: number): string | undefined {
    const [header, body, signature] = token.split('.')
    if (!header || !body || !signature) return undefined
    const valid = verify('sha256', Buffer.from(`${header}.${body}`), { key: this.#publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
    if (!valid) return undefined
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { sub?: string; aud?: string; iss?: string; exp?: number }
    if (claims.aud !== this.appId || claims.iss !== 'privy.io' || typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return undefined
    return claims.sub
  }
}

export type MintedUserKey = {
  /** Base64 SPKI, remembered by the server to verify the user's signatures. */
  publicKey: string
  encrypted: { encryption_type: 'HPKE'; encapsulated_key: string; ciphertext: string }
}

/**
 * A fresh P-256 user key, its base64 PKCS#8 sealed with HPKE to the caller's
 * recipient key (base64 SPKI DER, or PEM), as Privy answers /v1/wallets/authenticate.
 */
export async function mintUserKey(recipientPublicKey: string): Promise<MintedUserKey> {
  const recipient = createPublicKey(
    recipientPublicKey.includes('BEGIN PUBLIC KEY')
      ? recipientPublicKey
      : { key: Buffer.from(recipientPublicKey, 'base64'), format: 'der', type: 'spki' },
  )
  const jwk = recipient.export({ format: 'jwk' })
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('recipient key is not P-256')
  const rawPoint = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')])

  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')
  const publicKey = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')

  const sender = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(rawPoint) })
  const ciphertext = await sender.seal(new TextEncoder().encode(pkcs8))
  return {
    publicKey,
    encrypted: {
      encryption_type: 'HPKE',
      encapsulated_key: Buffer.from(sender.enc).toString('base64'),
      ciphertext: Buffer.from(ciphertext).toString('base64'),
    },
  }
}
