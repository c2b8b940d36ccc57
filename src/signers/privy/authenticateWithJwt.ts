import { Chacha20Poly1305 } from '@hpke/chacha20poly1305'
import { CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core'
import { z } from 'zod'
import { AuthorizationPrivateKey } from './AuthorizationPrivateKey.js'
import { PrivyError } from './errors.js'
import type { PrivyApi } from './PrivyApi.js'

// The suite Privy encrypts user keys with: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() })

const authenticateResponse = z.object({
  encrypted_authorization_key: z.object({
    encryption_type: z.literal('HPKE'),
    encapsulated_key: z.string().min(1),
    ciphertext: z.string().min(1),
  }),
  /** Unix milliseconds. */
  expires_at: z.number(),
  wallets: z.array(z.object({ id: z.string(), address: z.string() }).loose()).optional(),
})

export type UserAuthorizationKey = {
  key: AuthorizationPrivateKey
  /** Unix milliseconds after which Privy no longer accepts the key. */
  expiresAt: number
  /** Ids and addresses of the wallets the user key may sign for. */
  wallets: { id: string; address: string }[]
}

/**
 * Exchanges a user's JWT for a time-bound user key (`POST /v1/wallets/authenticate`),
 * as @privy-io/node does: a fresh HPKE recipient key per exchange, its public
 * key sent as base64 SPKI, the answer decrypted to the base64 PKCS#8 user key.
 * The JWT and the key never appear in errors.
 */
export async function authenticateWithJwt(api: PrivyApi, userJwt: string): Promise<UserAuthorizationKey> {
  const recipient = await suite.kem.generateKeyPair()
  const spki = await globalThis.crypto.subtle.exportKey('spki', recipient.publicKey)
  const raw = await api.post({
    path: '/v1/wallets/authenticate',
    operation: 'authenticate',
    body: { user_jwt: userJwt, encryption_type: 'HPKE', recipient_public_key: Buffer.from(spki).toString('base64') },
    // A repeat only mints another short-lived key.
    idempotent: true,
  })
  const parsed = authenticateResponse.safeParse(raw)
  if (!parsed.success) {
    throw new PrivyError('Privy answered authenticate without an HPKE-encrypted key', {
      code: 'PRIVY.BAD_RESPONSE',
      retryable: false,
      hint: 'the app may be set to return unencrypted user keys; Deputy only accepts encryption_type HPKE.',
    })
  }
  const encrypted = parsed.data.encrypted_authorization_key
  let plaintext: ArrayBuffer
  try {
    const context = await suite.createRecipientContext({ recipientKey: recipient.privateKey, enc: Buffer.from(encrypted.encapsulated_key, 'base64') })
    plaintext = await context.open(Buffer.from(encrypted.ciphertext, 'base64'))
  } catch (cause) {
    throw new PrivyError('the user key from Privy does not decrypt', {
      code: 'PRIVY.BAD_RESPONSE',
      retryable: true,
      hint: 'the HPKE answer was not sealed to the recipient key this exchange sent; retry the exchange.',
      cause,
    })
  }
  return {
    key: AuthorizationPrivateKey.parse(new TextDecoder().decode(plaintext), 'user key from Privy'),
    expiresAt: parsed.data.expires_at,
    wallets: (parsed.data.wallets ?? []).map(({ id, address }) => ({ id, address })),
  }
}
