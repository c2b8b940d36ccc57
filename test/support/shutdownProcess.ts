/**
 * A process that installs `onShutdownSignal` as the worker and the API do, with a
 * `close` that finishes at once (answering `SHUTDOWN_FORCED` with SHUTDOWN_FIXTURE_FORCED=1), or never (SHUTDOWN_FIXTURE_HANG=1), and a deadline of
 * SHUTDOWN_FIXTURE_DEADLINE_MS. Prints `ready` once its handlers are installed.
 */
import { createLogger } from '../../src/logger.js'
import { SHUTDOWN_FORCED, onShutdownSignal } from '../../src/main/onShutdownSignal.js'

const log = createLogger('info', 'shutdown-fixture')
const hang = process.env.SHUTDOWN_FIXTURE_HANG === '1'
const outcome = process.env.SHUTDOWN_FIXTURE_FORCED === '1' ? SHUTDOWN_FORCED : undefined
onShutdownSignal(log, () => (hang ? new Promise(() => {}) : Promise.resolve(outcome)), { deadlineMs: Number(process.env.SHUTDOWN_FIXTURE_DEADLINE_MS) })
// Keeps the process alive as a server's listening socket would.
setInterval(() => {}, 1_000)
console.log('ready')
