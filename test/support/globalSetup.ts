import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

const isLocal = (url: URL, port: number) => ['127.0.0.1', 'localhost'].includes(url.hostname) && Number(url.port || port) === port

/**
 * The suite talks to a real Postgres and a real Redis. When the default local
 * ones do not answer, `scripts/ensure-services.sh` starts them, or installs them
 * first from the distribution's packages (as `.ci/run` does); when that cannot
 * be done, stop at once and say how to get them, rather than failing 800 tests
 * one by one.
 */
export default async function setup(): Promise<void> {
  const redis = new URL(TEST_REDIS_URL)
  const redisPort = Number(redis.port || 6379)
  const postgres = new URL(TEST_DATABASE_URL)
  const pgPort = Number(postgres.port || 5432)
  const down = !(await answers(redis.hostname, redisPort)) || !(await answers(postgres.hostname, pgPort))
  if (down && isLocal(redis, 6379) && isLocal(postgres, 5432)) {
    console.log('Postgres or Redis does not answer on 127.0.0.1: starting (installing if needed) with scripts/ensure-services.sh')
    spawnSync('bash', ['scripts/ensure-services.sh'], { stdio: 'inherit' })
  }
  const missing = [
    ...(await answers(redis.hostname, redisPort)) ? [] : [`Redis at ${TEST_REDIS_URL}`],
    ...(await answers(postgres.hostname, pgPort)) ? [] : [`Postgres at ${TEST_DATABASE_URL}`],
  ]
  if (missing.length) {
    throw new Error(`The tests need ${missing.join(' and ')}. Run \`bash scripts/ensure-services.sh\` as root (it installs and starts both), ` +
      'or `docker compose up -d postgres redis`, or point TEST_DATABASE_URL / TEST_REDIS_URL at your own.')
  }
  // Each test file creates its own database; the one in the URL only has to exist to connect to.
  const created = spawnSync(process.execPath, ['scripts/ensure-test-db.mjs'], { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL } })
  if (created.status !== 0) throw new Error(`could not create the test database of ${TEST_DATABASE_URL} (scripts/ensure-test-db.mjs)`)
}
