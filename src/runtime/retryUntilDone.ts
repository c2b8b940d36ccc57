/**
 * Runs `step` until it succeeds, waiting between failures with a doubling
 * delay (from `firstDelayMs`, capped at `maxDelayMs`), and telling `onFailure`
 * about each one. For start-up steps that must succeed before a process takes
 * work, and whose failures are usually a dependency's blip (a dropped database
 * connection), so waiting beats exiting.
 */
export async function retryUntilDone<T>(step: () => Promise<T>, onFailure: (error: unknown, retryInMs: number) => void, firstDelayMs = 250, maxDelayMs = 5_000): Promise<T> {
  for (let delayMs = firstDelayMs; ; delayMs = Math.min(delayMs * 2, maxDelayMs)) {
    try {
      return await step()
    } catch (error) {
      onFailure(error, delayMs)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}
