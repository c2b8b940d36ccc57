import { inspect } from 'node:util'
import { recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createWalletSigner, readWalletSignerEnv } from '../../src/signers/createWalletSigner.js'
import { fetchDelegatedWallets } from '../../src/signers/privy/fetchDelegatedWallets.js'
import { listDelegatedWallets } from '../../src/signers/privy/listDelegatedWallets.js'
import { apiFor, createSessionSigner, delegatedUser, delegationFor } from './support/fixtures.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'

let privy: LocalPrivy
beforeEach(async () => {
  privy = await startLocalPrivy()
})
afterEach(async () => {
  await privy.close()
})

describe('delegated wallet discovery', () => {
  it('lists only Ethereum wallet accounts with delegated: true and an id', () => {
    const address = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'
    const wallets = listDelegatedWallets({
      id: 'did:privy:u',
      linked_accounts: [
        { type: 'email', address: 'a@b.c' },
        { type: 'wallet', id: 'w1', address, chain_type: 'ethereum', delegated: true },
        { type: 'wallet', id: 'w2', address, chain_type: 'ethereum', delegated: false },
        { type: 'wallet', id: null, address, chain_type: 'ethereum', delegated: true },
        { type: 'wallet', id: 'w3', address: 'So1anaAddress', chain_type: 'solana', delegated: true },
        { type: 'wallet', id: 'w4', address: 'not-an-address', chain_type: 'ethereum', delegated: true },
        null,
      ],
    })
    expect(wallets).toEqual([{ walletId: 'w1', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' }])
  })

  it('fetches the user from Privy and finds the wallet the user delegated to Deputy', async () => {
    const signer = createSessionSigner(privy)
    const { user, wallet } = delegatedUser(privy, signer)
    const second = privy.state.createWallet({ ownerId: privy.state.wallets.get(wallet.id)!.ownerId })
    user.walletIds.push(second.id) // not delegated
    const api = apiFor(privy)
    expect(await fetchDelegatedWallets(api, user.id)).toEqual([{ walletId: wallet.id, address: wallet.address }])
    expect(privy.requests.at(-1)!.path).toBe(`/v1/users/${user.id}`)
    await expect(fetchDelegatedWallets(api, 'did:privy:nobody')).rejects.toMatchObject({ code: 'PRIVY.NOT_FOUND', status: 404 })
  })
})

describe('createWalletSigner', () => {
  it('builds a local signer from a private key', async () => {
    const privateKey = generatePrivateKey()
    const signer = createWalletSigner({ walletSigner: 'local', privateKey })
    expect(signer.kind).toBe('local')
    const typedData = delegationFor(privateKeyToAccount(privateKey).address)
    expect(await recoverTypedDataAddress({ ...typedData, signature: await signer.signDelegation(typedData) })).toBe(signer.address)
  })

  it('builds a Privy signer from the environment, which signs through Privy and prints no secret', async () => {
    const signer = createSessionSigner(privy)
    const { wallet } = delegatedUser(privy, signer)
    const env = readWalletSignerEnv({
      WALLET_SIGNER: 'privy',
      PRIVY_APP_ID: privy.appId,
      PRIVY_APP_SECRET: privy.appSecret,
      PRIVY_AUTHORIZATION_KEYS: signer.privateKeys.join(','),
      PRIVY_API_URL: `${privy.url}/`,
    })
    if (env.walletSigner !== 'privy') throw new Error('expected privy')
    const printed = `${JSON.stringify(env)} ${inspect(env, { depth: 10 })}`
    expect(printed).not.toContain(privy.appSecret)
    expect(printed).not.toContain(signer.privateKeys[0]!.slice(20, 60))

    const walletSigner = createWalletSigner({ ...env, walletId: wallet.id, address: wallet.address })
    expect(walletSigner.kind).toBe('privy')
    const typedData = delegationFor(wallet.address)
    expect(await recoverTypedDataAddress({ ...typedData, signature: await walletSigner.signDelegation(typedData) })).toBe(wallet.address)
    expect(inspect(walletSigner, { depth: 10 })).not.toContain(privy.appSecret)

    const fromStrings = createWalletSigner({
      walletSigner: 'privy',
      appId: privy.appId,
      appSecret: privy.appSecret,
      apiUrl: privy.url,
      authorizationKeys: signer.privateKeys,
      walletId: wallet.id,
      address: wallet.address,
    })
    expect(await fromStrings.signDelegation(typedData)).toBe(await walletSigner.signDelegation(typedData))
  })

  it('fails at startup on unusable settings, naming the variable', () => {
    expect(readWalletSignerEnv({})).toEqual({ walletSigner: 'local' })
    const base = { WALLET_SIGNER: 'privy', PRIVY_APP_ID: 'app', PRIVY_APP_SECRET: 'secret', PRIVY_AUTHORIZATION_KEYS: 'wallet-auth:AAAA' }
    expect(() => readWalletSignerEnv({ ...base, WALLET_SIGNER: 'hsm' })).toThrow(/WALLET_SIGNER/)
    expect(() => readWalletSignerEnv({ ...base, PRIVY_APP_ID: '' })).toThrow(/PRIVY_APP_ID/)
    expect(() => readWalletSignerEnv({ ...base, PRIVY_APP_SECRET: undefined })).toThrow(/PRIVY_APP_SECRET/)
    expect(() => readWalletSignerEnv({ ...base, PRIVY_AUTHORIZATION_KEYS: ' , ' })).toThrow(/PRIVY_AUTHORIZATION_KEYS/)
    expect(() => readWalletSignerEnv(base)).toThrow(/authorization key #1/)
    expect(() => readWalletSignerEnv({ ...base, PRIVY_AUTHORIZATION_KEYS: createSessionSigner(privy).privateKeys[0], PRIVY_API_URL: 'ftp://x' })).toThrow(/PRIVY_API_URL/)
    // A user and password in the URL: fetch would refuse it on every call, quoting it whole; refused at start-up, never quoted.
    const withCredentials = () => readWalletSignerEnv({ ...base, PRIVY_AUTHORIZATION_KEYS: createSessionSigner(privy).privateKeys[0], PRIVY_API_URL: 'https://app:hunter2-secret@api.privy.io' })
    expect(withCredentials).toThrow(/PRIVY_API_URL/)
    expect(withCredentials).not.toThrow(/hunter2/)
    expect(() =>
      createWalletSigner({ walletSigner: 'privy', appId: 'a', appSecret: 's', authorizationKeys: [], walletId: 'w1', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' }),
    ).toThrow(/no authorization keys/)
    expect(() =>
      createWalletSigner({ walletSigner: 'privy', appId: 'a', appSecret: 's', authorizationKeys: createSessionSigner(privy).privateKeys, walletId: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/../x', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' }),
    ).toThrow(/wallet id/)
  })
})
