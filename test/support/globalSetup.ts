import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { connect } from 'node:net'
import pg from 'pg'

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

async function waitFor(host: string, port: number): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    if (await answers(host, port)) return true
    await new Promise((r) => setTimeout(r, 250))
  }
  return false
}

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0

/**
 * The suite talks to a real Postgres and a real Redis. When they are installed
 * but not running, start them; when they are missing, stop at once and say how
 * to get them, rather than failing 800 tests one by one.
 */
export default async function setup(): Promise<void> {
  const redis = new URL(TEST_REDIS_URL)
  const redisPort = Number(redis.port || 6379)
  if (!(await answers(redis.hostname, redisPort)) && onPath('redis-server') && ['127.0.0.1', 'localhost'].includes(redis.hostname)) {
    execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no'])
    await waitFor(redis.hostname, redisPort)
  }
  const postgres = new URL(TEST_DATABASE_URL)
  const pgPort = Number(postgres.port || 5432)
  if (!(await answers(postgres.hostname, pgPort)) && onPath('pg_ctlcluster') && existsSync('/etc/postgresql')) {
    const version = readdirSync('/etc/postgresql').sort().at(-1)
    if (version) spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' })
    await waitFor(postgres.hostname, pgPort)
  }
  const missing = [
    ...(await answers(redis.hostname, redisPort)) ? [] : [`Redis at ${TEST_REDIS_URL}`],
    ...(await answers(postgres.hostname, pgPort)) ? [] : [`Postgres at ${TEST_DATABASE_URL}`],
  ]
  if (missing.length) {
    throw new Error(`The tests need ${missing.join(' and ')}. Run \`bash .ci/run\` once (it installs and starts both), ` +
      'or `docker compose up -d postgres redis`, or point TEST_DATABASE_URL / TEST_REDIS_URL at your own.')
  }
  // Each test file creates its own database; the one in the URL only has to exist to connect to.
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL.replace(/\/[^/]*$/, '/postgres') })
  await admin.connect()
  try {
    const name = postgres.pathname.slice(1)
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name])
    if (!rowCount) await admin.query(`create database "${name.replaceAll('"', '""')}"`)
  } finally {
    await admin.end()
  }
}
