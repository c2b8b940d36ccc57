/**
 * A process that installs `exitOnCrash` as the worker and the API do, then fails as
 * CRASH_FIXTURE_KIND says: `rejection` (a promise rejected with nobody awaiting it) or
 * `exception` (a throw from a timer). The error carries a secret the logger must redact.
 */
import { createLogger } from '../../src/logger.js'
import { exitOnCrash } from '../../src/main/exitOnCrash.js'

exitOnCrash(createLogger('info', 'crash-fixture'))
const error = Object.assign(new Error('the fixture failed'), { privateKey: '0xfeedfacefeedface' })
setInterval(() => {}, 1_000)
if (process.env.CRASH_FIXTURE_KIND === 'rejection') void Promise.reject(error)
else setTimeout(() => { throw error }, 10)
