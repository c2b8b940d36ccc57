/** Plain-text tables and step lines for the demo's report (stdout, for a person). */
import { errorMessage } from '../core/errors/errorMessage.js'

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`
  return [line(headers), `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`, ...cells.slice(1).map(line)].join('\n')
}

/** Trims a decimal string for display: `"1.500000000000000000"` → `"1.5"`. */
export function short(value: string | null | undefined, places = 6): string {
  if (value === null || value === undefined) return '-'
  const [whole, fraction = ''] = value.split('.')
  const trimmed = fraction.slice(0, places).replace(/0+$/, '')
  return trimmed ? `${whole}.${trimmed}` : whole!
}

export type StepResult = { name: string; ok: boolean; detail: string }

/** Runs one demo step: prints it, catches its failure, records whether it did what it said. */
export async function step(results: StepResult[], name: string, run: () => Promise<string>): Promise<boolean> {
  process.stdout.write(`• ${name} … `)
  try {
    const detail = await run()
    results.push({ name, ok: true, detail })
    process.stdout.write(`ok${detail ? ` (${detail})` : ''}\n`)
    return true
  } catch (error) {
    const detail = errorMessage(error)
    results.push({ name, ok: false, detail })
    process.stdout.write(`FAILED\n    ${detail}\n`)
    return false
  }
}
