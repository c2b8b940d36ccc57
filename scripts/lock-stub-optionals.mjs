#!/usr/bin/env node
// The npm registry this project's machines reach serves each platform-specific
// optional package (rollup, esbuild, msgpackr-extract bindings) only for the
// platform it runs on, so `npm install` leaves the other platforms out of
// package-lock.json and `npm ci` then refuses the lock as out of sync.
// This adds a version-only stub for every optional dependency the lock names
// but does not list; `npm ci` skips a stub whose os/cpu does not match, and an
// optional package that cannot be fetched is skipped too.
// Run after any `npm install` that changes the lock: `node scripts/lock-stub-optionals.mjs`.
import { readFileSync, writeFileSync } from 'node:fs'

const file = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(file, 'utf8'))
const pkgs = lock.packages
let added = 0
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`
    const hoisted = `node_modules/${name}`
    if (pkgs[nested] || pkgs[hoisted]) continue
    const platform = /(darwin|linux|win32|freebsd|openbsd|netbsd|sunos|android|aix|openharmony)/.exec(name)?.[1]
    const cpu = /(arm64|x64|ia32|arm|ppc64|s390x|riscv64|loong64|mips64el)(?![a-z0-9])/.exec(name.replace(platform ?? '', ''))?.[1]
    const stub = { version: String(spec).replace(/^[\^~=]/, ''), optional: true }
    if (entry.dev) stub.dev = true
    if (platform) stub.os = [platform]
    if (cpu) stub.cpu = [cpu]
    pkgs[hoisted] = stub
    added++
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`lock-stub-optionals: added ${added} stub entries`)
