import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { DataDirLockedError } from './errors.js'

/** Lock files this process holds: a second PGlite over the same directory is refused here too. */
const heldHere = new Set<string>()

/**
 * Takes `<dataDir>.lock` for this process, answering its release. PGlite keeps no lock of its own:
 * two processes (or two instances in one) over one data directory each write their own view of
 * it, and leave it unreadable. The lock file names the holder's pid; one whose process is gone
 * (killed without closing, or a container's earlier life with this same pid) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = `${dataDir}.lock`
  // Written whole under another name, then linked into place: a reader never sees it half written.
  const draft = `${lockPath}.${process.pid}`
  await writeFile(draft, `${process.pid}\n`)
  try {
    for (let takeovers = 0; ; takeovers++) {
      if (!heldHere.has(lockPath)) {
        try {
          await link(draft, lockPath)
          heldHere.add(lockPath)
          return async () => {
            heldHere.delete(lockPath)
            await unlink(lockPath).catch(() => undefined)
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        }
      }
      const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10)
      if (heldHere.has(lockPath) || takeovers >= 2 || (holder !== process.pid && isAlive(holder))) {
        throw new DataDirLockedError(dataDir, lockPath, heldHere.has(lockPath) ? process.pid : holder)
      }
      await unlink(lockPath).catch(() => undefined)
    }
  } finally {
    await unlink(draft).catch(() => undefined)
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
