/** The benchmarks' baseline: one raw secp256k1 signature (noble) over a precomputed 32-byte digest. */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
// The same base-point table as Deputy's signer: the baseline is the signature itself, as fast as Deputy gets it.
import '../../src/keys/wideBaseTable.js'

const secret = keccak_256(new TextEncoder().encode('deputy throughput bench'))
const digest = keccak_256(new TextEncoder().encode('one request digest'))

/** µs of this process's CPU (user + system) per signature, over `n` signatures. */
export function signatureCpuOnce(n: number): number {
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) secp256k1.sign(digest, secret, { prehash: false, format: 'recovered' })
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

/** The median of 5 rounds of 1,000 signatures, after one warm-up round. */
export function signatureCpuMicros(): number {
  signatureCpuOnce(1000)
  const runs = Array.from({ length: 5 }, () => signatureCpuOnce(1000))
  return runs.sort((a, b) => a - b)[runs.length >> 1]!
}
