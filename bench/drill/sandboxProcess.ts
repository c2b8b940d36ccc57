import { createServer } from 'node:net'
import type { OperatorDomain } from '../../src/core/eip712/types.js'
import type { OperatorHandle } from './environment.js'
import { NodeChild, waitFor } from './workerProcess.js'

/** A port that was free a moment ago (the sandbox binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * `npm run sandbox` as a child process (so its CPU stays out of the worker's
 * and the benchmark's), driven through its HTTP control endpoints.
 */
export async function startSandboxProcess(options: { logFile: string; env?: Record<string, string>; nodeArgs?: string[] }): Promise<OperatorHandle & { child: NodeChild; stop(): Promise<void> }> {
  const port = await freePort()
  const child = new NodeChild({
    entry: 'src/sandbox/main.ts',
    env: { SANDBOX_PORT: String(port), SANDBOX_LOG_LEVEL: 'warn', ...options.env },
    logFile: options.logFile,
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  })
  const url = `http://127.0.0.1:${port}`
  let info: (OperatorDomain & { maxDeadlineMs: number }) | undefined
  await waitFor('the sandbox to listen', async () => {
    if (!child.running) throw new Error(`the sandbox exited; see ${options.logFile}`)
    info = await fetch(`${url}/v1/info`).then((r) => (r.ok ? r.json() as Promise<OperatorDomain & { maxDeadlineMs: number }> : undefined), () => undefined)
    return info !== undefined
  }, 60_000, 200)
  const control = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`)
  }
  return {
    url,
    domain: { name: info!.name, version: info!.version, chainId: info!.chainId, verifyingContract: info!.verifyingContract },
    child,
    fund: (wallet, asset, amount) => control('/sandbox/fund', { wallet, asset, amount }),
    stop: () => child.stop(5_000),
  }
}
