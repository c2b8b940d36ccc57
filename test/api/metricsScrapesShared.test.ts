/**
 * Scrapes of `/metrics` that arrive together share their refreshes: the one under way, and one
 * queued behind it for every scrape that came meanwhile (each sees values read after it arrived).
 * Chained one per scrape before, a burst of N scrapes ran N refreshes of six aggregate queries each.
 */
import { expect, it } from 'vitest'
import { metricsForFile } from './support/metricsForFile.js'

/** Each refresh reads the operator's clock once, for the sessions' expiry windows. */
let refreshes = 0
const file = metricsForFile({ operatorNow: () => { refreshes++; return Date.now() } })

it('ten scrapes at once cost two refreshes, each scrape answered in full; a later scrape refreshes again', async () => {
  const before = refreshes
  const bodies = await Promise.all(Array.from({ length: 10 }, async () => (await file.metrics.render()).body))
  expect(refreshes - before).toBe(2)
  for (const body of bodies) expect(body).toMatch(/^deputy_metrics_source_up\{source="postgres"\} 1$/m)
  await file.metrics.render()
  expect(refreshes - before).toBe(3)
})
