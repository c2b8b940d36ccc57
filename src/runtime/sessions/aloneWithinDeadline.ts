import { withinDeadline } from '../withinDeadline.js'

/** This process's wallets with a step under way (by key), each with the token of the step holding it. */
export type StepsInProgress = Map<string, object>

/**
 * A wallet's step of session maintenance that may wait on its wallet signer (its grant, a
 * quarantined session's revocation): started unless this process's step for the same `key` is
 * still going (answers `busy`, starting nothing), and waited for `deadlineMs` at most, after which
 * it rejects with `DeadlineError`. The step itself goes on past the deadline, and holds `key` until
 * it settles, or `holdAtMostMs` at most (a signer that never answers does not keep the wallet from
 * every later run): a later run does not start the wallet's step beside it, nor ask its signer
 * again meanwhile.
 */
export async function aloneWithinDeadline<T>(inProgress: StepsInProgress, key: string, limits: { deadlineMs: number; holdAtMostMs: number }, step: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
  if (inProgress.has(key)) return { busy: true }
  const token = {}
  inProgress.set(key, token)
  const release = () => {
    clearTimeout(timer)
    if (inProgress.get(key) === token) inProgress.delete(key)
  }
  const timer = setTimeout(release, limits.holdAtMostMs)
  timer.unref()
  const started = (async () => step())()
  started.then(release, release)
  return { busy: false, value: await withinDeadline(started, limits.deadlineMs) }
}
