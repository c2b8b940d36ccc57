import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises'
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
      const content = await readFile(lockPath, 'utf8').catch(() => '')
      const holder = Number.parseInt(content, 10)
      if (heldHere.has(lockPath) || takeovers >= 2 || (holder !== process.pid && isAlive(holder))) {
        throw new DataDirLockedError(dataDir, lockPath, heldHere.has(lockPath) ? process.pid : holder)
      }
      await removeStale(dataDir, lockPath, content)
    }
  } finally {
    await unlink(draft).catch(() => undefined)
  }
}

/**
 * Removes the lock read as `staleContent`, and only that one: another process may have taken it
 * over since it was read, and unlinking by name would remove that process's fresh lock. So it is
 * moved aside first and read again; another process's lock is put back, and this one refused.
 */
async function removeStale(dataDir: string, lockPath: string, staleContent: string): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}`
  try {
    await rename(lockPath, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const moved = await readFile(aside, 'utf8').catch(() => '')
  if (moved !== staleContent) await link(aside, lockPath).catch(() => undefined)
  await unlink(aside).catch(() => undefined)
  if (moved !== staleContent) throw new DataDirLockedError(dataDir, lockPath, Number.parseInt(moved, 10))
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
