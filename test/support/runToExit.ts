import { spawn } from 'node:child_process'
import { once } from 'node:events'

export type ExitedProcess = { code: number | null; stdout: string; stderr: string }

/**
 * Runs `node <args>` to its exit and answers its exit code and what it wrote. A process still
 * running after `killAfterMs` is killed (SIGKILL), so a test that expects an exit never hangs:
 * it sees a null code instead.
 */
export async function runToExit(args: string[], env: NodeJS.ProcessEnv, killAfterMs = 20_000): Promise<ExitedProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk })
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk })
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  try {
    const [code] = await once(child, 'exit')
    return { code: code as number | null, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}
