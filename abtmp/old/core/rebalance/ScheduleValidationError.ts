import { ValidationError } from '../errors/ValidationError.js'

/** One broken rule: the field (dotted path, e.g. `targets.ETH`) and the rule. */
export type ValidationProblem = { field: string; rule: string }

/**
 * Every problem in a schedule spec at once, so a user fixes them in one round
 * trip. `field` / `rule` name the first problem, so code that handles a plain
 * `ValidationError` still gets something precise; the code stays `CORE.VALIDATION`.
 */
export class ScheduleValidationError extends ValidationError {
  override name = 'ScheduleValidationError'
  readonly problems: readonly ValidationProblem[]

  constructor(problems: readonly ValidationProblem[]) {
    const [first = { field: 'schedule', rule: 'is invalid' }] = problems
    const rule = problems.length > 1 ? `${first.rule} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : first.rule
    super(first.field, rule, problems.map((p) => `${p.field}: ${p.rule}`).join('; '))
    this.problems = problems
  }

  /** Keeps the problem list when the error crosses a process (BullMQ failed reason, API body). */
  override toJSON(): { name: string; code: string; message: string; retryable: boolean; problems: ValidationProblem[] } {
    return { ...super.toJSON(), problems: [...this.problems] }
  }
}
