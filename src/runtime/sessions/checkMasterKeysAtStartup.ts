import type { Logger } from 'pino'
import type { Keyring } from '../../keys/Keyring.js'
import type { Db } from '../../store/Database.js'
import { isConnectionFailure } from '../../store/isConnectionFailure.js'
import { retryUntilDone } from '../retryUntilDone.js'
import { checkMasterKeysOpenSessions } from './checkMasterKeysOpenSessions.js'

/**
 * `checkMasterKeysOpenSessions` for a process starting up (the worker, the API), right after its
 * migrations: a Postgres that drops the connection mid-way (a restart, a failover, a pooler
 * recycling it) is waited out with the doubling delay of `retryUntilDone`, each failure logged,
 * and the check run again from the start (it only reads). Before, such a blip at that moment made
 * the process exit 1 ("uncaught exception"), seen in the drill with Postgres ending the workers'
 * connections every 5 s: three workers starting together all died at this step. A master key that
 * does not open its sessions is still refused at once (a ConfigError, exit 2). Aborted (`signal`:
 * the process told to stop while it starts), no further try is made.
 */
export async function checkMasterKeysAtStartup(db: Db, keyring: Keyring, log: Logger, signal?: AbortSignal): Promise<void> {
  await retryUntilDone(() => checkMasterKeysOpenSessions(db, keyring, log), {
    signal,
    retryable: isConnectionFailure,
    onFailure: (error, retryInMs) => log.warn({ err: error, retryInMs }, 'the master key check could not reach Postgres at start-up; retrying before taking work'),
  })
}
