import { generateP256KeyPair, PrivyClient } from '@privy-io/node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { authenticateWithJwt } from '../../src/signers/privy/authenticateWithJwt.js'
import { keyAuthorizer } from '../../src/signers/privy/authorizers.js'
import { fetchDelegatedWallets } from '../../src/signers/privy/fetchDelegatedWallets.js'
import { listDelegatedWallets } from '../../src/signers/privy/listDelegatedWallets.js'
import { PrivyWalletSigner } from '../../src/signers/privy/PrivyWalletSigner.js'
import { toPrivyTypedData } from '../../src/signers/privy/toPrivyTypedData.js'
import { apiFor, createSessionSigner, delegatedUser, delegationFor } from './support/fixtures.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'

// For each call Deputy makes, the request on the wire is compared with the one @privy-io/node
// makes for the same call: URL, method, credentials, the Privy headers and the body. With the same
// key, expiry and idempotency key the authorization signature must be byte-identical (RFC 6979).

type Sent = { url: string; method: string; headers: Record<string, string>; body: string | undefined }

function recording(sent: Sent[]): typeof fetch {
  return (input, init) => {
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value
    })
    sent.push({ url: String(input), method: init?.method ?? 'GET', headers, body: typeof init?.body === 'string' ? init.body : undefined })
    return fetch(input, init)
  }
}

const PRIVY_HEADERS = ['authorization', 'privy-app-id', 'privy-authorization-signature', 'privy-idempotency-key', 'privy-request-expiry']
const privyHeaders = (request: Sent) => Object.fromEntries(PRIVY_HEADERS.map((name) => [name, request.headers[name]]))

let privy: LocalPrivy
let ours: Sent[]
let theirs: Sent[]
let client: PrivyClient
beforeEach(async () => {
  privy = await startLocalPrivy()
  ours = []
  theirs = []
  client = new PrivyClient({ appId: privy.appId, appSecret: privy.appSecret, apiUrl: privy.url, maxRetries: 0, fetch: recording(theirs) })
})
afterEach(async () => {
  await privy.close()
})

describe('Deputy sends what @privy-io/node sends', () => {
  it('POST /v1/wallets/{id}/rpc eth_signTypedData_v4: same URL, credentials, Privy headers, body and signature', async () => {
    const signer = createSessionSigner(privy)
    const { wallet } = delegatedUser(privy, signer)
    const typedData = delegationFor(wallet.address)
    const expiry = Date.now() + 120_000
    const deputy = new PrivyWalletSigner({
      api: apiFor(privy, { fetch: recording(ours), now: () => expiry - 120_000 }),
      walletId: wallet.id, address: wallet.address, authorizer: keyAuthorizer(signer.keys), requestExpiryMs: 120_000,
    })
    const signature = await deputy.signDelegation(typedData)
    const response = await client.wallets().rpc(wallet.id, {
      method: 'eth_signTypedData_v4',
      params: { typed_data: toPrivyTypedData(typedData) },
      idempotency_key: deputy.idempotencyKey(typedData),
      request_expiry: expiry,
      authorization_context: { authorization_private_keys: signer.privateKeys },
    })
    expect(response).toMatchObject({ method: 'eth_signTypedData_v4', data: { signature } })

    expect(ours).toHaveLength(1)
    expect(theirs).toHaveLength(1)
    const [a, b] = [ours[0]!, theirs[0]!]
    expect([a.method, a.url]).toEqual([b.method, b.url])
    expect(privyHeaders(a)).toEqual(privyHeaders(b))
    expect(a.headers['privy-authorization-signature']).toMatch(/^[A-Za-z0-9+/]+={0,2}$/)
    expect(a.headers['content-type']).toBe(b.headers['content-type'])
    expect(JSON.parse(a.body!)).toEqual(JSON.parse(b.body!))
  })

  it('POST /v1/wallets/authenticate: same URL, credentials, no signature, the same body fields', async () => {
    const { user } = privy.state.createUserWithWallet()
    await authenticateWithJwt(apiFor(privy, { fetch: recording(ours) }), privy.issueUserJwt(user.id))
    // The SDK's recipient key is its own HPKE key; any P-256 SPKI stands for it here.
    const { publicKey } = await generateP256KeyPair()
    await client.wallets().authenticateWithJwt({ user_jwt: privy.issueUserJwt(user.id), encryption_type: 'HPKE', recipient_public_key: publicKey })

    const [a, b] = [ours[0]!, theirs[0]!]
    expect([a.method, a.url]).toEqual([b.method, b.url])
    expect(privyHeaders(a)).toEqual(privyHeaders(b))
    expect(a.headers['privy-authorization-signature']).toBeUndefined()
    expect(a.headers['content-type']).toBe(b.headers['content-type'])
    const [ourBody, theirBody] = [JSON.parse(a.body!) as Record<string, unknown>, JSON.parse(b.body!) as Record<string, unknown>]
    expect(Object.keys(ourBody).sort()).toEqual(Object.keys(theirBody).sort())
    expect(ourBody.encryption_type).toBe(theirBody.encryption_type)
  })

  it('GET /v1/users/{id}: same URL (did:privy:… as the SDK encodes it) and credentials; the SDK-typed user lists the same delegated wallet', async () => {
    const signer = createSessionSigner(privy)
    const { user, wallet } = delegatedUser(privy, signer)
    const found = await fetchDelegatedWallets(apiFor(privy, { fetch: recording(ours) }), user.id)
    const sdkUser = await client.users()._get(user.id)
    expect(found).toEqual([{ walletId: wallet.id, address: wallet.address }])
    expect(listDelegatedWallets(sdkUser)).toEqual(found)

    const [a, b] = [ours[0]!, theirs[0]!]
    expect([a.method, a.url]).toEqual([b.method, b.url])
    expect(privyHeaders(a)).toEqual(privyHeaders(b))
    expect(a.body).toBeUndefined()
  })
})
