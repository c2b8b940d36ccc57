import { describe, expect, it } from 'vitest'
import { hexToBytes } from 'viem'
import { buildRequest } from '../../src/core/requests/buildRequest.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { signRead } from '../../src/keys/signRead.js'
import { signRequest } from '../../src/keys/signRequest.js'
import type { OperatorDomain } from '../../src/core/eip712/types.js'

// Expected hex computed once with viem (privateKeyToAccount(...).signTypedData), an independent implementation.
const secret = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'
const domain: OperatorDomain = { name: 'Deputy Sandbox', version: '1', chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }
const delegation = '0x9f2c1b7e5d4a3f2e1d0c9b8a7f6e5d4c3b2a190817263544536271808f9eadbc'
const order = buildRequest('Order', {
  delegation,
  wallet: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  market: 'ETH-USD',
  side: 0,
  price: 2000500000000000000000n,
  size: 1500000000000000000n,
  timeInForce: 0,
  clientOrderId: '0x000102030405060708090a0b0c0d0e0f',
  nonce: 1700000000000000001n,
  deadline: 1700000060000n,
})

describe('session key signatures against fixed vectors', () => {
  const key = SessionKey.fromSecret(hexToBytes(secret))

  it('derives the compressed public key', () => {
    expect(key.publicKey).toBe('0x024e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e')
  })

  it('signs a fixed Order to a fixed digest and signature', () => {
    expect(signRequest(key, domain, order)).toEqual({
      digest: '0xcc9ec3b6ea48043b6b8345ad814ee09785c7824f48aef40a59461883744d98c0',
      signature: '0x31fc755ed7043ffd16aa99e6f35d75671959d23b0315433db62cdf7a9302c9aa71a5a7e9f0f104bbdd9d5d5651ec21a7f45f6b369305226c34c9005159456f4c1c',
    })
  })

  it('signs a fixed Read to a fixed digest and signature', () => {
    expect(signRead(key, domain, { delegation, deadline: 1700000030000n })).toEqual({
      digest: '0x1e048fefd729b1f830c9bd73bded7617d2678196bf08482d7c6f87992c990e9d',
      signature: '0xb13b5ac6693b7e91c3ee2636a07b1217eb5759e6afc2f852519dd590cd0fd33d58beb98a19e108c41262e638f877da436a968e641d7a78337f6f03824f512fbc1c',
    })
  })
})
