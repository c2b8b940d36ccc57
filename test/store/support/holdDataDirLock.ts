/**
 * A process that takes a PGlite data directory's lock (`lockDataDir`), prints `locked` or the
 * refusal's code, and keeps what it took until its stdin closes.
 */
import { lockDataDir } from '../../../src/store/lockDataDir.js'

const [dataDir] = process.argv.slice(2)
try {
  await lockDataDir(dataDir!)
  process.stdout.write('locked\n')
} catch (error) {
  process.stdout.write(`${(error as { code?: string }).code ?? String(error)}\n`)
}
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
