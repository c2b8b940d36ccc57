import type { Queue } from 'bullmq'
import { withinDeadline } from '../runtime/withinDeadline.js'

export const queueStates = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const
export type QueueState = (typeof queueStates)[number]
export type QueueHealth = Record<string, { paused: boolean; counts: Record<QueueState, number> }>

/**
 * Job counts per state of each queue, plus whether the queue is paused; rejects when Redis has not
 * answered within the API's deadline (its commands wait for a Redis that is down).
 */
export async function queueHealth(queues: readonly Queue[]): Promise<QueueHealth> {
  const entries = await withinDeadline(Promise.all(queues.map(async (queue) => {
    const [counts, paused] = await Promise.all([queue.getJobCounts(...queueStates), queue.isPaused()])
    return [queue.name, { paused, counts: Object.fromEntries(queueStates.map((state) => [state, counts[state] ?? 0])) as Record<QueueState, number> }] as const
  })))
  return Object.fromEntries(entries)
}
