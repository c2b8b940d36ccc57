/**
 * A process that opens embedded PGlite in HOLD_PGLITE_DIR as the worker, the API or `deputy
 * migrate` would, prints `open` once it has, and keeps it open until it is killed.
 */
import { openDatabase } from '../../../src/store/openDatabase.js'

await openDatabase({ dataDir: process.env.HOLD_PGLITE_DIR })
process.stdout.write('open\n')
setInterval(() => {}, 1_000)
