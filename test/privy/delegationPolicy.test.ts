import { PrivyClient } from '@privy-io/node'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { typesFor } from '../../src/core/eip712/types.js'
import type { DelegationTypedData } from '../../src/core/delegation/delegationTypedData.js'
import { revocationTypedData } from '../../src/core/delegation/revocationTypedData.js'
import { keyAuthorizer } from '../../src/signers/privy/authorizers.js'
import { buildDelegationPolicy } from '../../src/signers/privy/buildDelegationPolicy.js'
import { encodePathSegment } from '../../src/signers/privy/PrivyApi.js'
import { policyFromArgs } from '../../src/signers/privy/policyCli.js'
import { PrivyWalletSigner } from '../../src/signers/privy/PrivyWalletSigner.js'
import { toPrivyTypedData } from '../../src/signers/privy/toPrivyTypedData.js'
import { apiFor, createSessionSigner, delegatedUser, delegationFor, domain, type SessionSigner } from './support/fixtures.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'

let privy: LocalPrivy
beforeEach(async () => {
  privy = await startLocalPrivy()
})
afterEach(async () => {
  await privy.close()
})

const config = { name: domain.name, chainId: domain.chainId, verifyingContract: domain.verifyingContract }

describe('buildDelegationPolicy', () => {
  it('emits ALLOW rules for eth_signTypedData_v4 pinned to the domain and the Delegation struct, and the Revocation struct', () => {
    expect(buildDelegationPolicy(config)).toEqual({
      version: '1.0',
      name: 'Deputy Delegation: Deputy Sandbox',
      chain_type: 'ethereum',
      rules: [
        {
          name: 'Allow Deputy Delegation signatures',
          method: 'eth_signTypedData_v4',
          conditions: [
            { field_source: 'ethereum_typed_data_domain', field: 'chainId', operator: 'eq', value: '8453' },
            { field_source: 'ethereum_typed_data_domain', field: 'verifyingContract', operator: 'eq', value: domain.verifyingContract },
            {
              field_source: 'ethereum_typed_data_message',
              field: 'expiry',
              operator: 'gt',
              value: '0',
              typed_data: {
                primary_type: 'Delegation',
                types: {
                  Delegation: [
                    { name: 'wallet', type: 'address' },
                    { name: 'sessionPublicKey', type: 'bytes' },
                    { name: 'aclScope', type: 'string[]' },
                    { name: 'expiry', type: 'uint64' },
                    { name: 'nonce', type: 'uint64' },
                  ],
                },
              },
            },
          ],
          action: 'ALLOW',
        },
        {
          name: 'Allow Deputy Revocation signatures',
          method: 'eth_signTypedData_v4',
          conditions: [
            { field_source: 'ethereum_typed_data_domain', field: 'chainId', operator: 'eq', value: '8453' },
            { field_source: 'ethereum_typed_data_domain', field: 'verifyingContract', operator: 'eq', value: domain.verifyingContract },
            {
              field_source: 'ethereum_typed_data_message',
              field: 'deadline',
              operator: 'gt',
              value: '0',
              typed_data: { primary_type: 'Revocation', types: { Revocation: [{ name: 'delegation', type: 'bytes32' }, { name: 'deadline', type: 'uint64' }] } },
            },
          ],
          action: 'ALLOW',
        },
      ],
    })
  })

  it('is what the CLI prints, and Privy (via @privy-io/node) accepts it', async () => {
    const printed = policyFromArgs(['--name', domain.name, '--chain-id', '8453', '--verifying-contract', domain.verifyingContract])
    expect(JSON.parse(printed)).toEqual(buildDelegationPolicy(config))
    expect(() => policyFromArgs(['--name', 'x', '--chain-id', '1', '--verifying-contract', '0x12'])).toThrow(/Usage/)
    const client = new PrivyClient({ appId: privy.appId, appSecret: privy.appSecret, apiUrl: privy.url, maxRetries: 0 })
    const created = await client.policies().create(buildDelegationPolicy({ ...config, name: 'a very long operator domain name that overflows' }))
    expect(created).toMatchObject({ version: '1.0', chain_type: 'ethereum', owner_id: null })
    expect(created.name.length).toBeLessThanOrEqual(50)
    expect(created.id).toMatch(/^[a-z0-9]{24}$/)
  })
})

describe('the installed policy, enforced by Privy', () => {
  let signer: SessionSigner
  let wallet: ReturnType<typeof delegatedUser>['wallet']
  let deputy: PrivyWalletSigner
  beforeEach(() => {
    signer = createSessionSigner(privy)
    wallet = delegatedUser(privy, signer).wallet
    deputy = new PrivyWalletSigner({ api: apiFor(privy), walletId: wallet.id, address: wallet.address, authorizer: keyAuthorizer(signer.keys) })
  })

  async function violation(promise: Promise<unknown>) {
    await expect(promise).rejects.toMatchObject({ name: 'PrivyError', code: 'PRIVY.POLICY_VIOLATION', status: 400, privyCode: 'policy_violation', retryable: false })
    expect(privy.signCount).toBe(0)
  }

  it('refuses another verifyingContract', async () => {
    await violation(deputy.signDelegation(delegationFor(wallet.address, { domain: { verifyingContract: '0x000000000000000000000000000000000000dEaD' } })))
  })

  it('refuses another chainId', async () => {
    await violation(deputy.signDelegation(delegationFor(wallet.address, { domain: { chainId: 1 } })))
  })

  it('refuses a primary type other than Delegation, in the same domain', async () => {
    const order = {
      domain,
      types: typesFor('Order'),
      primaryType: 'Order',
      message: {
        delegation: `0x${'11'.repeat(32)}`,
        wallet: wallet.address,
        market: 'ETH-USD',
        side: 0,
        price: 2_000n * 10n ** 18n,
        size: 10n ** 18n,
        timeInForce: 0,
        clientOrderId: `0x${'22'.repeat(16)}`,
        nonce: 1n,
        deadline: 1_900_000_000_000n,
      },
    } as unknown as DelegationTypedData
    await violation(deputy.signDelegation(order))
  })

  it('lets the wallet sign a Revocation in the operator\'s domain (a quarantined session\'s), and in no other', async () => {
    const revocation = revocationTypedData(domain, { delegation: `0x${'33'.repeat(32)}`, deadline: 1_900_000_000_000n })
    const signature = await deputy.signRevocation(revocation)
    expect(await recoverTypedDataAddress({ ...revocation, signature })).toBe(wallet.address)
    const signed = privy.signCount
    await expect(deputy.signRevocation(revocationTypedData({ ...domain, chainId: 1 }, revocation.message))).rejects.toMatchObject({ code: 'PRIVY.POLICY_VIOLATION' })
    expect(privy.signCount).toBe(signed)
  })

  it('refuses a Delegation-named struct with another layout', async () => {
    const typedData = delegationFor(wallet.address)
    const forged = { ...typedData, types: { Delegation: [...typedData.types.Delegation, { name: 'extra', type: 'uint256' }] }, message: { ...typedData.message, extra: 1n } }
    await violation(deputy.signDelegation(forged as unknown as DelegationTypedData))
  })

  it('refuses methods other than typed data (personal_sign, secp256k1_sign), from Deputy and from the SDK', async () => {
    const api = apiFor(privy)
    const path = `/v1/wallets/${encodePathSegment(wallet.id)}/rpc`
    for (const body of [
      { method: 'personal_sign', params: { message: 'hello', encoding: 'utf-8' } },
      { method: 'secp256k1_sign', params: { hash: `0x${'ab'.repeat(32)}` } },
    ]) {
      await violation(api.post({ path, body, operation: body.method, authorizer: keyAuthorizer(signer.keys), idempotent: true }))
    }
    const client = new PrivyClient({ appId: privy.appId, appSecret: privy.appSecret, apiUrl: privy.url, maxRetries: 0 })
    await expect(client.wallets().ethereum().signMessage(wallet.id, { message: 'hello', authorization_context: { authorization_private_keys: signer.privateKeys } })).rejects.toMatchObject({
      status: 400,
      error: { code: 'policy_violation' },
    })
  })

  it('binds one wallet and an expiry horizon when asked to', async () => {
    const policy = privy.state.createPolicy(buildDelegationPolicy({ ...config, wallet: wallet.address, maxExpiry: 1_900_000_000n }))
    privy.state.removeSessionSigners(wallet.id)
    privy.state.addSessionSigner(wallet.id, signer.quorumId, [policy.id])
    const ok = delegationFor(wallet.address)
    const signature = await deputy.signDelegation(ok)
    expect(await recoverTypedDataAddress({ ...ok, signature })).toBe(wallet.address)
    const tooLong = { ...ok, message: { ...ok.message, expiry: 1_900_000_001n } }
    await expect(deputy.signDelegation(tooLong)).rejects.toMatchObject({ code: 'PRIVY.POLICY_VIOLATION' })
    const api = apiFor(privy)
    const otherWallet = { ...ok, message: { ...ok.message, wallet: '0x000000000000000000000000000000000000bEEF' as Hex } }
    await expect(
      api.post({
        path: `/v1/wallets/${wallet.id}/rpc`,
        body: { method: 'eth_signTypedData_v4', params: { typed_data: toPrivyTypedData(otherWallet) } },
        operation: 'eth_signTypedData_v4',
        authorizer: keyAuthorizer(signer.keys),
        idempotent: true,
      }),
    ).rejects.toMatchObject({ code: 'PRIVY.POLICY_VIOLATION' })
  })

  it('is what stops them: without a policy the same wallet signs another chain', async () => {
    privy.state.removeSessionSigners(wallet.id)
    privy.state.addSessionSigner(wallet.id, signer.quorumId)
    const typedData = delegationFor(wallet.address, { domain: { chainId: 1 } })
    const signature = await deputy.signDelegation(typedData)
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(wallet.address)
  })
})
