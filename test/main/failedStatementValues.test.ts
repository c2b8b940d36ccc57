import { DrizzleQueryError } from 'drizzle-orm/errors'
import { describe, expect, it } from 'vitest'
import { errorMessage } from '../../src/core/errors/errorMessage.js'
import { withStorableErrors } from '../../src/runtime/withStorableErrors.js'
import { scrubLogValue } from '../../src/scrubLogValue.js'

/** A failed statement as drizzle reports it, one of whose bound values (a user's text) spans lines. */
function failedStatement(): DrizzleQueryError {
  return new DrizzleQueryError('update orders set note = $1 where id = $2', ['first line\nsecond line secret-tail', 'order-1'], new Error('value too long'))
}

describe('a failed statement\'s bound values, one of them several lines long', () => {
  it('errorMessage keeps the statement and the reason, and no line of the values', () => {
    const message = errorMessage(failedStatement())
    expect(message).toBe('Failed query: update orders set note = $1 where id = $2: value too long')
  })

  it('a processor\'s error (BullMQ stores its message and stack) carries none of them', async () => {
    const processor = withStorableErrors(async () => { throw failedStatement() })
    const error = await processor().catch((e: unknown) => e as Error)
    expect(error.message).not.toContain('secret-tail')
    expect(error.stack).not.toContain('secret-tail')
    expect(error.stack).toContain('\n    at ')
  })

  it('a logged error carries none of them, and keeps its stack frames', () => {
    const logged = scrubLogValue(failedStatement()) as { message: string; stack: string }
    expect(JSON.stringify(logged)).not.toContain('secret-tail')
    expect(logged.stack).toContain('\n    at ')
  })
})
