import { inspect } from 'node:util'
import { PrivyClient } from '@privy-io/node'
import { createViemAccount } from '@privy-io/node/viem'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import { keyAuthorizer } from '../../src/signers/privy/authorizers.js'
import { generateAuthorizationKeyPair } from '../../src/signers/privy/generateAuthorizationKeyPair.js'
import { AuthorizationPrivateKey } from '../../src/signers/privy/AuthorizationPrivateKey.js'
import { PrivyWalletSigner } from '../../src/signers/privy/PrivyWalletSigner.js'
import { toPrivyTypedData } from '../../src/signers/privy/toPrivyTypedData.js'
import type { PrivyApiOptions } from '../../src/signers/privy/PrivyApi.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'
import { apiFor, createSessionSigner, delegatedUser, delegationFor, type SessionSigner } from './support/fixtures.js'

let privy: LocalPrivy
beforeEach(async () => {
  privy = await startLocalPrivy()
})
afterEach(async () => {
  await privy.close()
})

function signerFor(walletId: string, address: Hex, keys: AuthorizationPrivateKey[], api: Partial<PrivyApiOptions> = {}) {
  return new PrivyWalletSigner({ api: apiFor(privy, api), walletId, address, authorizer: keyAuthorizer(keys) })
}

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error('expected a rejection')
}

describe('PrivyWalletSigner against the local Privy', () => {
  let signer: SessionSigner
  let walletKey: Hex
  let wallet: ReturnType<typeof delegatedUser>['wallet']
  beforeEach(() => {
    signer = createSessionSigner(privy)
    walletKey = generatePrivateKey()
    wallet = delegatedUser(privy, signer, { privateKey: walletKey }).wallet
  })

  it('obtains the Delegation signature, recovering to the wallet and equal to a local signature', async () => {
    const typedData = delegationFor(wallet.address)
    const signature = await signerFor(wallet.id, wallet.address, signer.keys).signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(wallet.address)
    expect(signature).toBe(await LocalWalletSigner.fromPrivateKey(walletKey).signDelegation(typedData))
    const seen = privy.requests.at(-1)!
    expect(seen.path).toBe(`/v1/wallets/${wallet.id}/rpc`)
    expect(seen.headers['privy-idempotency-key']).toMatch(/^deputy-delegation-[a-z0-9]+-[0-9a-f]{64}$/)
    expect(Number(seen.headers['privy-request-expiry'])).toBeGreaterThan(Date.now())
  })

  it('@privy-io/node signs the same Delegation through the local Privy, by RPC and by its viem account', async () => {
    const client = new PrivyClient({ appId: privy.appId, appSecret: privy.appSecret, apiUrl: privy.url, maxRetries: 0 })
    const typedData = delegationFor(wallet.address, { nonce: 8n })
    const authorization_context = { authorization_private_keys: signer.privateKeys }
    const viaRpc = await client.wallets().ethereum().signTypedData(wallet.id, { params: { typed_data: toPrivyTypedData(typedData) }, authorization_context })
    expect(await recoverTypedDataAddress({ ...typedData, signature: viaRpc.signature as Hex })).toBe(wallet.address)

    // The SDK's viem account sends uints as hex strings and no EIP712Domain type.
    const account = createViemAccount(client, { walletId: wallet.id, address: wallet.address, authorizationContext: authorization_context })
    const viaViem = await account.signTypedData(typedData)
    expect(viaViem).toBe(viaRpc.signature)
    const ours = await signerFor(wallet.id, wallet.address, signer.keys).signDelegation(typedData)
    expect(ours).toBe(viaRpc.signature)
  })

  it('replays, not re-signs, a repeated Delegation (same idempotency key, same body)', async () => {
    const typedData = delegationFor(wallet.address)
    const deputy = signerFor(wallet.id, wallet.address, signer.keys)
    const first = await deputy.signDelegation(typedData)
    const second = await deputy.signDelegation(typedData)
    expect(second).toBe(first)
    expect(privy.signCount).toBe(1)
    await deputy.signDelegation(delegationFor(wallet.address, { nonce: 99n }))
    expect(privy.signCount).toBe(2)
  })

  it('retries 429 and 5xx with the same request, and a lost response is answered from the idempotency store', async () => {
    const deputy = signerFor(wallet.id, wallet.address, signer.keys)
    privy.fail({ status: 429, code: 'too_many_requests', retryAfterSeconds: 0 }, { status: 500 }, { status: 503 })
    const typedData = delegationFor(wallet.address)
    const signature = await deputy.signDelegation(typedData)
    expect(privy.requests).toHaveLength(4)
    expect(new Set(privy.requests.map((request) => request.headers['privy-authorization-signature'])).size).toBe(1)

    privy.dropResponses(1)
    const again = delegationFor(wallet.address, { nonce: 8n })
    const replayed = await deputy.signDelegation(again)
    expect(await recoverTypedDataAddress({ ...again, signature: replayed })).toBe(wallet.address)
    expect(privy.signCount).toBe(2)
    expect(signature).not.toBe(replayed)

    // The answer's headers arrive, then the connection resets mid-body: the same unknown outcome,
    // resent with the same key (Privy answers the signature it made), not an unclassified error.
    privy.cutResponseBodies(1)
    const cut = delegationFor(wallet.address, { nonce: 9n })
    const afterCut = await deputy.signDelegation(cut)
    expect(await recoverTypedDataAddress({ ...cut, signature: afterCut })).toBe(wallet.address)
    expect(privy.signCount).toBe(3)
  })

  it('retries 408 and 409 with the same request, as @privy-io/node does (a request timeout, or the same idempotency key still in progress)', async () => {
    const deputy = signerFor(wallet.id, wallet.address, signer.keys)
    privy.fail({ status: 408 }, { status: 409 })
    const typedData = delegationFor(wallet.address)
    const signature = await deputy.signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(wallet.address)
    expect(privy.requests).toHaveLength(3)
    expect(new Set(privy.requests.map((request) => request.headers['privy-authorization-signature'])).size).toBe(1)

    // The official client, against the same answers, does the same.
    const client = new PrivyClient({ appId: privy.appId, appSecret: privy.appSecret, apiUrl: privy.url, maxRetries: 2 })
    privy.fail({ status: 408 }, { status: 409 })
    const again = delegationFor(wallet.address, { nonce: 8n })
    const viaSdk = await client.wallets().ethereum().signTypedData(wallet.id, { params: { typed_data: toPrivyTypedData(again) }, authorization_context: { authorization_private_keys: signer.privateKeys } })
    expect(await recoverTypedDataAddress({ ...again, signature: viaSdk.signature as Hex })).toBe(wallet.address)

    privy.fail(...Array.from({ length: 4 }, () => ({ status: 409 })))
    expect(await rejection(deputy.signDelegation(delegationFor(wallet.address, { nonce: 9n })))).toMatchObject({ code: 'PRIVY.CONFLICT', status: 409, retryable: true })
  })

  it('reads an error code that names no documented one by its status, also one named like an Object property', async () => {
    const deputy = signerFor(wallet.id, wallet.address, signer.keys)
    for (const code of ['constructor', '__proto__', 'toString', 'not_a_privy_code']) {
      privy.fail({ status: 400, code })
      expect(await rejection(deputy.signDelegation(delegationFor(wallet.address)))).toMatchObject({ code: 'PRIVY.INVALID_DATA', status: 400, privyCode: code, retryable: false })
    }
  })

  it('gives up after the bounded attempts, or at once when Retry-After exceeds the cap, as retryable errors', async () => {
    const deputy = signerFor(wallet.id, wallet.address, signer.keys)
    privy.fail(...Array.from({ length: 4 }, () => ({ status: 503 })))
    expect(await rejection(deputy.signDelegation(delegationFor(wallet.address)))).toMatchObject({ code: 'PRIVY.UNAVAILABLE', retryable: true, status: 503 })
    expect(privy.requests).toHaveLength(4)

    privy.fail({ status: 429, code: 'too_many_requests', retryAfterSeconds: 30 })
    expect(await rejection(deputy.signDelegation(delegationFor(wallet.address)))).toMatchObject({ code: 'PRIVY.RATE_LIMITED', retryable: true, retryAfterMs: 30_000 })
    expect(privy.requests).toHaveLength(5)
  })

  it('meets an m-of-n quorum only with m keys, all of them the quorum\'s', async () => {
    const quorum = createSessionSigner(privy, 3, 2)
    const { wallet: quorumWallet } = delegatedUser(privy, quorum)
    const typedData = delegationFor(quorumWallet.address)
    const one = await rejection(signerFor(quorumWallet.id, quorumWallet.address, quorum.keys.slice(0, 1)).signDelegation(typedData))
    expect(one).toMatchObject({ name: 'PrivyError', code: 'PRIVY.INSUFFICIENT_SIGNATURES', status: 401, privyCode: 'insufficient_correct_authorization_signatures', retryable: false })
    const two = await signerFor(quorumWallet.id, quorumWallet.address, [quorum.keys[2]!, quorum.keys[0]!]).signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature: two })).toBe(quorumWallet.address)
    // A key left in PRIVY_AUTHORIZATION_KEYS that is not the quorum's (say, rotated out of it): Privy
    // refuses the request, even with a threshold of the quorum's own signatures beside it.
    const stranger = AuthorizationPrivateKey.parse(generateAuthorizationKeyPair().privateKey)
    const leftover = await rejection(signerFor(quorumWallet.id, quorumWallet.address, [quorum.keys[2]!, stranger, quorum.keys[0]!]).signDelegation(typedData))
    expect(leftover).toMatchObject({ code: 'PRIVY.INCORRECT_SIGNATURE_COUNT', status: 401, privyCode: 'incorrect_quantity_of_authorization_signatures', retryable: false })
    expect(leftover.hint).toContain('only keys of the signer\'s key quorum')
  })

  it.each([
    ['a key outside the quorum', 'wrong-key', 'PRIVY.ZERO_CORRECT_SIGNATURES', 'zero_correct_authorization_signatures'],
    ['no signature at all', 'none', 'PRIVY.MISSING_AUTHORIZATION_SIGNATURE', 'missing_or_empty_authorization_header'],
    ['a body changed after signing', 'tamper', 'PRIVY.ZERO_CORRECT_SIGNATURES', 'zero_correct_authorization_signatures'],
    ['a signature for another URL (PRIVY_API_URL mismatch)', 'other-url', 'PRIVY.ZERO_CORRECT_SIGNATURES', 'zero_correct_authorization_signatures'],
  ])('refuses %s with 401', async (_, variant, code, privyCode) => {
    const typedData = delegationFor(wallet.address)
    const tamper: typeof fetch = (input, init) => {
      const body = JSON.parse(String(init?.body)) as { params: { typed_data: { message: { nonce: string } } } }
      body.params.typed_data.message.nonce = '8'
      return fetch(input, { ...init, body: JSON.stringify(body) })
    }
    const keys = variant === 'wrong-key' ? [AuthorizationPrivateKey.parse(generateAuthorizationKeyPair().privateKey)] : variant === 'none' ? [] : signer.keys
    // A proxy in between: Deputy signs for https://api.privy.io, Privy sees its own URL.
    const proxy: typeof fetch = (input, init) => fetch(String(input).replace('https://api.privy.io', privy.url), init)
    const api = variant === 'tamper' ? { fetch: tamper } : variant === 'other-url' ? { apiUrl: 'https://api.privy.io', fetch: proxy } : {}
    const error = await rejection(signerFor(wallet.id, wallet.address, keys, api).signDelegation(typedData))
    expect(error).toMatchObject({ name: 'PrivyError', code, status: 401, privyCode, retryable: false })
    expect(privy.signCount).toBe(0)
  })

  it('refuses a request whose expiry has passed with 400 request_expired', async () => {
    const late = signerFor(wallet.id, wallet.address, signer.keys, { now: () => Date.now() - 600_000 })
    const error = await rejection(late.signDelegation(delegationFor(wallet.address)))
    expect(error).toMatchObject({ code: 'PRIVY.REQUEST_EXPIRED', status: 400, privyCode: 'request_expired', retryable: false })
    expect(String(error.message)).toContain('clock')
  })

  it('refuses wrong app credentials and unknown wallets with their own codes', async () => {
    const typedData = delegationFor(wallet.address)
    const badSecret = signerFor(wallet.id, wallet.address, signer.keys, { appSecret: 'not-the-secret-value' })
    const auth = await rejection(badSecret.signDelegation(typedData))
    expect(auth).toMatchObject({ code: 'PRIVY.APP_AUTH_FAILED', status: 401 })
    expect(JSON.stringify(auth) + String(auth.message) + inspect(badSecret)).not.toContain('not-the-secret-value')
    const unknown = await rejection(signerFor('nosuchwallet0000000000000', wallet.address, signer.keys).signDelegation(typedData))
    expect(unknown).toMatchObject({ code: 'PRIVY.NOT_FOUND', status: 404 })
  })

  it('refuses a signature that does not recover to the configured address', async () => {
    const other = privy.state.createWallet().address
    const error = await rejection(signerFor(wallet.id, other, signer.keys).signDelegation(delegationFor(other)))
    expect(error).toMatchObject({ code: 'PRIVY.SIGNATURE_MISMATCH', retryable: false })
  })

  it('re-authorises when the user removed the session signer: zero correct signatures', async () => {
    const deputy = signerFor(wallet.id, wallet.address, signer.keys)
    await deputy.signDelegation(delegationFor(wallet.address))
    privy.state.removeSessionSigners(wallet.id)
    const error = await rejection(deputy.signDelegation(delegationFor(wallet.address, { nonce: 8n })))
    expect(error).toMatchObject({ code: 'PRIVY.ZERO_CORRECT_SIGNATURES' })
    expect(String(error.message)).toContain('removed')
  })
})
