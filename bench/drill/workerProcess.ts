import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export type ChildOptions = {
  /** Entry file, relative to the repository root. */
  entry: string
  env: Record<string, string>
  /** stdout and stderr are appended here. */
  logFile: string
  /** Extra node flags (`--cpu-prof`, …). */
  nodeArgs?: string[]
  /** Text on stdout that means the process is ready (`ready` resolves true), e.g. a log message. */
  readyMarker?: string
}

/**
 * A TypeScript entry run as `node --import tsx <entry>`: one process, so its pid
 * is the one that runs the code (SIGKILL reaches it, `/proc/<pid>/stat` is its CPU).
 * The `tsx` CLI would put a supervisor process in between.
 */
export class NodeChild {
  readonly process: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** True once `readyMarker` appeared on stdout; false if the process exited first. */
  readonly ready: Promise<boolean>
  /** Where its stdout and stderr go. */
  readonly logFile: string
  readonly #log: WriteStream

  constructor(options: ChildOptions) {
    this.logFile = options.logFile
    this.#log = createWriteStream(options.logFile, { flags: 'a' })
    this.process = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', join(repoRoot, options.entry)], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.process.stdout!.pipe(this.#log, { end: false })
    this.process.stderr!.pipe(this.#log, { end: false })
    const marker = options.readyMarker
    this.ready = new Promise((resolve) => {
      if (!marker) return resolve(true)
      let tail = ''
      const watch = (chunk: Buffer) => {
        tail = (tail + chunk.toString('utf8')).slice(-4096)
        if (tail.includes(marker)) { this.process.stdout!.off('data', watch); resolve(true) }
      }
      this.process.stdout!.on('data', watch)
      this.process.once('exit', () => resolve(false))
    })
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.#log.end()
        resolve({ code, signal })
      })
    })
  }

  get pid(): number {
    return this.process.pid!
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  /** SIGKILL: no shutdown hook runs, exactly like a crashed machine for this process. */
  async kill(): Promise<void> {
    if (this.running) this.process.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGTERM')
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  /** User + system CPU time of the process so far, in microseconds (Linux `/proc`). */
  async cpuMicros(): Promise<number> {
    return procCpuMicros(this.pid)
  }
}

const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of a live process from `/proc/<pid>/stat`, in microseconds. */
export async function procCpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces; fields resume after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND
}

/** Resolves when `predicate` holds, or rejects after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(stepMs)
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
