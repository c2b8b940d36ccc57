import { parentPort } from 'node:worker_threads'
import { errorMessage } from '../../core/errors/errorMessage.js'
import { type ScheduleTiming, scheduleTimingProblem } from '../../core/rebalance/scheduleTimingProblem.js'

/** A question to the schedule-timing thread, and its answer (`startTimingChecker`). */
export type TimingQuestion = { id: number; timing: ScheduleTiming }
export type TimingAnswer = { id: number; problem?: { field: string; rule: string }; error?: string }

parentPort?.on('message', (question: TimingQuestion) => {
  let answer: TimingAnswer
  try {
    const problem = scheduleTimingProblem(question.timing)
    answer = problem ? { id: question.id, problem } : { id: question.id }
  } catch (error) {
    answer = { id: question.id, error: errorMessage(error) }
  }
  parentPort!.postMessage(answer)
})
