import { z } from 'zod'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const uuid = z.string().regex(UUID, 'must be a UUID')

/** A non-negative decimal as a string (JSON numbers lose precision); the domain checks ticks and lots. */
export const decimal = z.string().regex(/^(0|[1-9]\d*)(\.\d+)?$/, 'must be a decimal string such as "2000.5"')

export const isoTime = z.string().describe('ISO 8601 time')

/** How many rows a list answers at most (`limit`, default `LIST_LIMIT_DEFAULT`). */
export const LIST_LIMIT_DEFAULT = 100
/** Decimal digits only: `Number()` would also read `0x10`, `1e2`, `+5`, ` 5` and a blank as a count. */
export const listLimit = z.string().regex(/^\d+$/, 'must be a whole number in decimal digits').transform(Number)
  .pipe(z.number().min(1, 'must be at least 1').max(500, 'must be at most 500')).optional()
  .describe(`at most this many (1 to 500, default ${LIST_LIMIT_DEFAULT})`)

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('stable machine code, e.g. API.VALIDATION, CORE.VALIDATION, API.NOT_FOUND'),
    message: z.string(),
    field: z.string().optional().describe('the field that broke a rule (dotted path)'),
    rule: z.string().optional().describe('the rule it broke'),
    problems: z.array(z.object({ field: z.string(), rule: z.string() })).optional().describe('every problem, when there are several'),
  }),
}).meta({ id: 'Error' })

export const walletParams = z.strictObject({ walletId: uuid })
export const orderParams = z.strictObject({ orderId: uuid })
export const sessionParams = z.strictObject({ sessionId: uuid })
export const scheduleParams = z.strictObject({ scheduleId: uuid })

export const families = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] as const

/** Response schemas every route shares: errors are documented once. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const

// Loose: Fastify replaces request.headers with the parsed value, and every other header must survive.
export const idempotencyHeader = z.looseObject({
  'idempotency-key': z.string().min(1).max(255).optional().describe('Replays the stored response for the same key and body; another body with the same key is refused 422'),
})

/** An amount in a response: an exact decimal string (never a JSON number). */
export const amount = z.string().describe('exact decimal string')
