/**
 * BullMQ queues. `submit` carries every request to the operator (job name = the
 * request family); `control` carries the worker's own housekeeping.
 */
export const queueNames = { submit: 'submit', control: 'control' } as const
export type QueueName = (typeof queueNames)[keyof typeof queueNames]

/** Job names on the control queue. */
export const controlJobs = {
  reconcile: 'reconcile',
  relayOutbox: 'relayOutbox',
  expireOrder: 'expireOrder',
  maintainSessions: 'maintainSessions',
  scheduleRun: 'scheduleRun',
} as const
