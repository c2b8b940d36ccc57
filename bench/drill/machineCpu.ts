/**
 * Where the machine's CPU goes during a measured stretch: every core's busy
 * time from `/proc/stat` (all but idle and iowait), split by process from
 * `/proc/<pid>/stat`. Processes are found by command name, so Postgres's
 * backends and Redis are counted however many there are. Each part is the sum
 * of its processes' own deltas: one that starts inside the stretch counts in
 * full, one that exits inside it (an autovacuum worker, a backend) lands in
 * `other` (its CPU after the first snapshot is not known).
 */
import { readFile, readdir } from 'node:fs/promises'
import { procCpuMicros } from './workerProcess.js'

const CLOCK_TICKS_PER_SECOND = 100

export type CpuSnapshot = { machine: number; cores: number; byPart: Map<string, Map<number, number>> }
/** The parts to split out: a name and either pids or a command name (`comm`). */
export type CpuPart = { name: string; pids?: () => readonly number[]; comm?: string }

export async function snapshotCpu(parts: readonly CpuPart[]): Promise<CpuSnapshot> {
  const stat = await readFile('/proc/stat', 'utf8')
  const lines = stat.split('\n')
  // cpu  user nice system idle iowait irq softirq steal …
  const total = lines[0]!.trim().split(/\s+/).slice(1).map(Number)
  const busyTicks = total.reduce((sum, ticks, i) => (i === 3 || i === 4 ? sum : sum + ticks), 0)
  const cores = lines.filter((line) => /^cpu\d+ /.test(line)).length
  const byComm = await pidsByComm()
  const byPart = new Map<string, Map<number, number>>()
  for (const part of parts) {
    const pids = part.pids ? part.pids() : (byComm.get(part.comm!) ?? [])
    const byPid = new Map<number, number>()
    for (const pid of pids) {
      const micros = await procCpuMicros(pid).catch(() => undefined)
      if (micros !== undefined) byPid.set(pid, micros)
    }
    byPart.set(part.name, byPid)
  }
  return { machine: (busyTicks * 1_000_000) / CLOCK_TICKS_PER_SECOND, cores, byPart }
}

/** CPU µs per unit of work between two snapshots: the machine's and each part's, plus `other`. */
export function cpuPerUnit(before: CpuSnapshot, after: CpuSnapshot, units: number) {
  const parts = [...after.byPart].map(([name, byPid]) => {
    const earlier = before.byPart.get(name)
    let micros = 0
    // A pid below its earlier figure is a new process that reused it: all of its CPU is new.
    for (const [pid, now] of byPid) {
      const then = earlier?.get(pid) ?? 0
      micros += now >= then ? now - then : now
    }
    return { name, micros: micros / units }
  })
  const machine = (after.machine - before.machine) / units
  const counted = parts.reduce((sum, part) => sum + part.micros, 0)
  return { machine, cores: after.cores, parts: [...parts, { name: 'other', micros: Math.max(0, machine - counted) }] }
}

async function pidsByComm(): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim()
    if (comm) found.set(comm, [...(found.get(comm) ?? []), Number(entry)])
  }
  return found
}
