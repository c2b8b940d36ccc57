import { spawn } from 'node:child_process'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { privateKeyToAddress } from 'viem/accounts'
import { generatePrivateKey } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
/** REDIS_URL with a password (a Redis without one accepts any, and ioredis only warns), which the demo must not print. */
const redisWithPassword = () => {
  const url = new URL(REDIS_URL)
  url.password ||= 'demo-redis-password-0123'
  return { url: url.href, password: decodeURIComponent(url.password) }
}

function runDemo(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** Every 32-byte hex token in `text` that is the private key of one of `publicKeys` or `addresses`. */
function leakedSecrets(text: string, publicKeys: Set<string>, addresses: Set<string>): string[] {
  const leaks: string[] = []
  for (const [token] of text.matchAll(/(?<![0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])/g)) {
    const hex = token.replace(/^0x/, '').toLowerCase()
    const secret = Uint8Array.from(Buffer.from(hex, 'hex'))
    if (!secp256k1.utils.isValidSecretKey(secret)) continue
    const publicKey = `0x${Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex')}`
    if (publicKeys.has(publicKey) || addresses.has(privateKeyToAddress(`0x${hex}`).toLowerCase())) leaks.push(token)
  }
  return leaks
}

describe('npm run demo', () => {
  it('does every step it announces, and its debug logs carry no key material', async () => {
    const masterKey = generateMasterKey('demo')
    const walletKey = generatePrivateKey()
    const redis = redisWithPassword()
    const { code, output } = await runDemo({ LOG_LEVEL: 'debug', DEPUTY_MASTER_KEY: masterKey, DEMO_WALLET_KEY: walletKey, REDIS_URL: redis.url })
    expect(output).toContain('All 8 steps did what they said.')
    expect(code).toBe(0)

    // The logs really are there, and they name the session keys that signed.
    const sessionKeys = new Set([...output.matchAll(/0x0[23][0-9a-f]{64}/g)].map(([k]) => k))
    expect(output).toContain('request signed and persisted')
    expect(sessionKeys.size).toBeGreaterThan(0)

    const masterSecret = masterKey.split(':')[1]!
    expect(output).not.toContain(masterSecret)
    expect(output).not.toContain(walletKey.slice(2))
    expect(output).not.toContain(redis.password)
    expect(output).not.toMatch(/dk1\.[A-Za-z0-9_-]+\./)
    expect(leakedSecrets(output, sessionKeys, new Set([privateKeyToAddress(walletKey).toLowerCase()]))).toEqual([])
  }, 120_000)
  it('with a REDIS_URL that does not answer says so without printing the URL\'s password', async () => {
    const { code, output } = await runDemo({ DEPUTY_MASTER_KEY: generateMasterKey('demo'), REDIS_URL: 'redis://deputy:redis-password-0123@127.0.0.1:9/0' })
    expect(code).not.toBe(0)
    expect(output).toContain('does not answer PING')
    expect(output).toContain('127.0.0.1:9')
    expect(output).not.toContain('redis-password-0123')
  }, 60_000)
  it("nor the password given in the URL's query, which ioredis takes too", async () => {
    const { code, output } = await runDemo({ DEPUTY_MASTER_KEY: generateMasterKey('demo'), REDIS_URL: 'redis://127.0.0.1:9/0?username=deputy&password=redis-password-4567' })
    expect(code).not.toBe(0)
    expect(output).toContain('does not answer PING')
    expect(output).not.toContain('redis-password-4567')
  }, 60_000)
})
