/**
 * `npm run sandbox`: the sandbox operator as a process.
 *
 * Environment (defaults in brackets):
 *   SANDBOX_HOST [127.0.0.1]            SANDBOX_PORT [8787]
 *   SANDBOX_CHAIN_ID [31337]            SANDBOX_DOMAIN_NAME ["Deputy Sandbox"]
 *   SANDBOX_VERIFYING_CONTRACT [0x5a0d…5a0d]
 *   SANDBOX_MAX_DEADLINE_MS [60000]
 *   SANDBOX_MAKER_SIZE [1000000]        base size per maker level, every market
 *   SANDBOX_TAKER_FEE_BPS [5]           SANDBOX_MAKER_FEE_BPS [2]
 *   SANDBOX_RATE_LIMIT_PER_SECOND [100] per session key; 0 turns the limit off
 *   SANDBOX_RATE_LIMIT_BURST [200]
 *   SANDBOX_LOG_LEVEL [info]            pino level; "silent" for none
 * Faults start off; set them with POST /sandbox/faults.
 */
import { startSandbox } from './startSandbox.js'
import { SandboxEnvError, readSandboxEnv } from './readSandboxEnv.js'

let options
try {
  options = readSandboxEnv(process.env)
} catch (error) {
  if (!(error instanceof SandboxEnvError)) throw error
  // One line and exit code 2, as deputy's own configuration errors: the stack says nothing more.
  console.error(`sandbox: configuration: ${error.message}`)
  process.exit(2)
}
const sandbox = await startSandbox(options)

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  sandbox.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`sandbox: error while stopping on ${signal}`, error)
      process.exit(1)
    },
  )
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
