import { SigningKey, Wallet, computeAddress, verifyTypedData as ethersVerifyTypedData } from 'ethers'
import { describe, expect, it } from 'vitest'
import { type Hex, bytesToHex, getAddress, hexToBytes, recoverTypedDataAddress, verifyTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { recoverPublicKey } from '../../src/core/crypto/recoverPublicKey.js'
import { hashDelegation } from '../../src/core/eip712/hashDelegation.js'
import { hashRead } from '../../src/core/eip712/hashRead.js'
import { hashRequest } from '../../src/core/eip712/hashRequest.js'
import { hashRevocation } from '../../src/core/eip712/hashRevocation.js'
import { type DelegationMessage, type OperatorDomain, type PrimaryType, type VenueRequest, eip712Types } from '../../src/core/eip712/types.js'
import { buildRequest } from '../../src/core/requests/buildRequest.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { signRead } from '../../src/keys/signRead.js'
import { signRequest } from '../../src/keys/signRequest.js'
import { signRevocation } from '../../src/keys/signRevocation.js'

const domain: OperatorDomain = { name: 'Deputy Sandbox', version: '1', chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }
const walletSecret: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const wallet = privateKeyToAccount(walletSecret)
const compressed = (uncompressed: string) => SigningKey.computePublicKey(uncompressed, true) as Hex
const ethersTypes = (primaryType: PrimaryType) => ({ [primaryType]: eip712Types[primaryType].map((field) => ({ ...field })) })
const typedData = (primaryType: PrimaryType, message: object) =>
  ({ domain, types: { [primaryType]: eip712Types[primaryType] }, primaryType, message }) as Parameters<typeof verifyTypedData>[0]

const sessionKey = SessionKey.generate()
const sessionAddress = getAddress(computeAddress(sessionKey.publicKey))
const delegationMessage: DelegationMessage = {
  wallet: wallet.address,
  sessionPublicKey: sessionKey.publicKey,
  aclScope: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'],
  expiry: 1_900_000_000n,
  nonce: 7n,
}
const delegation = hashDelegation(domain, delegationMessage)
const bound = { delegation, wallet: wallet.address, nonce: 1_700_000_000_000_000n, deadline: 1_700_000_060_000n }
const requests: VenueRequest[] = [
  buildRequest('Order', { ...bound, market: 'ETH-USD', side: 1, price: 2_000_500_000_000_000_000_000n, size: 10n ** 15n, timeInForce: 2, clientOrderId: '0x0123456789abcdef0123456789abcdef' }),
  buildRequest('ModifyOrder', { ...bound, market: 'BTC-USD', clientOrderId: '0x0123456789abcdef0123456789abcdef', price: 60_000n * 10n ** 18n, size: 10n ** 14n }),
  buildRequest('CancelOrder', { ...bound, market: 'ETH-USD', clientOrderId: '0x0123456789abcdef0123456789abcdef' }),
  buildRequest('CancelAll', { ...bound, market: '' }),
]
const readMessage = { delegation, deadline: 1_700_000_030_000n }

/** Every family the worker signs, with our digest function and our session-key signer. */
const sessionSigned: { primaryType: PrimaryType; message: object; digest: (message: never) => Hex; sign: () => { digest: Hex; signature: Hex } }[] = [
  ...requests.map((request) => ({
    primaryType: request.family,
    message: request.message,
    digest: (message: never) => hashRequest(domain, { family: request.family, message } as VenueRequest),
    sign: () => signRequest(sessionKey, domain, request),
  })),
  { primaryType: 'Read', message: readMessage, digest: (message: never) => hashRead(domain, message), sign: () => signRead(sessionKey, domain, readMessage) },
  { primaryType: 'Revocation', message: readMessage, digest: (message: never) => hashRevocation(domain, message), sign: () => signRevocation(sessionKey, domain, readMessage) },
]

/** The same value of the same type, one bit different. */
function flip(type: string, value: unknown): unknown {
  if (type === 'address' || type.startsWith('bytes')) {
    const bytes = hexToBytes(value as Hex)
    bytes[bytes.length - 1]! ^= 1
    return bytesToHex(bytes)
  }
  if (type === 'string') return `${value as string}!`
  if (type === 'string[]') return [...(value as string[]), 'Order']
  if (type.startsWith('uint')) return typeof value === 'bigint' ? value ^ 1n : (value as number) ^ 1
  throw new Error(`no flip for ${type}`)
}

function recoversTo(digest: Hex, signature: Hex, publicKey: Hex): boolean {
  try {
    return recoverPublicKey(digest, signature) === publicKey
  } catch {
    return false
  }
}

describe('Delegation signed by the wallet', () => {
  it('viem, ethers and our recovery agree on a viem signature', async () => {
    const signature = await wallet.signTypedData(typedData('Delegation', delegationMessage) as never)
    expect(await recoverTypedDataAddress({ ...typedData('Delegation', delegationMessage), signature })).toBe(wallet.address)
    expect(ethersVerifyTypedData(domain, ethersTypes('Delegation'), delegationMessage, signature)).toBe(wallet.address)
    expect(recoverPublicKey(delegation, signature)).toBe(compressed(wallet.publicKey))
  })

  it('an ethers signature is the same bytes and recovers with our digest', async () => {
    const viemSignature = await wallet.signTypedData(typedData('Delegation', delegationMessage) as never)
    const ethersSignature = (await new Wallet(walletSecret).signTypedData(domain, ethersTypes('Delegation'), delegationMessage)) as Hex
    expect(ethersSignature).toBe(viemSignature)
    expect(recoverPublicKey(hashDelegation(domain, delegationMessage), ethersSignature)).toBe(compressed(wallet.publicKey))
  })

  it('breaks when any field changes', async () => {
    const signature = await wallet.signTypedData(typedData('Delegation', delegationMessage) as never)
    for (const { name, type } of eip712Types.Delegation) {
      const changed = { ...delegationMessage, [name]: flip(type, delegationMessage[name]) }
      expect(recoversTo(hashDelegation(domain, changed), signature, compressed(wallet.publicKey)), name).toBe(false)
      expect(await verifyTypedData({ ...typedData('Delegation', changed), address: wallet.address, signature }), name).toBe(false)
    }
  })
})

describe.each(sessionSigned)('$primaryType signed by the session key', ({ primaryType, message, digest, sign }) => {
  it('verifies with viem and ethers (address of the session public key)', async () => {
    const { digest: signedDigest, signature } = sign()
    expect(signedDigest).toBe(digest(message as never))
    expect(await recoverTypedDataAddress({ ...typedData(primaryType, message), signature })).toBe(sessionAddress)
    expect(await verifyTypedData({ ...typedData(primaryType, message), address: sessionAddress, signature })).toBe(true)
    expect(ethersVerifyTypedData(domain, ethersTypes(primaryType), message, signature)).toBe(sessionAddress)
    expect(recoverPublicKey(signedDigest, signature)).toBe(sessionKey.publicKey)
  })

  it('viem and ethers signatures of the same typed data recover with our digest, byte-identical to ours', async () => {
    const secret = sessionKey.exportSecretForEncryption()
    const account = privateKeyToAccount(bytesToHex(secret))
    const viemSignature = await account.signTypedData(typedData(primaryType, message) as never)
    const ethersSignature = (await new Wallet(bytesToHex(secret)).signTypedData(domain, ethersTypes(primaryType), message)) as Hex
    secret.fill(0)
    for (const signature of [viemSignature, ethersSignature]) {
      expect(recoverPublicKey(digest(message as never), signature)).toBe(sessionKey.publicKey)
      expect(signature).toBe(sign().signature)
    }
  })

  it('breaks when any field changes', () => {
    const { signature } = sign()
    for (const { name, type } of eip712Types[primaryType]) {
      const original = message as Record<string, unknown>
      const changed = { ...original, [name]: flip(type, original[name]) }
      expect(recoversTo(digest(changed as never), signature, sessionKey.publicKey), name).toBe(false)
      expect(ethersVerifyTypedData(domain, ethersTypes(primaryType), changed, signature), name).not.toBe(sessionAddress)
    }
  })

  it('breaks when any byte of the signature changes', () => {
    const { digest: signedDigest, signature } = sign()
    const bytes = hexToBytes(signature)
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = Uint8Array.from(bytes)
        tampered[i]! ^= mask
        expect(recoversTo(signedDigest, bytesToHex(tampered), sessionKey.publicKey), `byte ${i} ^ ${mask}`).toBe(false)
      }
    }
  })
})
