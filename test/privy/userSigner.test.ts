import { inspect } from 'node:util'
import { PrivyClient } from '@privy-io/node'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { authenticateWithJwt } from '../../src/signers/privy/authenticateWithJwt.js'
import { combinedAuthorizer, keyAuthorizer } from '../../src/signers/privy/authorizers.js'
import { PrivyUserSigner } from '../../src/signers/privy/PrivyUserSigner.js'
import { PrivyWalletSigner } from '../../src/signers/privy/PrivyWalletSigner.js'
import { toPrivyTypedData } from '../../src/signers/privy/toPrivyTypedData.js'
import { verifyAuthorizationSignature } from '../../src/signers/privy/verifyAuthorizationSignature.js'
import { apiFor, createSessionSigner, delegationFor } from './support/fixtures.js'
import { type LocalPrivy, type LocalPrivyOptions, startLocalPrivy } from './support/localPrivy.js'

let privy: LocalPrivy | undefined
afterEach(async () => {
  await privy?.close()
  privy = undefined
})

async function userWithWallet(options: LocalPrivyOptions = {}) {
  privy = await startLocalPrivy(options)
  const { user, wallet } = privy.state.createUserWithWallet()
  return { privy, user, wallet }
}

const exchanges = (local: LocalPrivy) => local.requests.filter((request) => request.path === '/v1/wallets/authenticate').length

describe('user signers (JWT → time-bound user key)', () => {
  it('decrypts the HPKE-sealed user key, which then authorises requests for the user-owned wallet', async () => {
    const { privy, user, wallet } = await userWithWallet()
    const api = apiFor(privy)
    const userKey = await authenticateWithJwt(api, privy.issueUserJwt(user.id))
    expect(userKey.expiresAt).toBeGreaterThan(Date.now())
    expect(userKey.wallets).toEqual([{ id: wallet.id, address: wallet.address }])
    expect(privy.state.userKeys.map((key) => key.publicKey)).toEqual([userKey.key.publicKey])
    const payload = new TextEncoder().encode('payload')
    expect(verifyAuthorizationSignature(userKey.key.sign(payload), payload, userKey.key.publicKey)).toBe(true)
    expect(inspect(userKey)).not.toMatch(/MIG/)
  })

  it('signs a Delegation as the user, exchanging the JWT once for concurrent and repeated signatures', async () => {
    const { privy, user, wallet } = await userWithWallet()
    const api = apiFor(privy)
    let jwtCalls = 0
    const userSigner = new PrivyUserSigner({ api, userJwt: () => (jwtCalls++, privy.issueUserJwt(user.id)) })
    const deputy = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: userSigner })
    const delegations = [1n, 2n, 3n].map((nonce) => delegationFor(wallet.address, { nonce }))
    const signatures = await Promise.all(delegations.map((typedData) => deputy.signDelegation(typedData)))
    for (const [i, typedData] of delegations.entries()) {
      expect(await recoverTypedDataAddress({ ...typedData, signature: signatures[i]! })).toBe(wallet.address)
    }
    await deputy.signDelegation(delegationFor(wallet.address, { nonce: 4n }))
    expect(exchanges(privy)).toBe(1)
    expect(jwtCalls).toBe(1)
    expect(`${String(userSigner)} ${JSON.stringify(userSigner)} ${inspect(userSigner)}`).not.toMatch(/eyJ|MIG/)
  })

  it('recovers from a JWT source that failed once', async () => {
    const { privy, user, wallet } = await userWithWallet()
    const api = apiFor(privy)
    let calls = 0
    const userJwt = () => {
      if (calls++ === 0) throw new Error('session store unavailable')
      return privy.issueUserJwt(user.id)
    }
    const deputy = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: new PrivyUserSigner({ api, userJwt }) })
    await expect(deputy.signDelegation(delegationFor(wallet.address))).rejects.toThrow('session store unavailable')
    const typedData = delegationFor(wallet.address)
    const signature = await deputy.signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(wallet.address)
  })

  it('exchanges again shortly before expires_at', async () => {
    let clock = Date.now()
    const { privy, user, wallet } = await userWithWallet({ now: () => clock, userKeyTtlMs: 120_000 })
    const api = apiFor(privy, { now: () => clock })
    const userSigner = new PrivyUserSigner({ api, userJwt: () => privy.issueUserJwt(user.id), refreshMarginMs: 30_000 })
    const deputy = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: userSigner })
    await deputy.signDelegation(delegationFor(wallet.address, { nonce: 1n }))
    clock += 80_000
    await deputy.signDelegation(delegationFor(wallet.address, { nonce: 2n }))
    expect(exchanges(privy)).toBe(1)
    clock += 15_000 // now within 30 s of expiry
    await deputy.signDelegation(delegationFor(wallet.address, { nonce: 3n }))
    expect(exchanges(privy)).toBe(2)
  })

  it.each([
    ['Privy stores only processed requests under an idempotency key', false],
    ['Privy stores the refusal too (its idempotency guide: "regardless if the request succeeds or errors")', true],
  ])('drops a key Privy reports expired and retries once with a fresh one: %s', async (_, storeAuthorizationFailures) => {
    let serverClock = Date.now()
    const { privy, user, wallet } = await userWithWallet({ now: () => serverClock, userKeyTtlMs: 120_000, storeAuthorizationFailures })
    const api = apiFor(privy)
    const userSigner = new PrivyUserSigner({ api, userJwt: () => privy.issueUserJwt(user.id, 3_600_000), refreshMarginMs: 0 })
    const deputy = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: userSigner, requestExpiryMs: 3_600_000 })
    await deputy.signDelegation(delegationFor(wallet.address, { nonce: 1n }))
    serverClock += 200_000 // Privy's clock is ahead of ours: our cached key looks valid, Privy says expired
    const typedData = delegationFor(wallet.address, { nonce: 2n })
    const signature = await deputy.signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(wallet.address)
    expect(exchanges(privy)).toBe(2)
  })

  it('refuses a bad JWT as PRIVY.USER_JWT_REJECTED without echoing it', async () => {
    const { privy, wallet } = await userWithWallet()
    const api = apiFor(privy)
    const forged = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkaWQ6cHJpdnk6eCJ9.c2lnbmF0dXJl'
    const deputy = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: new PrivyUserSigner({ api, userJwt: () => forged }) })
    const error = await deputy.signDelegation(delegationFor(wallet.address)).then(
      () => undefined,
      (reason: unknown) => reason as Error & Record<string, unknown>,
    )
    expect(error).toMatchObject({ code: 'PRIVY.USER_JWT_REJECTED', status: 401, retryable: false })
    expect(`${error?.message} ${JSON.stringify(error)}`).not.toContain(forged.slice(0, 20))
  })

  it('meets a quorum of the user and an app key together', async () => {
    const { privy, user } = await userWithWallet()
    const appSigner = createSessionSigner(privy)
    const quorum = privy.state.createKeyQuorum({ publicKeys: [appSigner.keys[0]!.publicKey], userIds: [user.id], threshold: 2 })
    const wallet = privy.state.createWallet({ ownerId: quorum })
    const api = apiFor(privy)
    const userSigner = new PrivyUserSigner({ api, userJwt: () => privy.issueUserJwt(user.id) })
    const typedData = delegationFor(wallet.address)
    const both = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: combinedAuthorizer([keyAuthorizer(appSigner.keys), userSigner]) })
    const signature = await both.signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(wallet.address)
    const appOnly = new PrivyWalletSigner({ api, walletId: wallet.id, address: wallet.address, authorizer: keyAuthorizer(appSigner.keys) })
    await expect(appOnly.signDelegation(delegationFor(wallet.address, { nonce: 9n }))).rejects.toMatchObject({ code: 'PRIVY.INSUFFICIENT_SIGNATURES' })
  })

  it('serves @privy-io/node user_jwts the same way (its own HPKE exchange and signature)', async () => {
    const { privy, user, wallet } = await userWithWallet()
    const client = new PrivyClient({ appId: privy.appId, appSecret: privy.appSecret, apiUrl: privy.url, maxRetries: 0 })
    const typedData = delegationFor(wallet.address)
    const { signature } = await client.wallets().ethereum().signTypedData(wallet.id, {
      params: { typed_data: toPrivyTypedData(typedData) },
      authorization_context: { user_jwts: [privy.issueUserJwt(user.id)] },
    })
    expect(await recoverTypedDataAddress({ ...typedData, signature: signature as Hex })).toBe(wallet.address)
    expect(exchanges(privy)).toBe(1)
  })
})
