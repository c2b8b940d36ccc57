/**
 * Measures the raw-signature baseline while the rest of the machine works:
 * every SAMPLE_EVERY_MS (200) it signs SAMPLE_SIGNATURES (10) digests and
 * prints `<epoch ms> <µs CPU per signature>`, about 5% of one core. Run as a
 * child process (its own CPU clock) beside a benchmark, which keeps the lines
 * that fall in its measured stretch.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { signatureCpuOnce } from './rawSignature.js'

const every = Number(process.env.SAMPLE_EVERY_MS ?? 200)
const count = Number(process.env.SAMPLE_SIGNATURES ?? 10)
signatureCpuOnce(200)
console.log('sampler ready')
for (;;) {
  const micros = signatureCpuOnce(count)
  console.log(`${Date.now()} ${micros.toFixed(1)}`)
  await sleep(every)
}
