import type { Command } from 'commander'
import type { ApiClient } from './ApiClient.js'
import { type Output, shortId } from './output.js'
import { parseSeconds } from './parse.js'
import { pollUntil } from './pollUntil.js'
import type { WorkDto } from './types.js'

/** `--wait` and `--timeout` for a command whose work the operator acts on later. */
export const waitOptions = (command: Command) => command
  .option('--wait', 'wait until the operator has acted, printing progress')
  .option('--timeout <seconds>', 'how long --wait waits, in seconds', parseSeconds, 30)

export type WaitOptions = { wait?: boolean; timeout: number }

/**
 * Polls queued work (`GET /v1/work/{outboxId}`: a modify, a cancel, a CancelAll) until the worker
 * has settled it, reporting its status as it changes (stderr). A timeout is a failed operation
 * (exit 1): work still held for a session, for instance, has not reached the operator.
 */
export function waitForWork(api: ApiClient, out: Output, outboxId: string, timeoutSeconds: number): Promise<WorkDto> {
  return pollUntil(out, timeoutSeconds, {
    read: () => api.get<WorkDto>(`/v1/work/${encodeURIComponent(outboxId)}`),
    seen: (work) => `${work.status} ${work.note ?? ''}`,
    progress: (work) => `  ${shortId(work.outboxId)}: ${work.status}${work.note ? ` (${work.note})` : ''}`,
    done: (work) => work.status === 'done' || work.status === 'failed',
    stillWaiting: (work) => `${work.kind} ${work.outboxId} is still ${work.status} after ${timeoutSeconds}s`,
  })
}
