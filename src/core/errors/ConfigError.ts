/**
 * A bad setting: the message is one line per problem, `VARIABLE: rule`, and never quotes a secret
 * value. The worker and the API stop on it with exit code 2 (the CLI knows it by its name).
 */
export class ConfigError extends Error {
  override name = 'ConfigError'
}
