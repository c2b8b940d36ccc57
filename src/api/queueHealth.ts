import type { Queue } from 'bullmq'

export const queueStates = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const
export type QueueState = (typeof queueStates)[number]

/** Job counts per state of each queue, plus whether the queue is paused. */
export async function queueHealth(queues: readonly Queue[]): Promise<Record<string, { paused: boolean; counts: Record<QueueState, number> }>> {
  const entries = await Promise.all(queues.map(async (queue) => {
    const [counts, paused] = await Promise.all([queue.getJobCounts(...queueStates), queue.isPaused()])
    return [queue.name, { paused, counts: Object.fromEntries(queueStates.map((state) => [state, counts[state] ?? 0])) as Record<QueueState, number> }] as const
  }))
  return Object.fromEntries(entries)
}
