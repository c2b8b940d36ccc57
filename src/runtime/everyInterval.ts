/**
 * Runs `run` every `intervalMs`, one run at a time: a tick that comes while a run is in progress
 * is skipped. `run` handles its own failures (a rejection would be unhandled). `close()` stops the
 * timer and waits for a run in progress, so that no run meets the connections its owner closes next.
 */
export function everyInterval(run: () => Promise<void>, intervalMs: number): { close(): Promise<void> } {
  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    running ??= run().finally(() => { running = undefined })
  }, intervalMs)
  return {
    async close() {
      clearInterval(timer)
      await running
    },
  }
}
