import { Worker } from 'node:worker_threads'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleTiming } from '../../core/rebalance/scheduleTimingProblem.js'
import type { ValidationProblem } from '../../core/rebalance/ScheduleValidationError.js'
import type { TimingAnswer, TimingQuestion } from './timingThreadMain.js'

/** Checks a schedule's timing off the caller's thread (`ScheduleContext.timing`). */
export type TimingChecker = {
  /** `timeoutMs` overrides the checker's for this check. */
  problem(timing: ScheduleTiming, timeoutMs?: number): Promise<ValidationProblem | undefined>
  /** Ends the thread; checks still waiting are rejected. */
  close(): Promise<void>
}

/** A first check takes 0.1–1 s (3 s seen on a loaded machine); one still running after this is given up. */
export const TIMING_CHECK_TIMEOUT_MS = 15_000

type Waiting = { question: TimingQuestion; limitMs: number; resolve: (problem: ValidationProblem | undefined) => void; reject: (error: Error) => void; timer?: NodeJS.Timeout }

/**
 * `scheduleTimingProblem` on a thread of its own, started at the first check and kept (its answers
 * are memoised there): stepping a cron through a year of slots and the zone's clock changes costs
 * 0.1–1 s of CPU, which on the API's thread would hold every other request that long. Checks wait
 * their turn here and go to the thread one at a time, so that each one's `timeoutMs` counts its own
 * stepping only: one not answered within it is refused naming `cron` (the thread is ended and a new
 * one takes the checks behind it), never one that merely waited behind others (a burst of new
 * crons, each well within the limit). A thread that dies fails the check it held; the next check
 * starts another.
 */
export function startTimingChecker(options: { timeoutMs?: number } = {}): TimingChecker {
  const timeoutMs = options.timeoutMs ?? TIMING_CHECK_TIMEOUT_MS
  const waiting = new Map<number, Waiting>()
  /** Checks not sent to the thread yet, oldest first. */
  const queued: number[] = []
  /** The check on the thread now. */
  let current: number | undefined
  let worker: Worker | undefined
  let nextId = 1
  let closed = false

  const settle = (id: number): Waiting | undefined => {
    const entry = waiting.get(id)
    if (!entry) return undefined
    clearTimeout(entry.timer)
    waiting.delete(id)
    if (current === id) current = undefined
    return entry
  }

  const start = (): Worker => {
    const thread = new Worker(new URL('./timingThread.mjs', import.meta.url))
    // An idle thread never holds the process open.
    thread.unref()
    thread.on('message', (answer: TimingAnswer) => {
      const entry = settle(answer.id)
      if (entry) {
        if (answer.error !== undefined) entry.reject(new Error(`schedule timing check failed: ${answer.error}`))
        else entry.resolve(answer.problem)
      }
      next()
    })
    const lost = (why: string) => {
      if (worker !== thread) return
      worker = undefined
      if (current !== undefined) settle(current)?.reject(new Error(`schedule timing check failed: ${why}`))
      next()
    }
    thread.on('error', (error) => lost(error.message))
    thread.on('exit', (code) => lost(`its thread exited (code ${code})`))
    return thread
  }

  /** Sends the oldest queued check to the thread, when none is on it; its time limit starts now. */
  const next = (): void => {
    if (closed || current !== undefined) return
    const id = queued.shift()
    if (id === undefined) return
    // Every queued check is waiting: only the one on the thread is settled before it is sent (close() empties both).
    const entry = waiting.get(id)!
    current = id
    entry.timer = setTimeout(() => timedOut(id), entry.limitMs)
    worker ??= start()
    worker.postMessage(entry.question)
  }

  const timedOut = (id: number): void => {
    const entry = settle(id)
    if (!entry) return
    entry.reject(new ValidationError('cron', `could not be checked within ${entry.limitMs / 1000} s (its runs stepped through a year and the time zone's clock changes); use a simpler expression`))
    // The thread is still stepping through it: ended, and the checks behind it go to a new one.
    const stuck = worker
    worker = undefined
    void stuck?.terminate()
    next()
  }

  return {
    problem(timing, limitMs = timeoutMs) {
      if (closed) return Promise.reject(new Error('schedule timing checker closed'))
      return new Promise((resolve, reject) => {
        const question = { id: nextId++, timing }
        waiting.set(question.id, { question, limitMs, resolve, reject })
        queued.push(question.id)
        next()
      })
    },
    async close() {
      closed = true
      const thread = worker
      worker = undefined
      queued.length = 0
      for (const id of [...waiting.keys()]) settle(id)!.reject(new Error('schedule timing checker closed'))
      await thread?.terminate()
    },
  }
}
