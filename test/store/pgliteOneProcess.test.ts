/**
 * Embedded PGlite keeps no lock of its own: a second process (the API beside the worker, a second
 * worker, `deputy keys rewrap` while the worker runs) opened the same PGLITE_DIR without a word,
 * each then wrote its own view of the data, and the directory was left unreadable. Only one process
 * may open it; a lock left by a process that died without closing does not keep it shut.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { openDatabase } from '../../src/store/openDatabase.js'
import { migrate } from '../../src/store/migrate.js'
import { wallets } from '../../src/store/schema/index.js'
import { insertWallet } from './fixtures.js'

let root: string
const children: ChildProcess[] = []
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'deputy-pglite-lock-')) })
afterEach(() => { for (const child of children.splice(0)) child.kill('SIGKILL') })
afterAll(() => rm(root, { recursive: true, force: true }))

/** Another process with `dataDir` open, answered once it is. */
async function holder(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/support/holdPglite.ts'], { env: { ...process.env, HOLD_PGLITE_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk })
  await Promise.race([
    new Promise<void>((resolve) => child.stdout!.on('data', () => { if (out.includes('open')) resolve() })),
    once(child, 'exit').then(([code]) => { throw new Error(`holder exited with ${code}`) }),
  ])
  return child
}

it('refuses a data directory another live process has open, naming it', { timeout: 120_000 }, async () => {
  const dataDir = join(root, 'shared')
  await holder(dataDir)
  const second = openDatabase({ dataDir })
  await expect(second).rejects.toThrow(/PGLITE_DIR/)
  await expect(second).rejects.toThrow(dataDir)
})

it('refuses a second open of the same directory in one process until the first closes', { timeout: 120_000 }, async () => {
  const dataDir = join(root, 'twice')
  const first = await openDatabase({ dataDir })
  try {
    await expect(openDatabase({ dataDir })).rejects.toThrow(/PGLITE_DIR/)
  } finally {
    await first.close()
  }
  const again = await openDatabase({ dataDir })
  await again.close()
})

it('opens a directory whose last process was killed without closing it, data intact', { timeout: 120_000 }, async () => {
  const dataDir = join(root, 'killed')
  const setup = await openDatabase({ dataDir })
  await migrate(setup)
  await insertWallet(setup.db)
  await setup.close()

  const child = await holder(dataDir)
  child.kill('SIGKILL')
  await once(child, 'exit')
  const reopened = await openDatabase({ dataDir })
  try {
    expect(await reopened.db.$count(wallets)).toBe(1)
  } finally {
    await reopened.close()
  }
})
