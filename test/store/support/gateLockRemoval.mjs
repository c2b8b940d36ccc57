/**
 * Preload (`--import`): this process's first removal of a `.lock` file (unlink, or rename away)
 * waits, having written `<lock>.gate-waiting`, until `<lock>.gate-go` exists. A test can so hold
 * a process between its reading of a lock and its removal of it, and run another in that gap.
 */
import { existsSync, writeFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'

let gated = false
const gate = async (path) => {
  if (gated || !String(path).endsWith('.lock')) return
  gated = true
  writeFileSync(`${path}.gate-waiting`, '')
  while (!existsSync(`${path}.gate-go`)) await new Promise((r) => setTimeout(r, 10))
}
const { unlink, rename } = fs
fs.unlink = async (path, ...rest) => { await gate(path); return unlink(path, ...rest) }
fs.rename = async (from, ...rest) => { await gate(from); return rename(from, ...rest) }
syncBuiltinESMExports()
