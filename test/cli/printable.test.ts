import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createOutput, printable, table } from '../../src/cli/output.js'

const read = (stream: PassThrough): string => String(stream.read() ?? '')

describe("the CLI's human output of text users stored", () => {
  it('shows control characters as escapes, so a stored reason cannot drive the terminal', () => {
    // An ANSI sequence that clears the screen, a carriage return that overwrites the line, a bell, a C1 CSI.
    const reason = 'ok\u001b[2J\rforged line\u0007\u009b31m'
    expect(printable(reason)).toBe('ok\\u001b[2J\\rforged line\\u0007\\u009b31m')
    // A right-to-left override would show 'sell' written 'lles'-wise: the mark is shown, not obeyed.
    expect(printable('buy \u202elles\u202c')).toBe('buy \\u202elles\\u202c')
    const out = new PassThrough()
    const err = new PassThrough()
    const output = createOutput(false, { out, err })
    output.result({ reason }, () => table(['wallet', 'reason'], [['w1', reason]]))
    output.progress(`halted: ${reason}`)
    const printed = read(out) + read(err)
    // eslint-disable-next-line no-control-regex -- no control character may be left
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(printed).toContain('ok\\u001b[2J\\rforged line')
    // Lines stay lines.
    expect(printed.split('\n').length).toBe(4)
  })

  it('leaves --json output to JSON, which escapes control characters itself', () => {
    const out = new PassThrough()
    const output = createOutput(true, { out, err: new PassThrough() })
    output.result({ reason: 'a\u001b[2Jb' }, () => 'unused')
    expect(JSON.parse(read(out))).toEqual({ reason: 'a\u001b[2Jb' })
  })
})
