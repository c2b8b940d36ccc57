/**
 * `deputy`: the command line (bin/deputy.js runs this file through tsx).
 *
 * Server commands (worker, api, sandbox, migrate, demo) read the environment
 * (src/config.ts). Client commands talk to a running API: DEPUTY_API_URL
 * (default http://127.0.0.1:8080) and DEPUTY_API_KEY, or --api-url/--api-key;
 * admin commands use DEPUTY_ADMIN_TOKEN. --json prints machine-readable results.
 * Exit codes: 0 ok, 1 operation failed, 2 usage or validation error, 3 API unreachable.
 */
import { Command, CommanderError } from 'commander'
import { killSwitchCommands } from './cli/commands/killSwitch.js'
import { orderCommands } from './cli/commands/orders.js'
import { scheduleCommands } from './cli/commands/schedules.js'
import { serverCommands } from './cli/commands/servers.js'
import { sessionCommands } from './cli/commands/sessions.js'
import { statusCommand } from './cli/commands/status.js'
import { walletCommands } from './cli/commands/wallets.js'
import { CliError, exitCodes } from './cli/errors.js'
import { printable } from './cli/output.js'
import { errorMessage } from './core/errors/errorMessage.js'

export function createProgram(): Command {
  const program = new Command('deputy')
    .description('Deputy: a background worker that trades on users\' behalf with delegated session keys')
    .option('--api-url <url>', 'the API (default $DEPUTY_API_URL or http://127.0.0.1:8080)')
    .option('--api-key <key>', 'tenant API key (default $DEPUTY_API_KEY)')
    .option('--admin-token <token>', 'admin token for tenant commands (default $DEPUTY_ADMIN_TOKEN)')
    .option('--json', 'print results as JSON (progress still goes to stderr)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  serverCommands(program)
  walletCommands(program)
  sessionCommands(program)
  orderCommands(program)
  scheduleCommands(program)
  killSwitchCommands(program)
  statusCommand(program)
  for (const command of program.commands) applyExitOverride(command)
  return program
}

function applyExitOverride(command: Command): void {
  command.exitOverride()
  for (const sub of command.commands) applyExitOverride(sub)
}

/** Runs the CLI and answers the exit code (see the file header). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram()
  const json = argv.includes('--json')
  try {
    await program.parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are answers, not failures; commander already printed the message. Help
      // shown because a subcommand is missing (`deputy order`) is a usage error (commander's exit code 1).
      if (error.code === 'commander.help') return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage
      return ['commander.helpDisplayed', 'commander.version', 'commander.executeSubCommandAsync'].includes(error.code) ? exitCodes.ok : exitCodes.usage
    }
    const failure = error instanceof CliError ? error
      // By name: config.js (zod) is only loaded by the server commands.
      : (error as Error | undefined)?.name === 'ConfigError' ? new CliError(exitCodes.usage, `configuration: ${(error as Error).message}`, { code: 'CLI.CONFIG' })
      : new CliError(exitCodes.failed, errorMessage(error), { code: (error as { code?: string }).code ?? 'CLI.FAILED' })
    if (json) process.stdout.write(`${JSON.stringify({ error: failure.body ?? { code: failure.code, message: failure.shortMessage } }, null, 2)}\n`)
    process.stderr.write(`deputy: ${printable(failure.shortMessage)}\n`)
    for (const problem of failure.body?.problems ?? []) process.stderr.write(printable(`  ${problem.field}: ${problem.rule}`) + '\n')
    return failure.exitCode
  }
}

process.exitCode = await main(process.argv.slice(2))
