/**
 * Runs every `bench/*.bench.ts` in alphabetical order, or only those whose file
 * name contains one of the words given on the command line:
 *   npm run bench            # all
 *   npm run bench -- signing # bench/signing.bench.ts
 * Each bench file default-exports `async function run(): Promise<void>`.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

type Bench = { default: () => Promise<void> }

const dir = dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort()

if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.map((filter) => `"${filter}"`).join(' or ')}`)
  process.exitCode = 1
}
for (const file of files) {
  console.log(`\n== ${file}`)
  const bench = (await import(pathToFileURL(join(dir, file)).href)) as Bench
  await bench.default()
}
