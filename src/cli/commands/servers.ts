import type { Command } from 'commander'

// Imported when a server command runs, so client commands start without them.
const configModule = () => import('../../config.js')
const loggerModule = () => import('../../logger.js')
const shutdownModule = () => import('../../main/startUntilStopped.js')
const crashModule = () => import('../../main/exitOnCrash.js')

/** Long-running processes and maintenance: they read the environment (src/config.ts), not the API. */
export function serverCommands(program: Command): void {
  program.command('worker').description('run the worker (submission, events, reconciliation, schedules) until SIGTERM')
    .action(async () => { await import('../../main/worker.js') })

  program.command('api').description('serve the intake API on API_HOST:API_PORT until SIGTERM')
    .action(async () => {
      const { startApiServer } = await import('../../api/startApiServer.js')
      const { createLogger } = await loggerModule()
      const { startUntilStopped } = await shutdownModule()
      const { exitOnCrash } = await crashModule()
      const config = (await configModule()).loadConfig()
      const log = createLogger(config.LOG_LEVEL, 'deputy-api')
      exitOnCrash(log)
      const server = await startUntilStopped(log, (signal) => startApiServer(config, log, { signal }), async (started) => started?.close(), { deadlineMs: config.SHUTDOWN_TIMEOUT_MS })
      if (server) log.info({ url: server.url }, 'API listening')
    })

  program.command('sandbox').description('serve the sandbox operator on SANDBOX_HOST:SANDBOX_PORT (development)')
    .action(async () => { await import('../../sandbox/main.js') })

  program.command('migrate').description('apply pending database migrations')
    .action(async () => {
      const { openDatabase } = await import('../../store/openDatabase.js')
      const { migrate } = await import('../../store/migrate.js')
      const config = (await configModule()).loadConfig()
      const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.PGLITE_DIR })
      try {
        await migrate(database)
      } finally {
        await database.close()
      }
      process.stdout.write(`migrations applied (${database.kind === 'pg' ? 'Postgres' : `PGlite at ${config.PGLITE_DIR}`})\n`)
    })

  program.command('keys').description('master keys (DEPUTY_MASTER_KEY)')
    .command('rewrap').description('re-seal every session key under the current (first) master key, so retired keys can be removed')
    .action(async () => {
      const { openDatabase } = await import('../../store/openDatabase.js')
      const { masterKeyring } = await import('../../runtime/checkLocalSettings.js')
      const { rewrapSessionKeys } = await import('../../runtime/sessions/rewrapSessionKeys.js')
      const config = (await configModule()).loadConfig()
      const keyring = masterKeyring(config)
      const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.PGLITE_DIR })
      let report
      try {
        report = await rewrapSessionKeys(database.db, keyring)
      } finally {
        await database.close()
      }
      process.stdout.write(`${report.rewrapped} session key(s) re-sealed under master key "${report.currentKeyId}"\n`)
      for (const failure of report.failed) {
        process.stderr.write(`session ${failure.sessionId} (master key "${failure.masterKeyId}"): ${failure.code}; keep that key in DEPUTY_MASTER_KEY\n`)
      }
      if (report.failed.length) process.exitCode = 1
    })

  program.command('demo').description('sandbox + worker + API in one process, walking through the main job')
    .action(async () => {
      const { runDemo } = await import('../../demo/runDemo.js')
      process.exitCode = await runDemo()
    })
}
