// The entry of the schedule-timing thread (`startTimingChecker`): this thread runs TypeScript
// through tsx as the process does (bin/deputy.js registers it on the main thread only).
import { register } from 'tsx/esm/api'

register()
await import('./timingThreadMain.ts')
