import { expect, it } from 'vitest'
import { ConfigError, configVariables, loadConfig } from '../../src/config.js'

it('keeps settled history 30 days unless RETENTION_DAYS says otherwise; 0 keeps everything', () => {
  expect(loadConfig({}).RETENTION_DAYS).toBe(30)
  expect(loadConfig({ RETENTION_DAYS: '7' }).RETENTION_DAYS).toBe(7)
  expect(loadConfig({ RETENTION_DAYS: '0' }).RETENTION_DAYS).toBe(0)
})

it.each(['-1', '1.5', 'forever'])('refuses RETENTION_DAYS=%s, naming the variable', (value) => {
  expect(() => loadConfig({ RETENTION_DAYS: value })).toThrow(ConfigError)
  expect(() => loadConfig({ RETENTION_DAYS: value })).toThrow(/^RETENTION_DAYS: /)
})

it('keeps 10 bps of a rebalancing run\'s buy budget for fees unless REBALANCE_FEE_RESERVE_BPS says otherwise, up to 1000', () => {
  expect(loadConfig({}).REBALANCE_FEE_RESERVE_BPS).toBe(10)
  expect(loadConfig({ REBALANCE_FEE_RESERVE_BPS: '0' }).REBALANCE_FEE_RESERVE_BPS).toBe(0)
  for (const value of ['-1', '2.5', '1001']) expect(() => loadConfig({ REBALANCE_FEE_RESERVE_BPS: value })).toThrow(/^REBALANCE_FEE_RESERVE_BPS: /)
})

it('refuses a session lifetime under twice the rotation lead: every new session would be due for rotation at once', () => {
  expect(() => loadConfig({ SESSION_LIFETIME_SECONDS: '7200' })).toThrow('SESSION_LIFETIME_SECONDS: must be at least twice SESSION_ROTATE_LEAD_SECONDS (21600), got 7200')
  expect(() => loadConfig({ SESSION_LIFETIME_SECONDS: '7200', SESSION_ROTATE_LEAD_SECONDS: '3601' })).toThrow(ConfigError)
  expect(loadConfig({ SESSION_LIFETIME_SECONDS: '7200', SESSION_ROTATE_LEAD_SECONDS: '3600' })).toMatchObject({ SESSION_LIFETIME_SECONDS: 7200, SESSION_ROTATE_LEAD_SECONDS: 3600 })
})

// A run waits up to 30 s (from its start) for earlier runs' orders to settle and then for its own
// sells before it places its last legs: with slots closer than twice that, those legs could go out
// when the next slot is due, whose run cancels them at once as an earlier run's working orders.
it('refuses a SCHEDULE_MIN_INTERVAL_SECONDS under 60, twice the 30 s a schedule run may wait before it places its last legs', () => {
  expect(loadConfig({}).SCHEDULE_MIN_INTERVAL_SECONDS).toBe(60)
  for (const value of ['1', '29', '30', '59']) {
    expect(() => loadConfig({ SCHEDULE_MIN_INTERVAL_SECONDS: value }), value).toThrow(ConfigError)
    expect(() => loadConfig({ SCHEDULE_MIN_INTERVAL_SECONDS: value }), value).toThrow(/^SCHEDULE_MIN_INTERVAL_SECONDS: must be at least 60 \(twice the 30 s a run may wait/)
  }
  expect(loadConfig({ SCHEDULE_MIN_INTERVAL_SECONDS: '60' }).SCHEDULE_MIN_INTERVAL_SECONDS).toBe(60)
  expect(loadConfig({ SCHEDULE_MIN_INTERVAL_SECONDS: '3600' }).SCHEDULE_MIN_INTERVAL_SECONDS).toBe(3600)
})

it('refuses a session lifetime the pre-live checks would refuse, or longer than the 30-day automation window', () => {
  expect(() => loadConfig({ SESSION_LIFETIME_SECONDS: '1800', SESSION_ROTATE_LEAD_SECONDS: '600' }))
    .toThrow('SESSION_LIFETIME_SECONDS: must be at least 3600: the pre-live checks refuse a delegation with less than an hour left')
  expect(() => loadConfig({ SESSION_LIFETIME_SECONDS: String(31 * 24 * 3600) })).toThrow(/^SESSION_LIFETIME_SECONDS: must be at most 2592000/)
  expect(loadConfig({ SESSION_LIFETIME_SECONDS: String(30 * 24 * 3600) }).SESSION_LIFETIME_SECONDS).toBe(30 * 24 * 3600)
})

it.each(['OPERATOR_TIMEOUT_MS', 'EVENT_STREAM_IDLE_TIMEOUT_MS', 'DATABASE_QUERY_TIMEOUT_MS', 'REDIS_COMMAND_TIMEOUT_MS', 'REDIS_SOCKET_TIMEOUT_MS', 'RECONCILE_INTERVAL_MS', 'RELAY_INTERVAL_MS', 'SWEEP_INTERVAL_MS', 'SHUTDOWN_TIMEOUT_MS'])(
  'refuses %s past what a Node timer holds (it would fire after 1 ms)', (name) => {
    expect(() => loadConfig({ [name]: '2147483648' })).toThrow(new RegExp(`^${name}: must be at most 2147473647 ms`))
    expect(loadConfig({ [name]: '2147473647' })[name as 'RELAY_INTERVAL_MS']).toBe(2147473647)
  })

it('refuses a REDIS_SOCKET_TIMEOUT_MS a worker\'s wait for jobs would outlast (every idle worker reconnected every wait)', () => {
  expect(() => loadConfig({ REDIS_SOCKET_TIMEOUT_MS: '14999' })).toThrow("REDIS_SOCKET_TIMEOUT_MS: must be at least 15000 ms: a worker's wait for jobs takes up to 10 s to be answered")
  expect(loadConfig({ REDIS_SOCKET_TIMEOUT_MS: '15000' }).REDIS_SOCKET_TIMEOUT_MS).toBe(15_000)
  expect(loadConfig({}).REDIS_SOCKET_TIMEOUT_MS).toBe(20_000)
})

it.each(['OPERATOR_URL', 'ALERT_WEBHOOK_URL', 'PRIVY_API_URL'])('refuses %s without an http(s) scheme and host', (name) => {
  for (const value of ['localhost:8787', 'sandbox:8787', 'ftp://example.com', 'mailto:ops@example.com']) {
    expect(() => loadConfig({ [name]: value }), value).toThrow(new RegExp(`^${name}: must be an http\\(s\\) URL with a host`))
  }
  expect(loadConfig({ [name]: 'https://example.com/hook' })[name as 'OPERATOR_URL']).toBe('https://example.com/hook')
})

it('refuses an OPERATOR_URL carrying a user or password, without echoing it', () => {
  for (const value of ['http://user:s3cret@127.0.0.1:8787', 'https://s3cret@operator.example.com']) {
    expect(() => loadConfig({ OPERATOR_URL: value }), value).toThrow(/^OPERATOR_URL: must not carry a user or password/)
    expect(() => loadConfig({ OPERATOR_URL: value }), value).not.toThrow(/s3cret/)
  }
  // The webhook's may: it goes out as Basic authentication.
  expect(loadConfig({ ALERT_WEBHOOK_URL: 'https://user:s3cret@hooks.example.com/x' }).ALERT_WEBHOOK_URL).toBe('https://user:s3cret@hooks.example.com/x')
})

it('the README documents every variable the configuration reads', async () => {
  const { readFile } = await import('node:fs/promises')
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const documented = new Set(readme.split('\n').filter((line) => line.startsWith('| `')).flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])))
  expect(configVariables.filter((name) => !documented.has(name))).toEqual([])
})

/** Every setting read as a whole number. */
const wholeNumbers = ['OPERATOR_TIMEOUT_MS', 'EVENT_STREAM_IDLE_TIMEOUT_MS', 'DATABASE_QUERY_TIMEOUT_MS', 'REDIS_COMMAND_TIMEOUT_MS', 'REDIS_SOCKET_TIMEOUT_MS', 'WORKER_CONCURRENCY', 'RECONCILE_INTERVAL_MS', 'RELAY_INTERVAL_MS',
  'SWEEP_INTERVAL_MS', 'RETENTION_DAYS', 'SCHEDULE_MIN_INTERVAL_SECONDS', 'REBALANCE_FEE_RESERVE_BPS', 'SHUTDOWN_TIMEOUT_MS', 'SESSION_LIFETIME_SECONDS', 'SESSION_ROTATE_LEAD_SECONDS', 'API_PORT', 'WORKER_HEALTH_PORT'] as const

// A blank value read as the number 0: REBALANCE_FEE_RESERVE_BPS=' ' turned the fee reserve off,
// API_PORT=' ' listened on a random port, RETENTION_DAYS=' ' kept history for ever, without a word.
it.each(wholeNumbers)('refuses %s written as anything but decimal digits (blank, hex, an exponent), naming the variable', (name) => {
  for (const value of [' ', '\t', '0x10', '1e3']) {
    expect(() => loadConfig({ [name]: value }), JSON.stringify(value)).toThrow(new RegExp(`^${name}: must be a whole number in decimal digits`))
  }
  expect(configVariables).toContain(name)
})

it('reads whole numbers with the spaces around them trimmed', () => {
  expect(loadConfig({ REBALANCE_FEE_RESERVE_BPS: ' 25 ', API_PORT: '9090\n' })).toMatchObject({ REBALANCE_FEE_RESERVE_BPS: 25, API_PORT: 9090 })
})

// node-postgres reads any other string as something: `db.internal:5432/deputy` connected to the
// local host's Postgres (database "432/deputy"), and one refused there was waited for, for ever,
// as a Postgres not up yet.
it('refuses a DATABASE_URL that is not a postgres:// or postgresql:// URL, naming the variable', () => {
  for (const value of ['db.internal:5432/deputy', 'localhost:5432', 'mysql://deputy@db/deputy', 'http://db:5432/deputy']) {
    expect(() => loadConfig({ DATABASE_URL: value }), value).toThrow(/^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/)
  }
  for (const value of ['postgres://postgres@127.0.0.1:5432/test', 'postgresql://deputy:secret@db.internal/deputy', 'postgres://deputy@localhost/deputy?host=%2Fvar%2Frun%2Fpostgresql']) {
    expect(loadConfig({ DATABASE_URL: value }).DATABASE_URL).toBe(value)
  }
})

// ioredis reads any other string as something: a scheme left as http:// made "http" the host, and
// the worker waited for ever for a Redis there, as for one not up yet.
it('refuses a REDIS_URL that is not a redis:// or rediss:// URL, naming the variable', () => {
  for (const value of ['http://cache:6379', 'cache:6379', 'nonsense', 'redis:/cache']) {
    expect(() => loadConfig({ REDIS_URL: value }), value).toThrow(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/)
  }
  for (const value of ['redis://127.0.0.1:6379', 'rediss://:secret@cache.internal:6380/2']) {
    expect(loadConfig({ REDIS_URL: value }).REDIS_URL).toBe(value)
  }
  expect(loadConfig({}).REDIS_URL).toBe('redis://127.0.0.1:6379')
})

it('refuses PGLITE_DIR, API_HOST and DEPUTY_MASTER_KEY given as spaces alone, naming the variable', () => {
  for (const name of ['PGLITE_DIR', 'API_HOST', 'DEPUTY_MASTER_KEY']) {
    expect(() => loadConfig({ [name]: '   ' }), name).toThrow(new RegExp(`^${name}: must not be blank`))
  }
  expect(loadConfig({ PGLITE_DIR: '/var/lib/deputy', API_HOST: '0.0.0.0' })).toMatchObject({ PGLITE_DIR: '/var/lib/deputy', API_HOST: '0.0.0.0' })
})

it('starts no worker health server unless WORKER_HEALTH_PORT is set; it listens on 127.0.0.1 unless WORKER_HEALTH_HOST says otherwise', () => {
  expect(loadConfig({}).WORKER_HEALTH_PORT).toBeUndefined()
  expect(loadConfig({}).WORKER_HEALTH_HOST).toBe('127.0.0.1')
  expect(loadConfig({ WORKER_HEALTH_PORT: '8081', WORKER_HEALTH_HOST: '0.0.0.0' })).toMatchObject({ WORKER_HEALTH_PORT: 8081, WORKER_HEALTH_HOST: '0.0.0.0' })
  expect(loadConfig({ WORKER_HEALTH_PORT: '1' }).WORKER_HEALTH_PORT).toBe(1)
  expect(loadConfig({ WORKER_HEALTH_PORT: '65535' }).WORKER_HEALTH_PORT).toBe(65535)
})

// A supervisor probes a fixed port: 0 (any free port) would leave it probing nothing.
it.each(['0', '65536', '-1', '80.5', 'http', ' '])('refuses WORKER_HEALTH_PORT=%j, naming the variable and the rule', (value) => {
  expect(() => loadConfig({ WORKER_HEALTH_PORT: value })).toThrow(ConfigError)
  expect(() => loadConfig({ WORKER_HEALTH_PORT: value })).toThrow(/^WORKER_HEALTH_PORT: must be (a port from 1 to 65535|a whole number in decimal digits)/)
})

it('refuses a blank WORKER_HEALTH_HOST, naming it', () => {
  expect(() => loadConfig({ WORKER_HEALTH_PORT: '8081', WORKER_HEALTH_HOST: '  ' })).toThrow(/^WORKER_HEALTH_HOST: must not be blank/)
})

it('reads SCHEDULE_MAX_LATENESS_MS: 10 minutes by default, 0 for no limit, else at least a minute', () => {
  expect(loadConfig({}).SCHEDULE_MAX_LATENESS_MS).toBe(600_000)
  expect(loadConfig({ SCHEDULE_MAX_LATENESS_MS: '0' }).SCHEDULE_MAX_LATENESS_MS).toBe(0)
  expect(loadConfig({ SCHEDULE_MAX_LATENESS_MS: '60000' }).SCHEDULE_MAX_LATENESS_MS).toBe(60_000)
  for (const value of ['1', '59999', '-1', '10m']) {
    expect(() => loadConfig({ SCHEDULE_MAX_LATENESS_MS: value }), value).toThrow(/^SCHEDULE_MAX_LATENESS_MS: must be/)
  }
})

it('lets a tenant make 6000 requests a minute unless API_RATE_LIMIT_PER_MINUTE says otherwise; 0 limits nothing', () => {
  expect(loadConfig({}).API_RATE_LIMIT_PER_MINUTE).toBe(6000)
  expect(loadConfig({ API_RATE_LIMIT_PER_MINUTE: '120' }).API_RATE_LIMIT_PER_MINUTE).toBe(120)
  expect(loadConfig({ API_RATE_LIMIT_PER_MINUTE: '0' }).API_RATE_LIMIT_PER_MINUTE).toBe(0)
  for (const value of ['-1', '2.5', 'lots', '1000001']) expect(() => loadConfig({ API_RATE_LIMIT_PER_MINUTE: value }), value).toThrow(/^API_RATE_LIMIT_PER_MINUTE: /)
})

it('refuses a client 20 failed admin or metrics token checks a minute unless TOKEN_FAILURES_PER_MINUTE says otherwise; 0 refuses none', () => {
  expect(loadConfig({}).TOKEN_FAILURES_PER_MINUTE).toBe(20)
  expect(loadConfig({ TOKEN_FAILURES_PER_MINUTE: '5' }).TOKEN_FAILURES_PER_MINUTE).toBe(5)
  expect(loadConfig({ TOKEN_FAILURES_PER_MINUTE: '0' }).TOKEN_FAILURES_PER_MINUTE).toBe(0)
  for (const value of ['-1', '2.5', 'many']) expect(() => loadConfig({ TOKEN_FAILURES_PER_MINUTE: value }), value).toThrow(/^TOKEN_FAILURES_PER_MINUTE: must be a whole number/)
})

it('believes the X-Forwarded-For of the proxies TRUST_PROXY lists by address or range, and of none unset', () => {
  expect(loadConfig({}).TRUST_PROXY).toBeUndefined()
  expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,loopback, fd00::/8, ::1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '192.168.1.7', 'loopback', 'fd00::/8', '::1'])
  // `true` and a /0 would believe a client that sends the header itself, a count of hops no proxy (Fastify 5); the others are not addresses.
  for (const value of ['true', '1', '10.0.0.0/33', '0.0.0.0/0', '::/0', '10.0.0.0/08', '::1/129', 'proxy.internal', '10.0.0.1,', '10.0.0.0/8/1', ' ']) {
    expect(() => loadConfig({ TRUST_PROXY: value }), value).toThrow('TRUST_PROXY: must be comma-separated addresses or CIDR ranges of the proxies in front of the API')
  }
})
