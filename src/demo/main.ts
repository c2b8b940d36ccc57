import { runDemo } from './runDemo.js'

process.exitCode = await runDemo()
