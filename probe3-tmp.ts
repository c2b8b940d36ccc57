import { keccak_256 } from '@noble/hashes/sha3.js'
import { keccak256 } from './src/core/crypto/keccak256.js'
import { bytesToHex } from '@noble/hashes/utils.js'
for (const n of [0, 1, 7, 32, 66, 135, 136, 137, 271, 272, 352, 1000]) {
  const d = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255)
  if (bytesToHex(keccak_256(d)) !== bytesToHex(keccak256(d))) console.log('MISMATCH', n)
}
function time(f: () => unknown, ms = 300) { let n = 0; const t0 = performance.now(); while (performance.now() - t0 < ms) { for (let i = 0; i < 16; i++) f(); n += 16 } return (performance.now() - t0) * 1000 / n }
const b352 = new Uint8Array(352), b66 = new Uint8Array(66), b7 = new Uint8Array(7)
for (let r = 0; r < 5; r++) {
  console.log(['352', '66', '7'].map((l, i) => { const b = [b352, b66, b7][i]!; return `${l}: noble ${time(() => keccak_256(b)).toFixed(2)} ours ${time(() => keccak256(b)).toFixed(2)}` }).join('   '))
}
