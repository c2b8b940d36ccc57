import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/**
 * `src/main/worker.ts` run as a process of its own with `env` (no wallet signer configured), its log
 * lines' messages collected as they come, SIGKILLed after `killAfterMs` if still running (`stop` ends
 * that timer and kills it).
 */
export function spawnLoggingWorker(env: Record<string, string | undefined>, killAfterMs: number) {
  const ownEnv = { ...env }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete ownEnv[key]
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], { env: ownEnv, stdio: ['ignore', 'pipe', 'inherit'] })
  const messages: string[] = []
  let buffered = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete.filter(Boolean)) messages.push((JSON.parse(line) as { msg: string }).msg)
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  return {
    child, messages, exited,
    stop(): void {
      clearTimeout(timer)
      child.kill('SIGKILL')
    },
  }
}
