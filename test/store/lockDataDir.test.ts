/**
 * `lockDataDir` taking over a stale lock (its process was killed) while another process does the
 * same: real processes (test/store/support/holdDataDirLock.ts), one of them held between reading
 * the stale lock and removing it (test/store/support/gateLockRemoval.mjs). The single-process
 * cases, live holder and killed holder, are in pgliteOneProcess.test.ts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const holder = fileURLToPath(new URL('./support/holdDataDirLock.ts', import.meta.url))
const gate = fileURLToPath(new URL('./support/gateLockRemoval.mjs', import.meta.url))

let dir: string
let dataDir: string
let lockPath: string
const children: ChildProcess[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deputy-lock-'))
  dataDir = join(dir, 'pglite')
  lockPath = `${dataDir}.lock`
})
afterEach(() => {
  for (const child of children.splice(0)) child.kill()
  rmSync(dir, { recursive: true, force: true })
})

/** Starts a process taking the lock; `outcome` is what it printed: `locked`, or the refusal's code. */
function takeLock(options: { gated?: boolean } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...(options.gated ? ['--import', gate] : []), holder, dataDir], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  children.push(child)
  const outcome = new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('\n')) resolve(out.trim())
    })
    child.on('exit', (code) => reject(new Error(`exited ${code} before taking the lock`)))
  })
  return { pid: child.pid!, outcome }
}

/** The pid of a process that has exited (a lock it left is stale). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid

async function fileAppears(path: string): Promise<void> {
  while (!existsSync(path)) await new Promise((r) => setTimeout(r, 10))
}

it('two processes taking over the same stale lock: one gets it, the other is refused', async () => {
  writeFileSync(lockPath, `${deadPid()}\n`)
  // The first has read the stale lock and is about to remove it when the second takes it over.
  const late = takeLock({ gated: true })
  await fileAppears(`${lockPath}.gate-waiting`)
  const early = takeLock()
  expect(await early.outcome).toBe('locked')
  writeFileSync(`${lockPath}.gate-go`, '')
  // Before, the first removed the second's fresh lock (judged stale a moment earlier) and took
  // the directory too: two PGlite processes over one data directory.
  expect(await late.outcome).toBe('STORE.DATA_DIR_LOCKED')
  expect(readFileSync(lockPath, 'utf8').trim()).toBe(String(early.pid))
})
