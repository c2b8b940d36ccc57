import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { inspect } from 'node:util'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { formatRequestForAuthorizationSignature as sdkFormat, generateAuthorizationSignature as sdkSign, generateP256KeyPair } from '@privy-io/node'
import { describe, expect, it } from 'vitest'
import { AuthorizationPrivateKey, parseAuthorizationKeys } from '../../src/signers/privy/AuthorizationPrivateKey.js'
import {
  type AuthorizationSignatureInput,
  canonicalAuthorizationPayload,
  formatRequestForAuthorizationSignature,
} from '../../src/signers/privy/formatRequestForAuthorizationSignature.js'
import { generateAuthorizationKeyPair } from '../../src/signers/privy/generateAuthorizationKeyPair.js'
import { verifyAuthorizationSignature } from '../../src/signers/privy/verifyAuthorizationSignature.js'

// A fixed key: scalar = SHA-256("deputy privy authorization test vector"); PKCS#8 and
// SPKI below were cross-computed with node:crypto (JWK import, DER export).
const FIXED_PKCS8 =
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgX7RldTDlf7JwD5zYtKfb8oHSvZdpK4St70D+jQ/qomGhRANCAAR9IEITwob2ngCQdue4W1H2rAOvXs2CD+YmFb5W+1ar3MHwmFASt4RC+EttLBwNa86Vg0tLHjxsyQC/85UEI12Z'
const FIXED_SPKI = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfSBCE8KG9p4AkHbnuFtR9qwDr17Ngg/mJhW+VvtWq9zB8JhQEreEQvhLbSwcDWvOlYNLSx48bMkAv/OVBCNdmQ=='

const fixedInput: AuthorizationSignatureInput = {
  version: 1,
  method: 'POST',
  url: 'https://api.privy.io/v1/wallets/clw4cbwqs00009n2bsk3n4f7x/rpc',
  body: {
    method: 'eth_signTypedData_v4',
    params: {
      typed_data: {
        primary_type: 'Delegation',
        domain: { name: 'Venue', version: '1', chainId: 1, verifyingContract: '0x00000000000000000000000000000000000000aa' },
        types: {},
        message: { expiry: '1700000000', note: 'é€😀' },
      },
    },
  },
  headers: { 'privy-app-id': 'cm0000000000000000000app', 'privy-idempotency-key': 'deputy-test-1', 'privy-request-expiry': '1700000000000' },
}

const requests: [string, AuthorizationSignatureInput][] = [
  ['the fixed typed-data request', fixedInput],
  ['no idempotency key, no expiry', { ...fixedInput, headers: { 'privy-app-id': 'app' } }],
  ['an empty object body', { ...fixedInput, body: {} }],
  ['an empty array body', { ...fixedInput, body: [] }],
  ['a nested body with arrays, numbers and nulls', { ...fixedInput, body: { z: [3, { y: null, b: [1.5, -0, 1e21] }], a: { c: true, b: 'x' } } }],
  ['unicode keys and values', { ...fixedInput, body: { 'ä': 'ß', '€': ['😀', '\u2028'], 'a\u0000b': '\t"\\' } }],
  ['an empty idempotency key', { ...fixedInput, headers: { 'privy-app-id': 'app', 'privy-idempotency-key': '' } }],
  ['PATCH with a string body', { ...fixedInput, method: 'PATCH', body: 'raw' }],
]

describe('authorization payload', () => {
  it.each(requests)('equals @privy-io/node byte for byte: %s', (_, input) => {
    const ours = formatRequestForAuthorizationSignature(input)
    // The SDK rewrites an empty body in place; give it its own copy.
    const theirs = sdkFormat(structuredClone(input))
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'))
  })

  it('signs an empty body as "" and leaves the caller object alone', () => {
    const input: AuthorizationSignatureInput = { ...fixedInput, body: {}, headers: { 'privy-app-id': 'app' } }
    expect(canonicalAuthorizationPayload(input)).toBe(`{"body":"","headers":{"privy-app-id":"app"},"method":"POST","url":"${fixedInput.url}","version":1}`)
    expect(input.body).toEqual({})
  })

  it('keeps only the three Privy headers', () => {
    const input = { ...fixedInput, headers: { ...fixedInput.headers, authorization: 'Basic x', 'content-type': 'application/json' } } as AuthorizationSignatureInput
    expect(canonicalAuthorizationPayload(input)).toBe(canonicalAuthorizationPayload(fixedInput))
  })
})

describe('fixed vector', () => {
  const key = AuthorizationPrivateKey.parse(`wallet-auth:${FIXED_PKCS8}`)
  const canonical =
    '{"body":{"method":"eth_signTypedData_v4","params":{"typed_data":{"domain":{"chainId":1,"name":"Venue","verifyingContract":"0x00000000000000000000000000000000000000aa","version":"1"},"message":{"expiry":"1700000000","note":"é€😀"},"primary_type":"Delegation","types":{}}}},"headers":{"privy-app-id":"cm0000000000000000000app","privy-idempotency-key":"deputy-test-1","privy-request-expiry":"1700000000000"},"method":"POST","url":"https://api.privy.io/v1/wallets/clw4cbwqs00009n2bsk3n4f7x/rpc","version":1}'
  // RFC 6979 deterministic, S not normalised (high S here), as @privy-io/node produces it.
  const signature = 'MEYCIQDu2Nrr37+j9KmVzryQoNtORzXHQO2kEwV4Mo46oL0RFgIhAP5MOjZ2rSNLFfqGkluKgP0FDWswnOnnIzpnsTYGqjzd'

  it('derives the public key Privy registers (base64 SPKI), as node:crypto does', () => {
    expect(key.publicKey).toBe(FIXED_SPKI)
    const nodeSpki = createPublicKey(createPrivateKey({ key: Buffer.from(FIXED_PKCS8, 'base64'), format: 'der', type: 'pkcs8' }))
      .export({ type: 'spki', format: 'der' })
      .toString('base64')
    expect(nodeSpki).toBe(FIXED_SPKI)
  })

  it('gives the literal canonical string, SHA-256 digest and DER signature', () => {
    const bytes = formatRequestForAuthorizationSignature(fixedInput)
    expect(Buffer.from(bytes).toString('utf8')).toBe(canonical)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('0aad3723fa2e5fa3aa9d4bc7a4e0fde48c8e1f6c36706b4cb5331d1f5fc2f858')
    expect(key.sign(bytes)).toBe(signature)
    expect(sdkSign({ authorizationPrivateKey: FIXED_PKCS8, input: bytes })).toBe(signature)
  })

  it('hashes exactly once: the signature is over SHA-256(payload), not SHA-256(SHA-256(payload))', () => {
    const der = Buffer.from(signature, 'base64')
    const point = p256.getPublicKey(p256.utils.randomSecretKey(), false) // unrelated key: sanity of the negative
    const digest = createHash('sha256').update(canonical).digest()
    const publicPoint = Buffer.from(FIXED_SPKI, 'base64').subarray(-65)
    expect(p256.verify(der, digest, publicPoint, { prehash: false, lowS: false, format: 'der' })).toBe(true)
    expect(p256.verify(der, createHash('sha256').update(digest).digest(), publicPoint, { prehash: false, lowS: false, format: 'der' })).toBe(false)
    expect(p256.verify(der, digest, point, { prehash: false, lowS: false, format: 'der' })).toBe(false)
    const nodeKey = createPublicKey({ key: Buffer.from(FIXED_SPKI, 'base64'), format: 'der', type: 'spki' })
    expect(nodeVerify('sha256', Buffer.from(canonical), nodeKey, der)).toBe(true)
  })
})

describe('signatures across implementations', () => {
  it('our verifier accepts the SDK signatures and node:crypto accepts ours, for SDK- and Deputy-generated keys', async () => {
    const sdkPair = await generateP256KeyPair()
    const ourPair = generateAuthorizationKeyPair()
    for (const pair of [{ privateKey: sdkPair.privateKey, publicKey: sdkPair.publicKey }, ourPair]) {
      const key = AuthorizationPrivateKey.parse(pair.privateKey)
      expect(key.publicKey).toBe(pair.publicKey)
      for (const [, input] of requests) {
        const payload = formatRequestForAuthorizationSignature(input)
        const theirs = sdkSign({ authorizationPrivateKey: pair.privateKey, input: payload })
        const ours = key.sign(payload)
        expect(ours).toBe(theirs)
        expect(verifyAuthorizationSignature(theirs, payload, pair.publicKey)).toBe(true)
        const nodeKey = createPublicKey({ key: Buffer.from(pair.publicKey, 'base64'), format: 'der', type: 'spki' })
        expect(nodeVerify('sha256', Buffer.from(payload), nodeKey, Buffer.from(ours, 'base64'))).toBe(true)
      }
    }
  })

  it('accepts a node:crypto signature (random k) and refuses a tampered payload or another key', () => {
    const pair = generateAuthorizationKeyPair()
    const payload = formatRequestForAuthorizationSignature(fixedInput)
    const nodeKey = createPrivateKey({ key: Buffer.from(pair.privateKey.slice('wallet-auth:'.length), 'base64'), format: 'der', type: 'pkcs8' })
    const signature = nodeSign('sha256', Buffer.from(payload), nodeKey).toString('base64')
    expect(verifyAuthorizationSignature(signature, payload, pair.publicKey)).toBe(true)
    const tampered = formatRequestForAuthorizationSignature({ ...fixedInput, url: `${fixedInput.url}/` })
    expect(verifyAuthorizationSignature(signature, tampered, pair.publicKey)).toBe(false)
    expect(verifyAuthorizationSignature(signature, payload, generateAuthorizationKeyPair().publicKey)).toBe(false)
    expect(verifyAuthorizationSignature('not base64 !!', payload, pair.publicKey)).toBe(false)
  })
})

describe('authorization private keys', () => {
  it('parses with or without the prefix, as PEM, and from a comma-separated list', () => {
    const pem = `-----BEGIN PRIVATE KEY-----\n${FIXED_PKCS8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----`
    for (const text of [FIXED_PKCS8, `wallet-auth:${FIXED_PKCS8}`, `wallet-api:${FIXED_PKCS8}`, pem]) {
      expect(AuthorizationPrivateKey.parse(text).publicKey).toBe(FIXED_SPKI)
    }
    const other = generateAuthorizationKeyPair()
    const keys = parseAuthorizationKeys(` wallet-auth:${FIXED_PKCS8} ,${other.privateKey},`)
    expect(keys.map((key) => key.publicKey)).toEqual([FIXED_SPKI, other.publicKey])
  })

  it('refuses malformed keys without quoting them', () => {
    const secp256k1 = createPrivateKey({ key: { kty: 'EC', crv: 'secp256k1', ...secp256k1Jwk() }, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' }).toString('base64')
    const corrupted = Buffer.from(FIXED_PKCS8, 'base64')
    corrupted[corrupted.length - 1]! ^= 1
    for (const bad of ['not-a-key', 'AAAA', secp256k1, corrupted.toString('base64'), FIXED_PKCS8.slice(0, 40)]) {
      let thrown: unknown
      try {
        AuthorizationPrivateKey.parse(bad, 'authorization key #1')
      } catch (error) {
        thrown = error
      }
      expect(thrown).toMatchObject({ name: 'PrivyError', code: 'PRIVY.CONFIG', retryable: false })
      expect(String((thrown as Error).message)).not.toContain(bad.slice(0, 16))
    }
  })

  it('never prints the private key', () => {
    const key = AuthorizationPrivateKey.parse(FIXED_PKCS8)
    const scalarHex = Buffer.from(FIXED_PKCS8, 'base64').subarray(36, 68).toString('hex')
    for (const text of [String(key), JSON.stringify(key), inspect(key), inspect({ nested: [key] }, { depth: 5 })]) {
      expect(text).not.toContain(FIXED_PKCS8.slice(40, 80))
      expect(text).not.toContain(scalarHex)
    }
    expect(JSON.parse(JSON.stringify(key))).toEqual({ publicKey: FIXED_SPKI })
  })
})

function secp256k1Jwk(): { d: string; x: string; y: string } {
  const d = secp256k1.utils.randomSecretKey()
  const point = secp256k1.getPublicKey(d, false)
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
  return { d: b64(d), x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) }
}
