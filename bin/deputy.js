#!/usr/bin/env node
// The `deputy` command: runs the TypeScript CLI (src/cli.ts) through tsx, so
// there is no build step between editing and running.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli.ts')
